"""Views of a photo for the expression reader: each group of a page's ink cut out as the reader reads it
(``group_crop``: narrowed to its strokes' cores, upscaled, deblurred when blurred), a photo cleaned at the writing
size the clean-up is made for (``clean_at_writing_size``), and a photo of one expression seen as a page would see it
(``photo_views``), and whether a photo read as one expression looks like a page (``looks_like_page``). Pixels only:
nothing here reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.tree import Box
from inkmath.equation.photo import find as page_find
from inkmath.equation.photo.clean import CleanPage, clean_page, map_box, with_learned_ink
from inkmath.equation.photo.find import FoundExpressions, InkGroup, find_expressions, group_image

# each group's ink is read narrowed to its strokes' cores (page_find.group_image) from the darkness before the
# clean-up's smoothing (CleanPage.sharp_dark; docs/decisions/page-reading.md) ...
READ_UPSCALE = 2  # ... upscaled this many times (smoother edges than the page's pixels)
# blurred photos: one moved (edges under READ_MOTION as steep across as along) is narrowed on each stroke's ridge; one
# blurred over READ_DEBLUR_FROM px (moved: READ_DEBLUR_MOVED_FROM) is read deblurred (docs/decisions/page-reading.md)
READ_MOTION = 0.85
READ_DEBLUR_FROM = 0.3
READ_DEBLUR_MOVED_FROM = 1.4
# a deblurred crop in over this many times the pieces of the crop as it is (a pencil's grain) is read as it is
# (validation crops measure at most 1.5) (docs/decisions/page-reading.md)
READ_DEBLUR_PIECES = 2.0
# a fine pen's page is read not narrowed: narrowing breaks its ink into over READ_BREAKS times the pieces, or leaves
# strokes under READ_FINE_PEN px wide (a grainy pencil page breaks 1.51x) (docs/decisions/page-reading.md)
READ_BREAKS = 1.6
READ_FINE_PEN = 2.2
# a wide (felt) pen's page, its narrowed strokes over this share of its typical mark, has each narrowed crop eroded
# by one px: felt pens 126 -> 136 of 289 right (docs/decisions/page-reading.md)
READ_WIDE_PEN = 0.13
# px: a page whose typical mark is over LARGE_WRITING after the clean-up (a close-up) is cleaned again shrunk to
# WRITING_SIZE, the size the clean-up's pixel sizes are set for (docs/decisions/page-clean-up.md)
LARGE_WRITING = 64.0
WRITING_SIZE = 40.0
# px: a page whose typical mark is under SMALL_WRITING is cleaned again enlarged towards WRITING_SIZE by at most
# MAX_ENLARGE, unless its ink then breaks into over ENLARGED_PIECES times the pieces (docs/decisions/page-reading.md)
SMALL_WRITING = 22.0
MAX_ENLARGE = 1.6
ENLARGED_PIECES = 4.0

# a photo whose ink, cleaned as a photo of one expression is, lies on at least PAGE_LINES separate lines of writing
# looks like a page (a photo of one expression: one line, or two with a note under it); the web page then offers to
# read it as a page
PAGE_LINES = 3

@dataclass
class PageCrop:
    """What a page expression was read from: the image the expression reader read (white ink on black) and the 3x3
    homography from its pixels to the photo's (as shown), so that it can be read again without the photo
    (``read_again``: a user's correction of one of its symbols)."""

    image: np.ndarray
    to_photo: np.ndarray
    photo_size: tuple[int, int]  # (width, height) of the photo as shown

    def box(self, x0, y0, x1, y1) -> list[float]:
        """A box in the crop's pixels -> the axis-aligned box around its image in the photo's pixels."""
        return map_box(self.to_photo, self.photo_size, (x0, y0, x1, y1))


def clean_at_writing_size(photo: np.ndarray, shown: tuple[int, int] | None = None, *,
                          find: bool = True, ink_model=None) -> tuple[CleanPage, float]:
    """(the photo cleaned at the writing size the clean-up is made for, the share of its usual working size it was
    cleaned at): a close-up is cleaned again shrunk (``LARGE_WRITING``), small writing enlarged unless that finds
    mostly noise (``SMALL_WRITING``). ``shown``, ``find``, ``ink_model``: as for ``clean_page``. The scale is chosen
    on the thresholds' ink; a learned extractor then reads the ink at that scale, the one it was trained at
    (``training.recipes.ink_extractor``): at another it mistakes a squared sheet's lines for writing."""
    page, shrink = clean_page(photo, shown, find=find), 1.0
    size = page_find.typical_size(page.ink)
    if size > LARGE_WRITING:  # a close-up: cleaned again at the writing size the clean-up is made for
        shrink = WRITING_SIZE / size
        page = clean_page(photo, shown, find=find, shrink=shrink)
    elif 0 < size < SMALL_WRITING:  # small writing: cleaned again enlarged, unless that finds mostly noise
        grow = min(MAX_ENLARGE, WRITING_SIZE / size)
        enlarged = clean_page(photo, shown, find=find, shrink=grow)
        if ink_pieces(enlarged.ink) <= ENLARGED_PIECES * ink_pieces(page.ink):
            page, shrink = enlarged, grow
    if ink_model is not None:
        page = with_learned_ink(page, ink_model)
    return page, shrink


def measure_narrowing(page: CleanPage, found: FoundExpressions) -> float:
    """Set whether ``found``'s groups are read narrowed (not on a fine pen's page: ``READ_BREAKS``,
    ``READ_FINE_PEN``) and how wide its narrowed strokes are; returns that width (px)."""
    breaks, width = page_find.narrowing(found, page.sharp_dark(), ridge_width(page))
    found.narrow, found.core_width = breaks <= READ_BREAKS and width >= READ_FINE_PEN, width
    return width


def photo_views(photo: np.ndarray) -> list[PageCrop]:
    """A photo of one expression (a phone's frame round it) cleaned as a page photo is (``clean_at_writing_size``,
    no sheet edge looked for), as the expression reader may read it, white ink on black: its ink as one group of the
    page is read (``group_crop``: narrowed to its strokes' cores, from darkness enlarged ``READ_UPSCALE`` times,
    deblurred when blurred), then the cleaned ink as it is. Each with its map to the photo's pixels. [] where the
    cleaner finds no paper or no ink."""
    try:
        page, _ = clean_at_writing_size(photo, find=False)
        found = find_expressions(page.ink) if page.ink.any() else None
    except InkmathError:
        return []
    if found is None or not found.groups:
        return []
    boxes = [g.box for g in found.groups]
    whole = InkGroup(Box(min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes),
                         max(b.y1 for b in boxes)), sorted(c for g in found.groups for c in g.components))
    measure_narrowing(page, found)
    crop, (ox, oy), f = group_crop(page, found, whole)
    to_page = np.array([[1.0 / f, 0.0, ox], [0.0, 1.0 / f, oy], [0.0, 0.0, 1.0]])  # crop pixels -> the page's
    return [PageCrop(crop, page.to_photo @ to_page, page.photo_size),
            PageCrop(page.ink, page.to_photo, page.photo_size)]


def looks_like_page(photo: np.ndarray) -> bool:
    """True when ``photo`` (an RGB or grey array) is a photo or scan whose ink, cleaned as ``photo_views`` cleans a
    photo of one expression, lies on at least ``PAGE_LINES`` separate lines of writing (``find.text_lines``): a page,
    better read by the page reader than as one expression. False for a rendering, and where no paper or ink is found.
    Costs one clean-up (about 0.3 s for a 1512 x 2016 page photo on one core)."""
    from inkmath.preprocess import is_photo

    if not is_photo(photo):
        return False
    try:
        page, _ = clean_at_writing_size(photo, find=False)
        return bool(page.ink.any()) and page_find.text_lines(find_expressions(page.ink)) >= PAGE_LINES
    except InkmathError:
        return False


def ridge_width(page: CleanPage) -> float:
    """The page px within which a stroke's own ridge narrows it (``page_find.READ_RIDGE``) on a photo blurred by
    motion (``READ_MOTION``); 0.0 on any other: narrowed against the darkest ink nearby."""
    return page_find.READ_RIDGE if page.motion() < READ_MOTION else 0.0


def ink_pieces(ink: np.ndarray) -> int:
    """The number of ink components (8-connected) of an ink image."""
    import cv2

    return cv2.connectedComponents(ink, connectivity=8)[0] - 1


def group_crop(page: CleanPage, found: FoundExpressions, g: InkGroup, smooth: float = 0.0,
               upscale: int | None = None) -> tuple[np.ndarray, tuple[int, int], float]:
    """(the image the expression reader reads for group ``g``: its ink alone, white on black; (x, y) of its corner
    in the page's pixels; its pixels per page pixel). ``smooth``, ``upscale`` (default ``READ_UPSCALE``): see
    ``page_find.group_image``."""
    if found.narrow:
        upscale = upscale or READ_UPSCALE
        dark = page.sharp_dark()
        start = READ_DEBLUR_MOVED_FROM if page.motion() < READ_MOTION else READ_DEBLUR_FROM
        deblur = page.blur() if start and page.defocus() > start else 0.0
        ridge = ridge_width(page)
        img, corner = group_image(found, g, dark=dark, upscale=upscale, smooth=smooth, deblur=deblur, ridge=ridge)
        if deblur:
            plain, _ = group_image(found, g, dark=dark, upscale=upscale, smooth=smooth, ridge=ridge)
            if ink_pieces(img) > READ_DEBLUR_PIECES * ink_pieces(plain):
                img = plain
        if found.core_width > READ_WIDE_PEN * found.unit:  # a wide pen
            import cv2

            img = cv2.erode(img, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3)))
        return img, corner, float(upscale)
    img, corner = group_image(found, g)
    return img, corner, 1.0


