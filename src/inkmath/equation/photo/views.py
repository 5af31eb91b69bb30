"""Views of a photo for the expression reader: each group of a page's ink cut out as the reader reads it
(``group_crop``: narrowed to its strokes' cores, upscaled, deblurred when blurred), a photo cleaned at the writing
size the clean-up is made for (``clean_at_writing_size``), and a photo of one expression seen as a page would see it
(``photo_views``). Pixels only: nothing here reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.tree import Box
from inkmath.equation.photo import find as page_find
from inkmath.equation.photo.clean import CleanPage, clean_page, map_box
from inkmath.equation.photo.find import FoundExpressions, InkGroup, find_expressions, group_image

# each group's ink is read narrowed to its strokes' cores (page_find.group_image) from the darkness before the
# clean-up's smoothing (CleanPage.sharp_dark; docs/decisions/page-reading.md) ...
READ_UPSCALE = 2  # ... upscaled this many times (smoother edges than the page's pixels)
# Blurred photos (the page generator blurs by a Gaussian of sigma 0-1.2 px; docs/decisions/page-reading.md, docs/decisions/page-reading.md):
# - one blurred by motion, its ink's edges at most READ_MOTION as steep across the direction where they are least
#   steep as along the steepest (``CleanPage.motion``), is narrowed against each stroke's own ridge
#   (``page_find.READ_RIDGE``). Validation pages: the 120 of seed 0 and the 24 of seeds 40-41 as made measure
#   0.87-0.95; under motion 3 / 5 px / 5 px down / 9 px, 15 / 24 / 24 / 24 of 24 measure under 0.85; defocused 5 of 48.
# - one blurred, measured blurred by over READ_DEBLUR_FROM px where the edges are steepest (``CleanPage.defocus``),
#   is read from its darkness deblurred by its measured blur (Richardson-Lucy, ``page_find.deblurred``). The same
#   pages measure at most 1.11 as made, at most 1.31 moved (9 px), 1.50-1.85 under defocus sigma 2.5; a quarter of
#   seed 0's pages under 0.3. Set for photos blurred beyond the generator's at first (1.4), then chosen on validation
#   pages of seeds 0 + 18 (1,662 expressions; right at 1.4: 902): 0.9 / 0.6 / 0.3 / every page 908 / 929 / 931 / 931;
#   at 0.3 the blur taken x0.8 / x1.2 919 / 928, 5 / 20 Richardson-Lucy steps 925 / 927. Seed 19 (check): 447 -> 458
#   (docs/decisions/page-reading.md). A moved photo (``READ_MOTION``) is deblurred from READ_DEBLUR_MOVED_FROM
#   only: a Gaussian is not its blur (photo variants of seed 40 deblurred from 0.3: moved 5 px 41 -> 35 right of 78,
#   9 px 16 -> 7, and a moved close-up's crops read in 40 s instead of 8)
READ_MOTION = 0.85
READ_DEBLUR_FROM = 0.3
READ_DEBLUR_MOVED_FROM = 1.4
# A group's deblurred crop in over READ_DEBLUR_PIECES times the pieces of its crop as it is (a pencil's grain, large
# writing's texture: deblurring makes holes of the grains) is read as it is. Generated validation pages' crops
# (seed 0, 40 pages, 280): at most 1.5, 99 % under 1.13; photo variants of seeds 40-41 cut inside the sheet (larger
# writing): 3-9 on a tenth of their crops, one page's ten crops read 170 s instead of 10, into garbage
READ_DEBLUR_PIECES = 2.0
# A page written with a fine pen is read from the grouping's ink as it is, not narrowed: one whose narrowing cuts its
# ink into over READ_BREAKS times as many pieces, or leaves its strokes under READ_FINE_PEN px wide
# (``page_find.narrowing``). Generated validation pages of the default pen measure at most 1.29 and at least 2.48 px
# (seed 0's 161 pages); of a fine pen (0.03-0.045 symbol heights) 1.0-2.2 and 1.5-3.1 px. A grainy pencil page of
# seed 88 breaks 1.51 times and reads better narrowed, hence 1.6 (docs/decisions/page-reading.md)
READ_BREAKS = 1.6
READ_FINE_PEN = 2.2
# A page written with a wide pen (a felt pen), its narrowed strokes over READ_WIDE_PEN of its typical mark wide
# (``page_find.narrowing``), has each narrowed crop eroded by one crop pixel: its symbols touch less. Validation pages
# (right / expressions): the generator's pen, seed 0 626 / 1,172 (the same; +3 -3) and seed 88 444 -> 448 / 819 (+7 -3);
# pens 0.1-0.13 and 0.13-0.18 of a symbol's height (seed 84) 144 -> 147 and 126 -> 136 / 289. At 0.15: 626, 446, 146,
# 134 (docs/decisions/page-reading.md)
READ_WIDE_PEN = 0.13
# px: a page whose typical mark (``page_find.typical_size``) is larger than this after the clean-up (a close-up of a
# few lines) is cleaned again, its working image shrunk so that its marks measure ``WRITING_SIZE``: the clean-up's
# and the grouping's pixel sizes (paper lines up to ``page_clean.LINE_MAX_THICK`` thick, ...) are set for the
# generator's writing. Generated validation pages measure up to 50.5 px (seed 0); of 975 more (other seeds, crowded
# and labelled pages, photo variants) one regular page measures 70 (read the same either way) and the variants cut
# close to the writing up to 85.5; the 16 regular ones at 49-70 px read 62 of 94 as they are and 57 shrunk (the
# losses at 49-54), so regular pages are left alone. WRITING_SIZE chosen on close-ups of validation pages
# (``page_variants.py --variants closeup``, seeds 40 and 41, 71 expressions): 34 / 40 / 48 px read 35 / 35 / 34 right
# (in order 19 / 20 / 19 pages of 24), cleaned once 30 (17). docs/decisions/page-clean-up.md
LARGE_WRITING = 64.0
WRITING_SIZE = 40.0
# px: a page whose typical mark is under SMALL_WRITING (writing about 3 mm high: strokes 1-2 px at the working size,
# their faint parts lost) is cleaned again enlarged towards WRITING_SIZE by at most MAX_ENLARGE, unless its ink then
# falls into over ENLARGED_PIECES times as many components (a pencil page's grain and grid: its marks measure small
# because they are noise). Validation pages written at 22 px a symbol (seed 87, 24 pages, 178 expressions; typical
# marks 10-27 px): 68 right, 169 matched, 185 found; enlarged by up to 2x / 1.6x 74 / 74 right, 176 / 178 matched,
# 177 / 179 found, 1.28x / 1.04x the time. Fine-pen pages (seed 84, 40): 110 -> 114 / 115 right. Enlarged, real
# writing keeps 1.01-1.8x (one page 3.3x) its components, noise pages gain 7-12x (one page: 403 boxes, 85 s). Ordinary
# pages measure 24-51 px (seed 0); two of seed 88's measure 20-20.5 and read 5 / 3 right against 4 / 3
# (docs/decisions/page-reading.md)
SMALL_WRITING = 22.0
MAX_ENLARGE = 1.6
ENLARGED_PIECES = 4.0


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
                          find: bool = True) -> tuple[CleanPage, float]:
    """(the photo cleaned at the writing size the clean-up is made for, the share of its usual working size it was
    cleaned at): a close-up is cleaned again shrunk (``LARGE_WRITING``), small writing enlarged unless that finds
    mostly noise (``SMALL_WRITING``). ``shown``, ``find``: as for ``clean_page``."""
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


