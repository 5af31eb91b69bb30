"""Page photo -> ink image: find the sheet, undo the perspective, flatten the light, remove ruled/squared/margin lines.

    photo = load_photo("page.jpg")          # RGB uint8, EXIF orientation applied, JPEGs decoded near working size
    page = clean_page(photo)                # CleanPage: sheet (RGB), flat (grey, paper 255), ink (255 on 0)
    page.box_to_photo((x0, y0, x1, y1))     # a box on the sheet -> the photo's pixels

Everything runs at a working size (``WORK_SIDE`` pixels on the photo's long side): a 24-megapixel photo is downscaled
first, so the cost does not grow with the camera (a small one is enlarged, at most ``MAX_UPSCALE``x). The ink image is
what ``segment_image`` takes with ``ink="white"``: the expression reader stays one code path for drawn, photographed
and paged ink.

Steps, each a small function: sheet quadrilateral (``page_sheet``: bright, low-texture region after a white balance;
the whole frame when the page fills it, less what lies off a sheet that runs out of the frame) -> perspective warp
(``page_sheet``) -> background estimate at 1/8 scale (closing, then blur) and division (shadows, uneven light) ->
darkness -> deskew (projection profile; a page filling the frame turned further: its paper lines' slope) -> long thin
horizontal and vertical structures (ruled, squared, margin lines) removed, except where ink is darker than the line or
a stroke crosses it -> hysteresis threshold (pencil's faint edges kept where they touch a darker core).
"""

from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.photo.sheet import find_sheet, off_sheet, order_corners, outside_frame, resized, warp_sheet
from inkmath.imageio import eight_bit_image, has_transparency, read_file, unreadable_because
from inkmath.preprocess import eight_bit

# Thresholds, chosen on pages generated from the CROHME 2011-2013 (validation) ink by inkmath.equation.synth.pages;
# see docs/decisions/page-reading.md for the measurements.
WORK_SIDE = 2000  # px on the photo's long side after the first downscale
MAX_UPSCALE = 2.0  # a smaller photo is enlarged (cubic) towards WORK_SIDE by at most this factor: 0.5x and 0.6x
# shrunk validation pages (seeds 40-42, page-clean-up.md) read 149 expressions right instead of 128 of 328
BACKGROUND_STEP = 8  # the light is estimated at 1/8 of the sheet's size
BACKGROUND_KERNEL = 9  # closing kernel at that scale (72 px at the working size: wider than a stroke, 2 symbols)
INK_LOW = 38  # darkness (0-255, after flattening) where faint ink (pencil's edges) may start
INK_LOW_SHARE = 0.3  # ... and from this share of the page's strong ink darkness
INK_HIGH_SHARE = 0.45  # a stroke must reach this share of the page's strong ink darkness (its 99.5th percentile)
INK_HIGH_MIN = 60  # ... and at least this darkness
# a component of at most DOT_AREA px reaching DOT_SHARE of the stroke threshold (and the floor) is ink, a dot: a blur
# lowers a dot's peak more than a line's (seeds 0 / 18 / 19: +8 -1) (docs/decisions/page-clean-up.md)
DOT_AREA = 24
DOT_SHARE = 0.7
# ... and whose box is at most DOT_SIDE px on its longer side: a paper line's faint edge is a sliver 10-23 px long
# (docs/decisions/page-clean-up.md)
DOT_SIDE = 8
# ... unless they would be over DOT_MOST of the components found without them: then they are paper lines not found
# (docs/decisions/page-clean-up.md)
DOT_MOST = 0.5
# a learned extractor's component of at most this many px is ink only where the thresholds find ink too
# (learned_ink; docs/decisions/page-clean-up.md)
LEARNED_SPECK = 60
# ... and on a sheet whose paper lines were found, a dash (at most LEARNED_DASH px thick and twice as long) that the
# thresholds see no ink in is a piece of a paper line: a squared sheet's lines survive the extractor in dashes where
# the photo darkens them (docs/decisions/page-clean-up.md)
LEARNED_DASH = 10
LINE_SPAN = 0.3  # a ruled (or margin) line spans at least this share of the sheet's width (height) ...
LINE_FULL_SPAN = 0.6  # ... and one shorter than this must be fainter than ink: a dark one is a fraction bar
LINE_DARK_FAMILY = 3  # ... a longer one as dark as ink is a paper line only among this many lines across the sheet:
# on a plain sheet a long fraction bar was erased (large writing: 114 / 33 -> 115 / 34; docs/decisions/page-clean-up.md)
LINE_KERNEL = 0.03  # opening kernel that finds line pieces: this share of the sheet's side (short: lines tilt)
LINE_MAX_THICK = 9  # px: thicker long runs are not paper lines
LINE_INK_RATIO = 1.6  # a line pixel this much darker than the line's own darkness is ink drawn over it
MARGIN_GAP = 5  # px: gaps in a red margin line's run bridged before it is looked for (JPEG leaves its red in pieces)
LINE_LOW = 25  # darkness from which a squared sheet's pale lines are looked for: on an underexposed pencil page they
# (median darkness 31, under INK_LOW) were found in pieces and their crossings became 520 specks (docs/decisions/page-clean-up.md)
GRID_LINES = 5  # pale lines in each direction that make a squared sheet
PALE_GRID_SHARE = 0.5  # ... whose lines are removed from LINE_LOW when the ink-level search found fewer than this share
EDGE = 0.012  # ink components reaching this close to the sheet's edge (share of its long side) are dropped ...
# ... unless the photo's frame is the sheet's edge (no sheet found: a crop) and the component is no larger than
# FRAME_CUT_SIZE times the median size of the ink inside: writing cut by the frame, not the table or a shadow along it
# (5 % of the maths lines of real-looking crops start within EDGE of the frame; docs/decisions/page-clean-up.md)
FRAME_CUT_SIZE = 3.0
MAX_SKEW = 4.0  # degrees searched by the deskew
SKEW_STEP = 0.25
# a photo with no sheet edge is turned by its paper lines' median angle beyond MAX_SKEW (Hough at LINE_SKEW_SIDE px,
# within LINE_SKEW_MAX degrees, LINE_SKEW_SEGMENTS agreeing) (docs/decisions/page-reading.md)
LINE_SKEW_MAX = 15.0
LINE_SKEW_SIDE = 1000
LINE_SKEW_SEGMENTS = 3
WHOLE_TURN_FROM = MAX_SKEW  # degrees: a page turned further is turned on an image grown to hold all of it
MAX_PHOTO_PIXELS = 100_000_000  # refuse larger photos before decoding them
MIN_LIGHT = 45  # median brightness (0-255) of the sheet below which the photo is too dark to read
PAPER_MIN_BRIGHTNESS = 110  # median grey of a sheet (after the warp) below which there is no paper in the photo
# share of dark pixels on a "sheet" above which it is not a page of writing: 0.25 refused squared paper whose grid is as
# dark as pencil (0.27-0.33 on 5 of 160 real-looking crops); random clutter measures 0.48 (docs/decisions/page-clean-up.md)
PAPER_MAX_INK = 0.4
# the photo's blur from its ink's steepest edges (BLUR_EDGE_PERCENTILE-th percentile where ink reaches BLUR_INK_MIN):
# sigma on the BLUR_FIT line, fitted to 120 validation pages, residual sd 0.165 px (docs/decisions/page-reading.md)
BLUR_EDGE_PERCENTILE = 90
BLUR_INK_MIN = 40
BLUR_FIT = (3.40, -8.39)
BLUR_DIRECTIONS = 8


@dataclass
class CleanPage:
    """The cleaned page. Images are at the sheet's working size; ``to_photo`` maps sheet pixels to photo pixels."""

    photo_size: tuple[int, int]  # (width, height) of the photo as shown (EXIF orientation applied)
    sheet: np.ndarray  # RGB, warped and deskewed
    flat: np.ndarray  # grey, light flattened: paper 255
    ink: np.ndarray  # uint8: 255 ink, 0 paper; paper lines removed
    to_photo: np.ndarray  # 3x3 homography: sheet (x, y, 1) -> photo
    found_sheet: bool  # False when the page filled the frame (or no edge was found): the whole photo is the sheet
    rotation: int = 0  # degrees the sheet was turned clockwise to read it (0, 90, 180, 270)
    lines_removed: int = 0
    notes: list[str] = field(default_factory=list)
    dark: np.ndarray | None = None  # uint8 darkness of the flattened page (0 paper), same pixels as ``ink``
    outside: np.ndarray | None = None  # bool: what is not the sheet inside the image (``ink_mask``'s ``outside``)
    _sharp: np.ndarray | None = field(default=None, repr=False, compare=False)
    _steep: tuple[float, float, float] | None = field(default=None, repr=False, compare=False)

    def blur(self) -> float:
        """The photo's blur as a Gaussian's sigma in the sheet's pixels, measured on the ink (``measured_blur``)."""
        return measured_blur(self._steepness()[0])

    def defocus(self) -> float:
        """The blur in the direction the ink's edges are steepest (a Gaussian's sigma, sheet pixels): a defocused photo
        measures as much as ``blur``, one blurred by motion less."""
        return measured_blur(self._steepness()[2])

    def motion(self) -> float:
        """How evenly blurred the ink is: the steepness of its edges in the direction where they are least steep over
        that where they are steepest (1.0: the same in every direction; 0.87-0.95 on generated pages, under 0.85 on
        most of them moved 5 px or more; 1.0 without ink)."""
        _, least, steepest = self._steepness()
        return least / steepest if steepest > 0 else 1.0

    def _steepness(self) -> tuple[float, float, float]:
        if self._steep is None:
            self._steep = edge_steepness(self.sharp_dark(), self.ink)
        return self._steep

    def sharp_dark(self) -> np.ndarray:
        """The darkness before ``dark``'s smoothing (255 - ``flat``): finer detail for reading a group's ink, where
        ``dark``'s smoothing (it keeps faint strokes whole for grouping) merges the loops of small symbols."""
        if self._sharp is None:
            self._sharp = cv2.bitwise_not(self.flat)
        return self._sharp

    def box_to_photo(self, box) -> list[float]:
        """Axis-aligned box in photo pixels around the image of a sheet box (its four corners mapped)."""
        return map_box(self.to_photo, self.photo_size, box)


def map_box(matrix: np.ndarray, size: tuple[int, int], box) -> list[float]:
    """Axis-aligned box around the image of ``box`` (x0, y0, x1, y1) under the 3x3 homography ``matrix`` (its four
    corners mapped), clipped to an image of ``size`` (width, height)."""
    x0, y0, x1, y1 = (float(v) for v in box)
    pts = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    q = cv2.perspectiveTransform(pts[None], np.asarray(matrix, np.float64))[0]
    w, h = size
    return [round(float(np.clip(q[:, 0].min(), 0, w)), 1), round(float(np.clip(q[:, 1].min(), 0, h)), 1),
            round(float(np.clip(q[:, 0].max(), 0, w)), 1), round(float(np.clip(q[:, 1].max(), 0, h)), 1)]


# ------------------------------------------------------------------------------------------------ loading
def load_photo(source, max_side: int = WORK_SIDE, *, max_pixels: int | None = None,
               name: str | None = None) -> tuple[np.ndarray, tuple[int, int]]:
    """(RGB uint8 image, (width, height) of the photo as shown) from a path, bytes or an array.

    EXIF orientation is applied. A JPEG larger than needed is decoded at 1/2, 1/4 or 1/8 of its size (the DCT's own
    downscale, much faster than decoding every pixel), keeping at least ``max_side`` on its long side.
    """
    if isinstance(source, np.ndarray):
        img = _as_rgb(source)
        return img, (img.shape[1], img.shape[0])
    from PIL import Image, ImageOps, UnidentifiedImageError

    name = name or (str(source) if isinstance(source, (str, Path)) else "image")
    max_pixels = max_pixels or MAX_PHOTO_PIXELS
    if isinstance(source, (str, Path)):
        data = read_file(source)  # a missing path, a folder, an unreadable file: one line naming it
    else:
        data = bytes(source)
    if not data:
        raise InkmathError(f"{name}: the file is empty (0 bytes); give a JPEG or PNG photo of the page")
    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            if w * h > max_pixels:
                raise InkmathError(f"{name}: {w}x{h} pixels is too large (limit {max_pixels:,}); scale it down")
            orientation = im.getexif().get(0x0112, 1)
            shown = (h, w) if orientation in (5, 6, 7, 8) else (w, h)
            if im.format == "JPEG" and max(w, h) > 2 * max_side:
                im.draft("RGB", (max(w * max_side // max(w, h), 1), max(h * max_side // max(w, h), 1)))
            im.load()
            im = ImageOps.exif_transpose(im)
            im = eight_bit_image(im)
            # a transparent background is paper: composited onto white as the expression reader's decoder does
            rgb = _as_rgb(np.asarray(im.convert("RGBA"))) if has_transparency(im) else np.asarray(im.convert("RGB"))
    except InkmathError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InkmathError(f"{name}: the image is too large (a decompression bomb?); scale it down") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InkmathError(f"{name}: not a readable image ({unreadable_because(e)}); give a JPEG or PNG photo of the "
                           "page") from None
    return rgb, shown


def _as_rgb(image: np.ndarray) -> np.ndarray:
    img = np.asarray(image)
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    if img.ndim != 3 or img.shape[2] not in (3, 4) or min(img.shape[:2]) == 0:
        raise InkmathError(f"Expected a grey or colour photo, got an array of shape {img.shape}")
    img = eight_bit(img)
    if img.shape[2] == 4:
        a = img[:, :, 3:4].astype(np.float32) / 255.0
        img = (img[:, :, :3] * a + 255.0 * (1 - a) + 0.5).astype(np.uint8)
    return np.ascontiguousarray(img)


# ------------------------------------------------------------------------------------------------ the sheet's edge
def _edge_px(shape) -> int:
    """``EDGE`` of an image's long side, in pixels (at least 3)."""
    return max(3, int(EDGE * max(shape[:2])))


# ------------------------------------------------------------------------------------------------ light and ink
def flatten(sheet_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(grey with the light flattened, paper 255; darkness 0-255, a red margin line's pixels set to 0)."""
    grey = cv2.cvtColor(sheet_rgb, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    small = cv2.resize(grey, (max(1, w // BACKGROUND_STEP), max(1, h // BACKGROUND_STEP)), interpolation=cv2.INTER_AREA)
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (BACKGROUND_KERNEL, BACKGROUND_KERNEL))
    bg = cv2.morphologyEx(small, cv2.MORPH_CLOSE, k)  # paper's brightness: ink (narrow and dark) closed over
    bg = cv2.GaussianBlur(bg, (0, 0), 1.5)
    bg = np.maximum(cv2.resize(bg, (w, h), interpolation=cv2.INTER_LINEAR), 1)
    flat = cv2.divide(grey, bg, scale=255)  # uint8, saturating: paper 255
    dark = cv2.bitwise_not(flat)
    # a red/orange margin line: long straight runs of strongly red pixels are paper (red writing is ink)
    r, g, b = cv2.split(sheet_rgb)
    gb = cv2.max(g, b)
    reddish = (cv2.subtract(r, gb) > 20) & (r.astype(np.uint16) * 10 > gb.astype(np.uint16) * 13)
    if reddish.any():
        # closed along its length first: JPEG leaves gaps in the line's red
        runs = cv2.morphologyEx(reddish.view(np.uint8) * 255, cv2.MORPH_CLOSE,
                                np.ones((MARGIN_GAP, MARGIN_GAP), np.uint8))
        (across, _), (down, _) = line_masks(runs)
        dark[cv2.dilate(across | down, np.ones((5, 5), np.uint8)) > 0] = 0
    return flat, cv2.GaussianBlur(dark, (3, 3), 0)


def skew_angle(dark: np.ndarray) -> float:
    """Degrees to rotate (counter-clockwise, OpenCV's sign) so that lines of writing and paper lines are level."""
    h, w = dark.shape
    f = 400.0 / max(h, w)
    small = resized(dark, f)
    small = (small > INK_LOW).astype(np.float32)
    if small.sum() < 20:
        return 0.0
    c = (small.shape[1] / 2, small.shape[0] / 2)
    best, best_score = 0.0, -1.0
    for a in np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, SKEW_STEP):
        m = cv2.getRotationMatrix2D(c, float(a), 1.0)
        rows = cv2.warpAffine(small, m, (small.shape[1], small.shape[0]), flags=cv2.INTER_NEAREST).sum(axis=1)
        score = float((rows ** 2).sum())
        if score > best_score + 1e-6 or (abs(score - best_score) <= 1e-6 and abs(a) < abs(best)):
            best, best_score = float(a), score
    return best


def paper_line_angle(dark: np.ndarray) -> float | None:
    """Degrees to rotate (as ``skew_angle``) so that the paper's long straight lines are level: the median slope of
    the near-level segments a Hough transform finds, or None when fewer than ``LINE_SKEW_SEGMENTS`` are found (plain
    paper; writing's rows are not long straight runs)."""
    h, w = dark.shape
    f = min(1.0, LINE_SKEW_SIDE / max(h, w))
    small = dark if f == 1 else resized(dark, f)
    mask = ((small > INK_LOW) * 255).astype(np.uint8)
    side = small.shape[1]
    segs = cv2.HoughLinesP(mask, 1, np.pi / 720, threshold=max(10, int(0.5 * LINE_SPAN * side)),
                           minLineLength=max(10, int(LINE_SPAN * side)), maxLineGap=max(2, side // 100))
    if segs is None:
        return None
    x0, y0, x1, y1 = segs.reshape(-1, 4).astype(np.float64).T
    slopes = np.degrees(np.arctan2(y1 - y0, x1 - x0))
    slopes = (slopes + 90) % 180 - 90  # a segment either way round
    slopes = slopes[np.abs(slopes) <= LINE_SKEW_MAX]
    return float(np.median(slopes)) if len(slopes) >= LINE_SKEW_SEGMENTS else None


def _rotate(img: np.ndarray, m: np.ndarray, size: tuple[int, int], border) -> np.ndarray:
    return cv2.warpAffine(img, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=border)


def line_masks(low: np.ndarray, dark: np.ndarray | None = None,
               ink_level: float = 255.0) -> list[tuple[np.ndarray, int]]:
    """Paper lines by direction, [(horizontal lines, how many), (vertical lines, how many)]: long, thin runs of
    faint-or-darker pixels. With ``dark``, a run shorter than ``LINE_FULL_SPAN`` of the side whose median darkness
    reaches ``ink_level`` is ink (a long fraction bar, an underline), not a paper line; so is a longer one across a
    sheet with fewer than ``LINE_DARK_FAMILY`` such runs (a plain sheet's fraction bar)."""
    h, w = low.shape
    found = []
    for horizontal in (True, False):
        out = np.zeros_like(low)
        count = 0
        side = w if horizontal else h
        klen = max(15, int(side * LINE_KERNEL))
        kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (klen, 1) if horizontal else (1, klen))
        runs = cv2.morphologyEx(low, cv2.MORPH_OPEN, kernel)
        # bridge short gaps (a faint stretch, JPEG) so a line is one component
        runs = cv2.morphologyEx(runs, cv2.MORPH_CLOSE, cv2.getStructuringElement(
            cv2.MORPH_RECT, (klen, 3) if horizontal else (3, klen)))
        n, lab, stats, _ = cv2.connectedComponentsWithStats(runs, connectivity=8)
        length = stats[:, cv2.CC_STAT_WIDTH if horizontal else cv2.CC_STAT_HEIGHT]
        is_line = (length >= LINE_SPAN * side) & (stats[:, cv2.CC_STAT_AREA] <= LINE_MAX_THICK * length)
        is_line[0] = False
        if dark is not None:
            few = horizontal and int(is_line.sum()) < LINE_DARK_FAMILY  # no paper lines across: a plain sheet
            for k in np.flatnonzero(is_line if few else is_line & (length < LINE_FULL_SPAN * side)):
                x, y, bw, bh = stats[k, :4]
                win = lab[y:y + bh, x:x + bw] == k
                if float(np.median(dark[y:y + bh, x:x + bw][win])) >= ink_level:
                    is_line[k] = False
        if is_line.any():
            out[is_line[lab]] = 255
            count = int(is_line.sum())
        found.append((out, count))
    return found


def ink_mask(dark: np.ndarray, outside: np.ndarray | None = None,
             floor: float = INK_HIGH_MIN, frame_cuts: bool = False) -> tuple[np.ndarray, int]:
    """(ink 255 on 0 with paper lines removed, number of lines removed) from a darkness image. ``outside`` (bool):
    what is not the sheet inside the image (off a sheet that runs out of the frame, the corners a deskew brings in);
    ink near it is dropped as ink near the image's edge is. ``floor``: the darkness a stroke must reach at least
    (``INK_HIGH_MIN``; a fine pen's faint strokes are looked for from lower, ``page.FINE_INK_FLOOR``).
    ``frame_cuts``: the image's edge is the photo's frame, which may cut the writing (``off_edge``)."""
    faint = dark > INK_LOW
    strong_ink = float(np.percentile(dark[::2, ::2][faint[::2, ::2]], 99.5)) if faint.any() else 255.0
    high = max(floor, INK_HIGH_SHARE * strong_ink)
    (across, n_across), (down, n_down) = line_masks((faint * 255).astype(np.uint8), dark, high)
    # a squared sheet whose lines are paler than ink is found in pieces (or not at all) at INK_LOW, yet where its
    # lines cross they pass as ink specks: its lines are then looked for from LINE_LOW
    # (counted at half size first, a quarter of the work: only a pale grid is looked for again at full size)
    pale = ((dark > LINE_LOW) * 255).astype(np.uint8)
    half = (pale.shape[1] // 2, pale.shape[0] // 2)
    (_, n_pale_across), (_, n_pale_down) = line_masks(
        (cv2.resize(pale, half, interpolation=cv2.INTER_AREA) > 0).view(np.uint8) * 255,
        cv2.resize(dark, half, interpolation=cv2.INTER_AREA), high)
    if min(n_pale_across, n_pale_down) >= GRID_LINES and \
            n_across + n_down < PALE_GRID_SHARE * (n_pale_across + n_pale_down):
        (across, n_across), (down, n_down) = line_masks(pale, dark, high)
    lines, count = across | down, n_across + n_down
    # a stroke's soft edge counts down to a share of the page's ink darkness (dark ink is not fattened by its halo)
    low = ((dark > max(INK_LOW, INK_LOW_SHARE * strong_ink)) * 255).astype(np.uint8)
    if count:
        kernel = np.ones((3, 3), np.uint8)
        grown_across, grown_down = cv2.dilate(across, kernel) > 0, cv2.dilate(down, kernel) > 0
        grown = grown_across | grown_down
        line_level = float(np.median(dark[lines > 0][::7]))
        # ink drawn on top of a line is darker than the line there (two lines' darkness where they cross)
        depth = grown_across.astype(np.float32) + grown_down
        over = grown & (dark > np.maximum(high, LINE_INK_RATIO * line_level * depth))
        kept = low.copy()
        kept[grown & ~over] = 0
        # strokes crossing a line: close the gap the removal left, only inside the removed band
        hor = cv2.morphologyEx(kept, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, 2 * LINE_MAX_THICK)))
        ver = cv2.morphologyEx(kept, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * LINE_MAX_THICK, 1)))
        bridge = grown & ((hor > 0) | (ver > 0)) & (low > 0)
        kept[bridge] = 255
        low = kept
    # hysteresis: faint pixels count where their component holds a strongly dark pixel (pencil's soft edges)
    n, lab, stats, _ = cv2.connectedComponentsWithStats(low, connectivity=8)
    if n <= 1:
        return low, count
    strong = np.zeros(n, bool)
    strong[np.unique(lab[(dark > high) & (low > 0)])] = True
    strong[0] = False
    # a dot (an i's, a full stop) blurred loses more of its darkness than a stroke does: a small one counts from less
    if DOT_SHARE < 1:
        dots = np.zeros(n, bool)
        dots[np.unique(lab[(dark > max(floor, DOT_SHARE * high)) & (low > 0)])] = True
        dots &= ~strong & (stats[:, cv2.CC_STAT_AREA] <= DOT_AREA)
        dots[0] = False
        if dots.sum() <= DOT_MOST * strong.sum():  # a few dots among the writing, not the pieces of a paper's lines
            strong |= dots & (np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]) <= DOT_SIDE)
    strong &= ~off_edge(lab, stats, strong, outside, frame_cuts)
    return (strong[lab] * 255).astype(np.uint8), count


def off_edge(lab: np.ndarray, stats: np.ndarray, ink: np.ndarray, outside: np.ndarray | None,
             frame_cuts: bool) -> np.ndarray:
    """Which components (bool by label) touch the sheet's edge or lie near ``outside``: the table or the edge's
    shadow, not writing. ``frame_cuts``: the image's edge is the photo's frame cutting the writing (no sheet found),
    so a component touching it no larger than ``FRAME_CUT_SIZE`` times the median of ``ink``'s inner components
    (bool by label) is writing."""
    e = _edge_px(lab.shape)
    drop = np.zeros(len(stats), bool)
    drop[np.unique(np.concatenate([lab[:e], lab[-e:], lab[:, :e].T, lab[:, -e:].T], axis=None))] = True
    drop[0] = False
    if frame_cuts and drop.any():
        side = np.maximum(stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT])
        inner = ink & ~drop
        if inner.sum() >= 3:
            drop &= side > FRAME_CUT_SIZE * float(np.median(side[inner]))
    if outside is not None and outside.any():
        near = cv2.dilate(outside.view(np.uint8), cv2.getStructuringElement(cv2.MORPH_RECT, (2 * e + 1, 2 * e + 1)))
        drop[np.unique(lab[near > 0])] = True
    drop[0] = False
    return drop


def learned_ink(mask: np.ndarray, outside: np.ndarray | None = None, confirm: np.ndarray | None = None,
                frame_cuts: bool = False, lined: bool = False) -> np.ndarray:
    """A learned extractor's ink mask with what touches the sheet's edge (or lies near ``outside``) dropped, as
    ``ink_mask`` drops it; a speck (at most ``LEARNED_SPECK`` px) is kept only where it touches ``confirm``'s ink
    (the thresholds'): a squared sheet's line crossings are specks the extractor takes for dots. On a ``lined``
    sheet (the thresholds found paper lines), so is a dash (``LEARNED_DASH``)."""
    n, lab, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if n <= 1:
        return mask
    keep = np.ones(n, bool)
    keep[0] = False
    if confirm is not None:
        speck = stats[:, cv2.CC_STAT_AREA] <= LEARNED_SPECK
        if lined:
            w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
            thin = np.minimum(w, h)
            speck |= (thin <= LEARNED_DASH) & (np.maximum(w, h) >= 2 * thin)
        seen = np.zeros(n, bool)
        seen[np.unique(lab[confirm > 0])] = True
        keep &= ~speck | seen
    keep &= ~off_edge(lab, stats, keep, outside, frame_cuts)
    return (keep[lab] * 255).astype(np.uint8)


# ------------------------------------------------------------------------------------------------ the whole clean-up
def clean_page(photo: np.ndarray, photo_size: tuple[int, int] | None = None, *, find: bool = True,
               shrink: float = 1.0, floor: float = INK_HIGH_MIN, ink_model=None) -> CleanPage:
    """Clean a page photo (RGB uint8, as shown). ``photo_size`` is the size boxes are reported in when ``photo`` is
    already a downscaled decode of a larger photo (``load_photo``'s second value); default: ``photo``'s own.
    ``shrink``: the working image is this share of its usual size (a close-up read at a page's writing size).
    ``floor``: see ``ink_mask``. ``ink_model``: a learned ink extractor (``ink_net.InkExtractor``) that finds the
    ink in place of ``ink_mask``'s thresholds (None: the thresholds)."""
    rgb = _as_rgb(photo)
    h0, w0 = rgb.shape[:2]
    size = photo_size or (w0, h0)
    if min(h0, w0) < 32:
        raise InkmathError(f"The photo is only {w0}x{h0} pixels; a page needs a photo of at least 32 pixels a side")
    f = min(MAX_UPSCALE, WORK_SIDE / max(h0, w0)) * shrink
    work = rgb if f == 1 else cv2.resize(rgb, (round(w0 * f), round(h0 * f)),
                                         interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
    to_photo_from_work = np.diag([size[0] / work.shape[1], size[1] / work.shape[0], 1.0])
    quad = find_sheet(work) if find else None
    beyond = None  # the part of the warped sheet that lies outside the photo (a sheet that runs out of the frame)
    if quad is not None:
        sheet, to_work = warp_sheet(work, quad)
        if outside_frame(quad, work.shape):
            frame = cv2.warpPerspective(np.full(work.shape[:2], 255, np.uint8), np.linalg.inv(to_work),
                                        (sheet.shape[1], sheet.shape[0]), flags=cv2.INTER_NEAREST,
                                        borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            e = 2 * _edge_px(frame.shape) + 1  # and the frame's edge: its table, its replicated pixels
            beyond = cv2.erode(frame, cv2.getStructuringElement(cv2.MORPH_RECT, (e, e))) < 128
    else:
        sheet, to_work = work, np.eye(3)
    if float(np.median(sheet[::8, ::8])) < MIN_LIGHT:
        raise InkmathError("No sheet of paper found in the photo: it is too dark; photograph the page in better light")
    flat, dark = flatten(sheet)
    outside = off_sheet(sheet) if quad is None else beyond  # the table round a sheet that runs out of the frame
    if outside is not None:
        dark[outside] = 0
    sample = flat[::4, ::4]
    if np.median(sample) < PAPER_MIN_BRIGHTNESS or float(np.mean(sample < 255 - INK_LOW)) > PAPER_MAX_INK:
        raise InkmathError("No sheet of paper found in the photo; photograph the page flat, filling most of the frame, "
                           "in even light")
    angle = skew_angle(dark)
    if quad is None:
        lines = paper_line_angle(dark)  # the page may be turned further than the search: its paper lines say how far
        if lines is not None and abs(lines) > MAX_SKEW:
            angle = lines
    to_photo = to_photo_from_work @ to_work
    if abs(angle) >= SKEW_STEP:
        h1, w1 = dark.shape
        m = cv2.getRotationMatrix2D((w1 / 2, h1 / 2), angle, 1.0)
        ww, hh = w1, h1
        if abs(angle) > WHOLE_TURN_FROM:  # the image grows to hold the whole page turned: its corners are not cut off
            c, s = abs(m[0, 0]), abs(m[0, 1])
            ww, hh = int(np.ceil(w1 * c + h1 * s)), int(np.ceil(w1 * s + h1 * c))
            m[0, 2] += (ww - w1) / 2
            m[1, 2] += (hh - h1) / 2
        sheet = _rotate(sheet, m, (ww, hh), (255, 255, 255))
        flat = _rotate(flat, m, (ww, hh), 255)
        dark = _rotate(dark, m, (ww, hh), 0)
        on_sheet = np.full((h1, w1), 255, np.uint8) if outside is None else np.where(outside, 0, 255).astype(np.uint8)
        outside = _rotate(on_sheet, m, (ww, hh), 0) < 128  # and the corners the turn brings in
        to_photo = to_photo @ np.linalg.inv(np.vstack([m, [0, 0, 1]]))
    ink, count = ink_mask(dark, outside, floor, frame_cuts=quad is None)
    notes = [] if quad is not None else ["no sheet edge found: the whole photo is read as the page"]
    if abs(angle) >= SKEW_STEP:
        notes.append(f"deskewed by {angle:.2f} degrees")
    page = CleanPage(tuple(size), sheet, flat, ink, to_photo, quad is not None, 0, count, notes, dark, outside)
    return page if ink_model is None else with_learned_ink(page, ink_model)


def with_learned_ink(page: CleanPage, ink_model) -> CleanPage:
    """The page with its ink found by a learned extractor (``ink_net.InkExtractor``) on its flattened sheet, its
    specks confirmed by the thresholds' ink the page holds (``learned_ink``); everything else as it is."""
    ink = learned_ink(ink_model.mask(page.flat, page.sheet), page.outside, page.ink, frame_cuts=not page.found_sheet,
                      lined=page.lines_removed > 0)
    return dataclasses.replace(page, ink=ink, _steep=None)


def edge_steepness(dark: np.ndarray, ink: np.ndarray) -> tuple[float, float, float]:
    """How steep the ink's edges are: (the ``BLUR_EDGE_PERCENTILE``-th percentile, over the ink's pixels and their
    neighbours, of the darkness's slope per pixel over the darkest ink within 2 px; the same percentile in the bands of
    edge directions, of ``BLUR_DIRECTIONS``, where it is lowest and highest). A sharp pen stroke's edge rises to its
    darkness within a pixel or two (0.3-0.4), a blurred one more slowly (0.2 at a Gaussian's sigma 2.5); motion blur
    lowers it across the motion only. Zeros without ink."""
    near = cv2.dilate(ink, np.ones((3, 3), np.uint8)) > 0
    if not near.any():
        return 0.0, 0.0, 0.0
    ys, xs = np.nonzero(near)
    y0, y1, x0, x1 = max(0, ys.min() - 4), ys.max() + 5, max(0, xs.min() - 4), xs.max() + 5
    d = dark[y0:y1, x0:x1].astype(np.float32)
    peak = cv2.dilate(d, np.ones((5, 5), np.uint8))
    sel = near[y0:y1, x0:x1] & (peak > BLUR_INK_MIN)
    if not sel.any():
        return 0.0, 0.0, 0.0
    gx = cv2.Sobel(d, cv2.CV_32F, 1, 0, ksize=3)[sel] / 8
    gy = cv2.Sobel(d, cv2.CV_32F, 0, 1, ksize=3)[sel] / 8
    slope = np.hypot(gx, gy) / peak[sel]
    band = (np.degrees(np.arctan2(gy, gx)) % 180 / (180 / BLUR_DIRECTIONS) + 0.5).astype(int) % BLUR_DIRECTIONS
    per = [np.percentile(slope[band == k], BLUR_EDGE_PERCENTILE) for k in np.unique(band)]
    return float(np.percentile(slope, BLUR_EDGE_PERCENTILE)), float(min(per)), float(max(per))


def measured_blur(steepness: float) -> float:
    """A Gaussian blur's sigma (px) from the steepness of the ink's edges (``edge_steepness``, ``BLUR_FIT``); 0.0
    without ink."""
    return max(0.0, BLUR_FIT[0] + BLUR_FIT[1] * steepness) if steepness > 0 else 0.0


def turn(page: CleanPage, quarter_turns: int) -> CleanPage:
    """The same page turned clockwise by ``quarter_turns`` x 90 degrees (boxes still map to the photo)."""
    k = quarter_turns % 4
    if k == 0:
        return page
    h, w = page.ink.shape
    rot = {1: cv2.ROTATE_90_CLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_COUNTERCLOCKWISE}[k]
    # new (x', y') -> old (x, y)
    back = {1: [[0, 1, 0], [-1, 0, h - 1], [0, 0, 1]], 2: [[-1, 0, w - 1], [0, -1, h - 1], [0, 0, 1]],
            3: [[0, -1, w - 1], [1, 0, 0], [0, 0, 1]]}[k]
    return CleanPage(page.photo_size, cv2.rotate(page.sheet, rot), cv2.rotate(page.flat, rot),
                     cv2.rotate(page.ink, rot), page.to_photo @ np.array(back, np.float64), page.found_sheet,
                     (page.rotation + 90 * k) % 360, page.lines_removed, page.notes + [f"turned {90 * k} degrees"],
                     None if page.dark is None else cv2.rotate(page.dark, rot),
                     None if page.outside is None else cv2.rotate(page.outside.view(np.uint8), rot) > 0)


def debug_images(page: CleanPage) -> dict[str, np.ndarray]:
    """The intermediate images by name (sheet, flat, ink), for ``--debug-dir``."""
    return {"sheet": page.sheet, "flat": page.flat, "ink": page.ink}


__all__ = ["CleanPage", "load_photo", "clean_page", "find_sheet", "off_sheet", "order_corners", "warp_sheet", "flatten",
           "skew_angle", "line_masks", "ink_mask", "turn", "debug_images", "WORK_SIDE"]
