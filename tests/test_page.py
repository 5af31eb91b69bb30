"""Page photos: clean-up, finding expressions, reading order, the page reader, its CLI and web route, bad input.

Hand-made pages are drawn here: the project's synthetic handwriting (inkmath.synth) on paper, put on a dark table
with a perspective, so the tests run without any data set; the generated page photo in tests/fixtures (made by
``python benchmarks/bench_page.py --fixture tests/fixtures/page_photo.jpg`` from validation ink) carries its truth.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from inkmath.equation.photo import views
from inkmath import InkmathError
from inkmath.equation.photo.clean import clean_page, load_photo
from inkmath.equation.photo.sheet import find_sheet, order_corners
from inkmath.equation.photo.find import InkGroup, find_expressions, reading_order
from inkmath.equation.core.tree import Box

FIXTURE = Path(__file__).parent / "fixtures" / "page_photo.jpg"
FINE_PEN = FIXTURE.with_name("page_fine_pen.jpg")  # the same page written with a fine pen


def _ink_strokes(img: np.ndarray, strokes, colour, thickness: int = 4) -> None:
    for s in strokes:
        pts = np.rint(np.asarray(s)[:, :2]).astype(np.int32).reshape(-1, 1, 2)
        cv2.polylines(img, [pts], False, colour, thickness, cv2.LINE_AA)


def _sheet(lines: list[tuple[str, float, float]], *, paper: str = "plain", colour=(30, 30, 35), size: float = 44,
           w: int = 1000, h: int = 1300, extra=None) -> np.ndarray:
    """A white sheet with synthetic handwriting: lines of (text, x, baseline y)."""
    from inkmath.synth import write

    img = np.full((h, w, 3), 246, np.uint8)
    if paper == "ruled":
        for y in range(120, h - 40, 60):
            cv2.line(img, (0, y), (w - 1, y), (160, 180, 215), 2, cv2.LINE_AA)
        cv2.line(img, (110, 0), (110, h - 1), (225, 90, 90), 2, cv2.LINE_AA)
    elif paper == "squared":
        for v in range(20, max(w, h), 36):
            cv2.line(img, (0, v), (w - 1, v), (170, 185, 210), 1, cv2.LINE_AA)
            cv2.line(img, (v, 0), (v, h - 1), (170, 185, 210), 1, cv2.LINE_AA)
    for k, (text, x, y) in enumerate(lines):
        _ink_strokes(img, write(text, seed=k, x=x, base_y=y, size=size), colour)
    if extra is not None:
        extra(img)
    return img


def _photo(sheet: np.ndarray, turn: float = 3.0, with_transform: bool = False):
    """The sheet on a dark table, a little turned and in perspective, with a light gradient and noise."""
    h, w = sheet.shape[:2]
    pw, ph = int(w * 1.25), int(h * 1.2)
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    a = np.radians(turn)
    c = np.array([pw / 2, ph / 2])
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    dst = ((src - (w / 2, h / 2)) * 0.92) @ rot.T + c + np.float32([[10, -8], [-12, 6], [8, 10], [-6, -10]])
    m = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    table = np.full((ph, pw, 3), (70, 60, 50), np.uint8)
    warped = cv2.warpPerspective(sheet, m, (pw, ph))
    inside = cv2.warpPerspective(np.ones((h, w), np.uint8), m, (pw, ph)) > 0
    out = np.where(inside[:, :, None], warped, table).astype(np.float32)
    out *= np.linspace(0.85, 1.0, pw, dtype=np.float32)[None, :, None]
    out += np.random.default_rng(0).normal(0, 3, out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    return (out, m) if with_transform else out


def _jpeg(rgb: np.ndarray, exif_orientation: int | None = None) -> bytes:
    from PIL import Image

    im = Image.fromarray(rgb)
    buf = io.BytesIO()
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        im.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    else:
        im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _iou(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    u = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / u if u else 0.0


# ------------------------------------------------------------------------------------------------ no model needed
def test_order_corners_clockwise_from_top_left():
    pts = np.float32([[100, 90], [5, 100], [0, 0], [110, 2]])
    assert order_corners(pts).tolist() == [[0, 0], [110, 2], [100, 90], [5, 100]]


def _g(x0, y0, x1, y1) -> InkGroup:
    return InkGroup(Box(x0, y0, x1, y1), [])


def _one_component_each(groups: list[InkGroup]) -> np.ndarray:
    """Component stats (N + 1, 5: x, y, w, h, area) for ``groups`` as one component each, a quarter inked; group k
    is given component k + 1."""
    for k, g in enumerate(groups):
        g.components = [k + 1]
    return np.array([[0, 0, 0, 0, 0]] + [[g.box.x0, g.box.y0, g.box.w, g.box.h, g.box.w * g.box.h / 4]
                                         for g in groups], np.int32)


def test_reading_order_header_then_columns_then_rows():
    header = _g(100, 10, 900, 50)
    left = [_g(100, 100, 400, 140), _g(100, 300, 380, 340)]
    right = [_g(600, 110, 900, 150), _g(600, 200, 880, 240), _g(600, 310, 900, 350)]
    groups = right[::-1] + left[::-1] + [header]
    got = reading_order(groups, unit=40.0)
    assert got == [header] + left + right  # the header, the left column top to bottom, then the right column


def test_find_expressions_lines_fraction_and_brace_system():
    ink = np.zeros((700, 900), np.uint8)
    from inkmath.synth import write

    _ink = lambda text, x, y: [cv2.polylines(ink, [np.rint(s).astype(np.int32).reshape(-1, 1, 2)], False, 255, 3)
                               for s in write(text, x=x, base_y=y, size=40)]
    _ink("3x+5=11", 60, 80)
    # a fraction: numerator, bar, denominator with small gaps, then "= 2"
    _ink("x+1", 70, 200)
    cv2.line(ink, (60, 218), (200, 218), 255, 3)
    _ink("3", 115, 275)
    _ink("=2", 220, 235)
    # a system: a tall brace and two rows
    cv2.ellipse(ink, (75, 430), (18, 70), 0, 90, 270, 255, 3)
    _ink("x+y=3", 100, 405)
    _ink("x-y=1", 100, 480)
    _ink("2x=4", 560, 80)  # a second column
    found = find_expressions(ink)
    boxes = [g.box for g in found.groups]
    assert len(boxes) == 4, boxes
    assert boxes[0].y1 < 100 and boxes[0].x0 < 100  # line 1
    assert boxes[1].y0 < 180 and boxes[1].y1 > 250  # the fraction is one expression
    assert boxes[2].y0 < 370 and boxes[2].y1 > 470  # the system is one expression
    assert boxes[3].x0 > 500  # the right column comes last


def test_columns_closer_than_a_line_gap_are_not_joined_a_wide_space_in_one_line_is():
    from inkmath.equation.photo import find as page_find
    from inkmath.synth import write

    def page(lines):
        ink = np.zeros((800, 1400), np.uint8)
        for text, x, y in lines:
            for s in write(text, x=x, base_y=y, size=40):
                cv2.polylines(ink, [np.rint(s).astype(np.int32).reshape(-1, 1, 2)], False, 255, 3)
        return ink

    # two columns of three lines, the gutter under LINE_GAP units but over COLUMN_GAP units
    rows = [("3x+5=11", 60, 100 + 150 * k) for k in range(3)] + [("2y=4", 380, 100 + 150 * k) for k in range(3)]
    found = find_expressions(page(rows))
    assert len(found.groups) == 6 and [g.box.x0 < 300 for g in found.groups] == [True] * 3 + [False] * 3
    gutter = found.groups[3].box.x0 - found.groups[0].box.x1
    assert page_find.COLUMN_GAP * found.unit < gutter < page_find.LINE_GAP * found.unit
    # one line with a wide space and nothing else on the page beside it: one expression
    found = find_expressions(page([("x+1", 60, 100), ("=5", 230, 100), ("y=2", 60, 250)]))
    assert len(found.groups) == 2, [g.box for g in found.groups]
    space = 230 - found.groups[0].box.x0 - 70  # "x+1" is about 70 px wide at this size
    assert page_find.COLUMN_GAP * found.unit < space < page_find.LINE_GAP * found.unit


def test_find_expressions_drops_scribbles_and_specks():
    ink = np.zeros((400, 600), np.uint8)
    from inkmath.synth import write

    for s in write("x+2=5", x=40, base_y=80, size=40):
        cv2.polylines(ink, [np.rint(s).astype(np.int32).reshape(-1, 1, 2)], False, 255, 3)
    rng = np.random.default_rng(1)
    zig = np.column_stack([np.linspace(60, 200, 40), 220 + rng.uniform(-40, 40, 40)]).astype(np.int32)
    for k in range(6):  # crossed out: a dense zigzag
        cv2.polylines(ink, [(zig + (0, 4 * k)).reshape(-1, 1, 2)], False, 255, 4)
    ink[350, 500] = 255  # a speck
    found = find_expressions(ink)
    assert len(found.groups) == 1 and found.groups[0].box.y1 < 120
    assert len(found.dropped["scribbles"]) == 1


def test_clean_page_finds_sheet_removes_lines_keeps_crossing_strokes():
    def crossing(img):  # a long vertical stroke across three ruled lines
        cv2.line(img, (600, 350), (600, 520), (30, 30, 35), 4, cv2.LINE_AA)

    page = clean_page(_photo(_sheet([("x+1=2", 200, 300)], paper="ruled", extra=crossing)))
    assert page.found_sheet and page.lines_removed >= 10
    ink = page.ink > 0
    # no long horizontal run survives: the ruled lines are gone
    runs = cv2.morphologyEx(ink.astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, 200), np.uint8))
    assert runs.sum() == 0
    # the crossing stroke is one component, unbroken by the removed lines
    n, lab, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8))
    tallest = stats[1:, cv2.CC_STAT_HEIGHT].max()
    assert tallest > 0.8 * 170 * page.ink.shape[0] / 1300 * 0.9


@pytest.mark.parametrize("colour", [(30, 30, 35), (25, 50, 160), (110, 110, 115)], ids=["black", "blue", "pencil"])
def test_clean_page_keeps_black_blue_and_pencil_ink(colour):
    page = clean_page(_photo(_sheet([("3x+5=11", 150, 300), ("x=2", 150, 500)], paper="squared", colour=colour)))
    found = find_expressions(page.ink)
    assert len(found.groups) == 2


def test_a_fraction_bar_across_most_of_a_plain_sheet_is_ink_not_a_paper_line():
    """A bar longer than ``LINE_FULL_SPAN`` of the sheet, as dark as the writing, was removed as a paper line, which
    split its fraction into two expressions. On a sheet with no paper lines across it, it is ink; a ruled sheet's
    lines still go."""
    def wide_fraction(img):
        cv2.line(img, (100, 400), (900, 404), (30, 30, 35), 4, cv2.LINE_AA)

    lines = [("x+13x+40", 250, 360), ("2x+27x+111x+140", 150, 480)]
    page = clean_page(_photo(_sheet(lines, extra=wide_fraction)))
    runs = cv2.morphologyEx((page.ink > 0).astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, 300), np.uint8))
    assert runs.sum() > 0  # the bar is kept
    assert len(find_expressions(page.ink).groups) == 1  # numerator, bar and denominator: one expression
    ruled = clean_page(_photo(_sheet(lines, paper="ruled")))
    runs = cv2.morphologyEx((ruled.ink > 0).astype(np.uint8), cv2.MORPH_OPEN, np.ones((1, 300), np.uint8))
    assert ruled.lines_removed >= 10 and runs.sum() == 0


def test_red_ink_is_kept_and_the_red_margin_line_removed():
    """Red writing is ink; only the margin line's long straight red run is paper (docs/decisions/page-clean-up.md: blue-ink pages
    with red and blue swapped lost 28 of 78 expressions when every strongly red pixel was paper)."""
    lines = [("3x+5=11", 150, 300), ("x=2", 150, 500)]
    page = clean_page(_photo(_sheet(lines, paper="ruled", colour=(200, 30, 30))))
    black = clean_page(_photo(_sheet(lines, paper="ruled")))
    assert len(find_expressions(page.ink).groups) == 2
    assert (page.ink > 0).sum() > 0.7 * (black.ink > 0).sum()  # the strokes whole, not their grey fringes
    runs = cv2.morphologyEx((page.ink > 0).astype(np.uint8), cv2.MORPH_OPEN, np.ones((200, 1), np.uint8))
    assert runs.sum() == 0  # the margin line is gone


def test_a_faint_small_dot_is_ink_but_a_faint_stroke_or_a_speck_under_the_floor_is_not(monkeypatch):
    """A blurred dot (an i's, a full stop) keeps less of its darkness than a stroke of the same pen: it counts as ink
    from the floor, not from the page's stroke threshold (val pages of seeds 0 and 18: dots of "A.k.R", "i.M",
    "\\ldots" were lost). A faint component as long as a stroke, a sliver as small as a dot but long, or a speck under
    the floor, is still not ink."""
    from inkmath.equation.photo import clean as page_clean

    dark = np.zeros((200, 300), np.uint8)
    for x in (40, 160, 220):  # strokes: the page's ink darkness
        cv2.line(dark, (x, 100), (x + 50, 100), 180, 3)
    cv2.line(dark, (40, 150), (140, 150), 75, 1)  # a faint stroke: under the stroke threshold, not small
    yy, xx = np.mgrid[:200, :300]
    blob = lambda y, x, peak: peak * np.exp(-((yy - y) ** 2 + (xx - x) ** 2) / 2.0)  # noqa: E731
    dark = np.maximum(dark, np.maximum(blob(60, 200, 75), blob(60, 250, 55))).astype(np.uint8)  # a dot, a speck
    ink, _ = page_clean.ink_mask(dark)
    assert ink[100, 90] and ink[60, 200], "the stroke and the dot are ink"
    assert not ink[150, 90] and not ink[60, 250], "the faint stroke and the speck under the floor are not"
    monkeypatch.setattr(page_clean, "DOT_SHARE", 1.0)  # no dots: the dot is a faint mark like the others
    assert not page_clean.ink_mask(dark)[0][60, 200]
    # faint pieces everywhere (a squared sheet's lines the clean-up did not find) are not dots: none is kept
    monkeypatch.setattr(page_clean, "DOT_SHARE", 0.7)
    grid = dark.copy()
    for y in range(20, 200, 30):
        for x in range(20, 300, 12):
            grid[y, x:x + 3] = 75
    ink, _ = page_clean.ink_mask(grid)
    assert ink[100, 90] and not ink[60, 200] and not ink[20, 20:23].any()
    # a paper line's faint edge left in a sliver, as small as a dot but 16 px long: not a dot
    sliver = np.where(np.abs(yy - 60) + np.abs(xx - 200) < 6, 0, dark).astype(np.uint8)  # the dot taken away
    sliver[180, 150:166] = 75
    assert page_clean.ink_mask(sliver)[0][100, 90] and not page_clean.ink_mask(sliver)[0][180, 150:166].any()
    monkeypatch.setattr(page_clean, "DOT_SIDE", 99)
    assert page_clean.ink_mask(sliver)[0][180, 150:166].all()
    # slivers still count as pieces of paper lines: beside the dot they are too many for any dot to be kept
    monkeypatch.setattr(page_clean, "DOT_SIDE", 8)
    both = dark.copy()
    both[180, 150:166] = 75
    assert not page_clean.ink_mask(both)[0][60, 200]


def test_underexposed_pencil_on_squared_paper_leaves_no_grid_specks():
    """Where a squared sheet's lines cross, the paper is darker than on either line (the lines' shades multiply); in
    an underexposed photo of pencil ink the crossings passed as ink specks (docs/decisions/page-clean-up.md: 117-351 "expressions" on
    one generated page). Ink over a line must be darker than the line's darkness there: twice the line's at a
    crossing."""
    def grid(img):  # pale squared lines printed over the page: each takes 15 % of the light
        h, w = img.shape[:2]
        shade = np.ones((h, w), np.float32)
        for v in range(20, max(w, h), 36):
            lines = np.zeros((2, h, w), np.uint8)
            cv2.line(lines[0], (0, v), (w - 1, v), 1, 2)
            cv2.line(lines[1], (v, 0), (v, h - 1), 1, 2)
            shade *= np.where(lines > 0, 0.85, 1.0).prod(axis=0)
        img[:] = (img * shade[:, :, None]).astype(np.uint8)

    sheet = _sheet([("3x+5=11", 150, 300), ("x=2", 150, 500)], colour=(110, 110, 115), extra=grid)
    photo = _photo(sheet).astype(np.float32) / 255.0
    page = clean_page(np.clip(255 * photo ** 1.8 * 0.7, 0, 255).astype(np.uint8))  # as page_variants' "dark"
    assert page.lines_removed >= 40
    assert cv2.connectedComponents(page.ink)[0] - 1 < 30  # the two lines' symbols, not hundreds of specks
    assert len(find_expressions(page.ink).groups) == 2


def test_box_to_photo_maps_back_to_the_photo():
    sheet = _sheet([("3x+5=11", 150, 300)])
    photo, m = _photo(sheet, with_transform=True)
    page = clean_page(photo)
    found = find_expressions(page.ink)
    box = page.box_to_photo(found.groups[0].box.as_list())
    ys, xs = np.nonzero(sheet.mean(axis=2) < 120)  # the ink on the sheet, then where the photo shows it
    corners = np.float64([[xs.min(), ys.min()], [xs.max(), ys.min()], [xs.max(), ys.max()], [xs.min(), ys.max()]])
    q = cv2.perspectiveTransform(corners[None], m)[0]
    truth = [q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()]
    assert _iou(box, truth) > 0.8, (box, truth)


def test_blank_page_has_no_expressions():
    page = clean_page(_photo(_sheet([], paper="ruled")))
    assert find_expressions(page.ink).groups == []


def test_no_page_in_photo_is_a_clear_error():
    rng = np.random.default_rng(0)
    clutter = (rng.random((600, 800, 3)) * 255).astype(np.uint8)
    with pytest.raises(InkmathError, match="No sheet of paper"):
        clean_page(clutter)
    with pytest.raises(InkmathError, match="No sheet of paper"):
        clean_page(np.full((600, 800, 3), 20, np.uint8))  # a dark photo


def test_load_photo_applies_exif_orientation_and_bounds_size(tmp_path):
    rgb = np.zeros((40, 60, 3), np.uint8)
    img, shown = load_photo(_jpeg(rgb, exif_orientation=6))  # the camera was turned: shown 40 wide, 60 tall
    assert shown == (40, 60) and img.shape[:2] == (60, 40)
    with pytest.raises(InkmathError, match="too large"):
        load_photo(_jpeg(rgb), max_pixels=1000)
    with pytest.raises(InkmathError, match=r"not a readable image \(unknown format\)") as junk:
        load_photo(b"not an image")
    assert " at 0x" not in str(junk.value)  # no Python object in the user's error (it named a BytesIO)
    with pytest.raises(InkmathError, match="not a readable image") as cut:
        load_photo(_jpeg(rgb)[:300])
    assert " at 0x" not in str(cut.value)
    with pytest.raises(InkmathError, match="no such file"):
        load_photo(tmp_path / "missing.jpg")
    with pytest.raises(InkmathError, match="is a folder, not a file"):  # it said "no such file"
        load_photo(tmp_path)


def _png(array: np.ndarray, mode: str | None = None, fmt: str = "PNG") -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(array, mode).save(buf, fmt)
    return buf.getvalue()


def test_scans_of_any_depth_and_transparent_pages_load_as_their_8_bit_grey():
    """A 16-bit grey PNG, a float TIFF and ink on a transparent background give the photo the 8-bit grey gives
    (Pillow's own conversion clips deep values at 255: a 16-bit scan's grey ink turned white, an empty page), and so
    does a uint16 array from the Python API."""
    grey = np.full((30, 40), 246, np.uint8)
    grey[10:20, 5:35] = np.linspace(20, 200, 30).astype(np.uint8)  # ink from dark to pale
    want, _ = load_photo(_png(grey))
    deep = grey.astype(np.uint16) * 257
    alpha = np.zeros((30, 40, 4), np.uint8)
    alpha[..., 3] = 255 - grey  # black ink as opacity over nothing
    for data in (_png(deep), _png(grey.astype(np.float32) / 255, "F", "TIFF"), _png(alpha, "RGBA")):
        got, shown = load_photo(data)
        assert shown == (40, 30) and np.abs(got.astype(int) - want.astype(int)).max() <= 1
    got, _ = load_photo(deep)
    assert np.abs(got.astype(int) - want.astype(int)).max() <= 1


def test_huge_photo_is_decoded_downscaled():
    big = cv2.resize(_photo(_sheet([("x=2", 150, 300)])), (6000, 4000), interpolation=cv2.INTER_NEAREST)
    img, shown = load_photo(_jpeg(big))
    assert shown == (6000, 4000) and max(img.shape) <= 3000  # JPEG draft decode: 1/2 of the size or less


# ------------------------------------------------------------------------------------------------ with the model
@pytest.fixture(scope="module")
def fixture_reading(predictor):
    from inkmath.equation.page.read import read_page

    return read_page(FIXTURE, predictor, solve=False)


def test_generated_fixture_every_expression_found_in_order(fixture_reading):
    truth = json.loads(FIXTURE.with_suffix(".json").read_text())["truth"]
    got = fixture_reading.expressions
    assert (fixture_reading.width, fixture_reading.height) == (1512, 2016)
    assert len(got) == len(truth)
    for t, e in zip(truth, got):  # same order, boxes in the photo's pixels
        assert _iou(t["box"], e.box) >= 0.5, (t, e.box)
        assert e.symbols and all(len(s["box"]) == 4 for s in e.symbols)


def test_a_page_written_with_a_fine_pen_is_read_from_its_ink_as_found_not_narrowed(fixture_reading, predictor):
    """The fixture page written with a fine pen (``bench_page.py --fixture ... --pen 0.03,0.045``: strokes 1-2 px at
    the working size) falls apart when narrowed to its strokes' cores (``page_find.narrowing``), so it is read from its
    ink as the grouping found it; the same page with the generator's pen is still narrowed. Narrowed, its last line
    read ``\\lim_{T\\rightarrow \\infty}x_{T}(()=,c(i)`` (robustness-21)."""
    from inkmath.equation.page import read as page
    from inkmath.equation.core.metrics import same_expression
    from inkmath.equation.photo.find import narrowing

    fine = page.read_page(FINE_PEN, predictor, solve=False)
    breaks, width = narrowing(fine.found, fine.page.sharp_dark())
    assert breaks > views.READ_BREAKS or width < views.READ_FINE_PEN
    assert not fine.found.narrow and fixture_reading.found.narrow
    breaks, width = narrowing(fixture_reading.found, fixture_reading.page.sharp_dark())
    assert breaks <= views.READ_BREAKS and width >= views.READ_FINE_PEN
    truth = json.loads(FINE_PEN.with_suffix(".json").read_text())["truth"]
    assert len(fine.expressions) == len(truth)
    assert same_expression(fine.expressions[-1].latex, truth[-1]["latex"]), fine.expressions[-1].latex
    assert sum(same_expression(e.latex, t["latex"]) for e, t in zip(fine.expressions, truth)) >= 2


def _spy_clean_ups(monkeypatch, page_mod, noisy: bool, factor: float):
    """(each ``clean_page`` call's keyword arguments, the pages made), recorded while ``read_page`` runs; with
    ``noisy`` the second clean-up's ink counts ``factor`` + 1 times its components, as noise would."""
    calls, cleaned = [], []

    def clean(*a, **kw):
        calls.append(kw)
        cleaned.append(clean_page(*a, **kw))
        return cleaned[-1]

    def pieces(ink):
        n = cv2.connectedComponents(ink, connectivity=8)[0] - 1
        return n * (1 + factor * (noisy and len(cleaned) == 2 and ink is cleaned[1].ink))

    for module in (page_mod, views):  # the page's second clean-up (a fine pen) and the writing size's (``views``)
        monkeypatch.setattr(module, "clean_page", clean)
        monkeypatch.setattr(module, "ink_pieces", pieces)
    return calls, cleaned


def test_a_fine_pens_page_is_cleaned_again_from_a_lower_ink_floor_unless_that_finds_mostly_noise(monkeypatch,
                                                                                                   predictor):
    """A page read from its ink as found (a fine pen) is cleaned a second time with ``FINE_INK_FLOOR`` as the darkness
    a stroke must reach, and read from that ink, unless it has over ``FAINTER_PIECES`` times as many components; a page
    read narrowed is cleaned once."""
    from inkmath.equation.page import read as page_mod

    for photo, noisy, floors_wanted in ((FINE_PEN, False, [None, page_mod.FINE_INK_FLOOR]),
                                        (FINE_PEN, True, [None, page_mod.FINE_INK_FLOOR]), (FIXTURE, False, [None])):
        calls, cleaned = _spy_clean_ups(monkeypatch, page_mod, noisy, page_mod.FAINTER_PIECES)
        got = page_mod.read_page(photo, predictor, solve=False, ink_model=None)
        assert [kw.get("floor") for kw in calls] == floors_wanted
        assert got.page is cleaned[0 if noisy or len(cleaned) == 1 else 1]
        assert not got.found.narrow if photo == FINE_PEN else got.found.narrow
        assert len(got.expressions) == 6


def test_a_page_written_with_a_wide_pen_reads_its_crops_eroded_by_one_pixel(fixture_reading):
    """A page whose narrowed strokes measure over ``READ_WIDE_PEN`` of its typical mark (a felt pen) is read from crops
    eroded by one crop pixel, so that its symbols touch less; a narrower pen's crops are read as narrowed."""
    import dataclasses

    from inkmath.equation.page import read as page
    from inkmath.equation.photo.find import narrowing

    found, cp = fixture_reading.found, fixture_reading.page
    assert found.core_width == narrowing(found, cp.sharp_dark())[1] > 0  # measured by read_page
    g = found.groups[0]
    as_read, corner, f = views.group_crop(cp, dataclasses.replace(found, core_width=0.0), g)
    limit = views.READ_WIDE_PEN * found.unit
    narrow, _, _ = views.group_crop(cp, dataclasses.replace(found, core_width=limit - 0.1), g)
    assert np.array_equal(narrow, as_read)
    eroded, corner2, f2 = views.group_crop(cp, dataclasses.replace(found, core_width=limit + 0.1), g)
    assert (corner2, f2) == (corner, f) and eroded.shape == as_read.shape
    assert np.array_equal(eroded, cv2.erode(as_read, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))))
    assert 0 < np.count_nonzero(eroded) < 0.8 * np.count_nonzero(as_read)


def test_expression_box_is_the_union_of_its_symbols_boxes(fixture_reading):
    # each symbol's box is mapped to the photo alone: the expression's sheet box mapped whole would be taller on a
    # turned photo (its corners stick out), and a long line's box would miss the truth's at IoU 0.5
    for e in fixture_reading.expressions:
        boxes = [s["box"] for s in e.symbols]
        union = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
        assert e.box == pytest.approx(union, abs=0.11)


def test_page_expression_confidence_is_the_page_calibration_of_the_readers_one(fixture_reading, predictor):
    from inkmath.equation.image.segmentation import in_place_of_default
    from inkmath.equation.page.read import PAGE_ENGINE
    from inkmath.equation.photo.views import group_crop
    from inkmath.equation.recognize import DEFAULT_WEIGHTS, default_decoder, recognize_image

    from inkmath.equation.page.read import READ_COARSE_BELOW, READ_COARSE_UPSCALE, READ_SMOOTH, READ_SMOOTH_BELOW
    from inkmath.equation.reader.calibrate import page_confidence

    predictor = in_place_of_default(predictor, DEFAULT_WEIGHTS, PAGE_ENGINE)  # the classifier the page reads with

    def reading(g, smooth=0.0, upscale=None):  # with the page's decoder
        return recognize_image(group_crop(fixture_reading.page, fixture_reading.found, g, smooth, upscale)[0],
                               predictor, solve=False, ink="white", decoder=default_decoder("page"))

    for e, g in zip(fixture_reading.expressions, fixture_reading.found.groups):
        # read from the narrowed ink and, unless that reading is sure, from the smoothed-then-narrowed ink, and when
        # still unsure from the narrowed ink not enlarged: the most confident reading is kept
        rec = reading(g)
        if rec.confidence < READ_SMOOTH_BELOW:
            rec = max([rec, reading(g, READ_SMOOTH)], key=lambda r: r.confidence)
        if rec.confidence < READ_COARSE_BELOW:
            rec = max([rec, reading(g, 0.0, READ_COARSE_UPSCALE)], key=lambda r: r.confidence)
        assert e.latex == rec.latex and e.confidence_features["confidence"] == round(float(rec.confidence), 4)
        assert e.confidence == round(page_confidence(e.confidence_features), 4) and 0.0 <= e.confidence <= 1.0
        assert e.alternatives and e.alternatives[0]["latex"] == e.latex
        assert e.alternatives[0]["confidence"] == e.confidence


@pytest.mark.parametrize("below, reads", [(0.0, 1), (1.01, 2)])
def test_a_sure_first_reading_is_not_read_again_from_the_smoothed_ink(monkeypatch, fixture_reading, predictor,
                                                                     below, reads):
    from inkmath.equation import recognize
    from inkmath.equation.page import read as page

    calls = []
    read = recognize.recognize_image

    def counted(*a, **k):
        calls.append(1)
        return read(*a, **k)

    monkeypatch.setattr(recognize, "recognize_image", counted)
    monkeypatch.setattr(page, "READ_SMOOTH_BELOW", below)
    monkeypatch.setattr(page, "READ_COARSE_BELOW", 0.0)  # the second size is another test's
    g = fixture_reading.found.groups[0]
    e = page._read_group(fixture_reading.page, fixture_reading.found, g, predictor)
    assert e is not None and len(calls) == reads
    if below == 0.0:  # the first reading (unsmoothed ink) is kept as it is
        first = read(views.group_crop(fixture_reading.page, fixture_reading.found, g)[0], predictor, solve=False,
                     ink="white")
        assert e.latex == first.latex


@pytest.mark.parametrize("below, reads", [(0.0, 1), (1.01, 2)])
def test_an_unsure_reading_is_read_again_from_the_ink_not_enlarged(monkeypatch, fixture_reading, predictor, below,
                                                                   reads):
    from inkmath.equation import recognize
    from inkmath.equation.page import read as page

    crops = []
    read = recognize.recognize_image

    def recorded(image, *a, **k):
        crops.append(image.shape)
        return read(image, *a, **k)

    monkeypatch.setattr(recognize, "recognize_image", recorded)
    monkeypatch.setattr(page, "READ_SMOOTH_BELOW", 0.0)  # one reading a size
    monkeypatch.setattr(page, "READ_COARSE_BELOW", below)
    g = fixture_reading.found.groups[0]
    e = page._read_group(fixture_reading.page, fixture_reading.found, g, predictor)
    assert e is not None and len(crops) == reads
    if reads == 2:  # the second crop is the same ink not enlarged (its pad too): half the first one's size
        big, small = crops
        assert small == views.group_crop(fixture_reading.page, fixture_reading.found, g, 0.0, 1)[0].shape
        assert abs(big[0] - 2 * small[0]) <= 1 and abs(big[1] - 2 * small[1]) <= 1
        readings = [read(views.group_crop(fixture_reading.page, fixture_reading.found, g, 0.0, u)[0], predictor,
                         solve=False, ink="white") for u in (views.READ_UPSCALE, 1)]
        assert e.latex == max(readings, key=lambda r: r.confidence).latex  # the surer kept


def _record_mark_reads(monkeypatch) -> list[tuple[int, tuple[int, ...]]]:
    """The orientation check's reads, recorded as (marks, quarter turns) while it reads them as it does."""
    from inkmath.equation.photo import orient as page_orient

    read = []
    probs = page_orient.mark_probs

    def recorded(crops, pred, quarter_turns):
        read.append((len(crops), tuple(quarter_turns)))
        return probs(crops, pred, quarter_turns)

    monkeypatch.setattr(page_orient, "mark_probs", recorded)
    return read


def test_an_upright_page_that_reads_surely_is_not_read_turned(monkeypatch, predictor):
    from inkmath.equation.photo import orient as page_orient
    from inkmath.equation.photo.clean import clean_page, load_photo

    photo = _photo(_sheet([("3x+5=11", 150, 300), ("x-4=2", 150, 500)]))
    clean = clean_page(*load_photo(np.ascontiguousarray(np.rot90(photo, 1))))
    read = _record_mark_reads(monkeypatch)
    monkeypatch.setattr(page_orient, "ORIENTATION_SURE", 1.01)  # never sure: the turns are read, the page is turned
    n, k = len(page_orient.orientation_marks(clean.ink)), page_orient.ORIENTATION_FIRST
    assert n > k > 0
    assert page_orient.upright(clean, predictor).rotation == 90
    # the first marks in all four turns, then (they read surer turned) the rest as they stand, then turned
    assert read == [(k, (0, 1, 2, 3)), (n - k, (0,)), (n - k, (1, 2, 3))]
    read.clear()
    monkeypatch.setattr(page_orient, "ORIENTATION_FIRST", 0)  # every mark as it stands, then every mark turned
    assert page_orient.upright(clean, predictor).rotation == 90 and read == [(0, (0, 1, 2, 3)), (n, (0,)), (n, (1, 2, 3))]
    read.clear()
    monkeypatch.setattr(page_orient, "ORIENTATION_SURE", 0.0)  # always sure: only the page as it stands is read
    assert page_orient.upright(clean, predictor).rotation == clean.rotation and read == [(0, (0, 1, 2, 3)), (n, (0,))]


def test_a_mark_that_fills_its_box_is_read_by_the_orientation_check_not_taken_for_a_blank_crop(predictor):
    """A level bar 3 px thick fills its bounding box: cut alone it was all ink, which the classifier refuses as a
    blank image, and the whole page failed ("No ink found in the image", a page bowed like a notebook's whose grid
    left such pieces)."""
    from inkmath.equation.photo import orient as page_orient

    ink = np.zeros((120, 200), np.uint8)
    ink[50:53, 40:80] = 255  # the bar: its box is all ink
    ink[30:70, 120:124] = 255
    ink[30:34, 110:134] = 255  # a T beside it
    crops = page_orient.orientation_marks(ink)
    assert len(crops) == 2 and all((c == 0).any() for c in crops)
    assert page_orient.mark_probs(crops, predictor, [0, 1, 2, 3]).shape == (4, 2)


def test_an_upright_page_whose_first_marks_read_worse_turned_is_not_read_further(monkeypatch, predictor):
    from inkmath.equation.photo import orient as page_orient
    from inkmath.equation.photo.clean import clean_page, load_photo

    clean = clean_page(*load_photo(_photo(_sheet([("3x+5=11", 150, 300), ("x-4=2", 150, 500)]))))
    read = _record_mark_reads(monkeypatch)
    monkeypatch.setattr(page_orient, "ORIENTATION_SURE", 1.01)
    monkeypatch.setattr(page_orient, "ORIENTATION_CLEAR", -1.0)  # any first marks are clear
    assert page_orient.upright(clean, predictor) is clean and read == [(page_orient.ORIENTATION_FIRST, (0, 1, 2, 3))]
    read.clear()
    monkeypatch.setattr(page_orient, "ORIENTATION_CLEAR", 1.01)  # never clear: every mark is read as before
    assert page_orient.upright(clean, predictor) is clean and [r[1] for r in read] == [(0, 1, 2, 3), (0,), (1, 2, 3)]


def test_question_number_returned_as_label_crossed_out_ignored(predictor):
    from inkmath.equation.page.read import read_page
    from inkmath.equation.solve.answer import answer

    def scribble(img):
        rng = np.random.default_rng(3)
        zig = np.column_stack([np.linspace(560, 760, 50), 650 + rng.uniform(-45, 45, 50)]).astype(np.int32)
        for k in range(7):
            cv2.polylines(img, [(zig + (0, 5 * k)).reshape(-1, 1, 2)], False, (30, 30, 35), 5, cv2.LINE_AA)

    sheet = _sheet([("1)   3x+5=11", 120, 300), ("2)   x-4=2", 120, 500), ("x+y", 560, 680)], extra=scribble)
    reading = read_page(_photo(sheet), predictor, solve=True)
    labels = [e.label for e in reading.expressions]
    assert labels[:2] == ["1)", "2)"], [(e.label, e.latex) for e in reading.expressions]
    for e in reading.expressions:  # each kept reading solved (in threads beside the reading), without its label
        assert e.answer == {**answer(e.tree), "elapsed_s": e.answer["elapsed_s"]}
        assert e.answer["input_latex"] == e.latex
    assert reading.found.dropped["scribbles"]  # the crossed-out part is not read
    assert len(reading.expressions) == 2
    assert "(" not in reading.expressions[0].latex.split("=")[0][:2]


def test_printed_header_is_read_as_a_line(predictor):
    """A printed header is not recognised as print: it is found as one more line and read with maths symbols."""
    from inkmath.equation.page.read import read_page

    def header(img):
        cv2.putText(img, "Test 3 - Algebra", (140, 130), cv2.FONT_HERSHEY_SIMPLEX, 1.4, (20, 20, 20), 3, cv2.LINE_AA)

    reading = read_page(_photo(_sheet([("x+2=5", 150, 400)], extra=header)), predictor, solve=False)
    assert len(reading.expressions) == 2
    assert reading.expressions[0].box[1] < reading.expressions[1].box[1]  # the header first, in reading order


@pytest.mark.parametrize("box, labels, mark", [
    ((0, 0, 8, 6), ["n"], True),  # a lone dot a cut or join left alone, read as a letter
    ((0, 0, 30, 3), ["-"], True),  # a piece of a paper line
    ((0, 0, 60, 6), ["=", "="], True),
    ((0, 0, 30, 3), [], False),  # nothing read: no reading to judge
    ((0, 0, 30, 40), ["x"], False),  # one letter alone is an expression (485 of the CROHME training ones)
    ((0, 0, 60, 40), ["-", "1"], False),
])
def test_a_lone_dot_or_a_reading_of_bars_alone_is_a_mark_not_writing(box, labels, mark):
    from types import SimpleNamespace

    from inkmath.equation.page.regroup import not_writing

    e = SimpleNamespace(symbols=[{"label": x} for x in labels])
    assert not_writing(_g(*box), e, unit=40.0) is mark


def test_a_piece_of_a_paper_line_read_as_a_bar_is_ignored_not_returned(predictor, monkeypatch):
    """A short bar far from the writing (what the clean-up may leave of a paper line) is found as a group of its own
    and read "-"; it is not returned, and the page's notes say so."""
    from inkmath.equation.page import regroup as page_regroup
    from inkmath.equation.page.read import read_page

    def piece(img):
        cv2.line(img, (150, 1150), (185, 1150), (30, 30, 35), 4, cv2.LINE_AA)

    photo = _photo(_sheet([("x+2=5", 150, 400)], extra=piece))
    reading = read_page(photo, predictor, solve=False)
    assert [e.latex for e in reading.expressions] == ["x+2=5"]
    assert any(n.startswith("1 mark(s) that are not writing ignored") for n in reading.notes), reading.notes
    monkeypatch.setattr(page_regroup, "BARS", set())
    assert [e.latex for e in read_page(photo, predictor, solve=False).expressions] == ["x+2=5", "-"]


def test_a_pages_crops_are_read_with_the_page_decoders_wider_search(monkeypatch, predictor):
    from inkmath.equation import recognize
    from inkmath.equation.page.read import read_page

    page, image = recognize.default_decoder("page"), recognize.default_decoder("image")
    # a wider beam on each grouping (the image reader reads more groupings: each was chosen on its own validation)
    assert page.weights.beam > image.weights.beam and page.weights.alt_beam >= image.weights.alt_beam
    assert page.symbol_model is image.symbol_model and page.lm is image.lm  # the same models
    assert page.segmentations == recognize.PAGE_SEGMENTATIONS != image.segmentations
    used, real = [], recognize.recognize_image

    def spy(*args, **kwargs):
        used.append(kwargs.get("decoder"))
        return real(*args, **kwargs)

    monkeypatch.setattr(recognize, "recognize_image", spy)
    reading = read_page(_photo(_sheet([("x+2=5", 150, 400), ("3x=9", 150, 600)])), predictor, solve=False)
    assert len(reading.expressions) == 2
    from inkmath.equation.page.read import page_decoder
    from inkmath.equation.page.label import LabelledLineLM

    read_with = page_decoder()  # the page decoder, its language model reading a line less a question number
    assert read_with.weights is page.weights and isinstance(read_with.lm, LabelledLineLM) and read_with.lm.lm is page.lm
    assert used and all(d is read_with for d in used)
    with pytest.raises(InkmathError, match="No reader of kind 'pages'"):
        recognize.default_decoder("pages")


def test_rotated_photos_are_turned_upright(predictor):
    from inkmath.equation.page.read import read_page

    photo = _photo(_sheet([("3x+5=11", 150, 300), ("x-4=2", 150, 500)]))
    upright = [e.latex for e in read_page(photo, predictor, solve=False).expressions]
    assert upright[0] == "3x+5=11"
    for k in (1, 2):  # 90 and 180 degrees (270 is the same test as 90)
        turned = read_page(np.ascontiguousarray(np.rot90(photo, k)), predictor, solve=False)
        got = [e.latex for e in turned.expressions]
        # the sheet is resampled differently once turned, so a symbol may read differently; the lines must not
        assert len(got) == 2 and got[0] == upright[0], (k, got)
        assert turned.page.rotation == (90 * k) % 360


def test_exif_rotated_photo_boxes_in_shown_pixels(predictor):
    from inkmath.equation.page.read import read_page

    photo = _photo(_sheet([("3x+5=11", 150, 300)]))
    stored = np.ascontiguousarray(np.rot90(photo, 1))  # pixels stored turned; EXIF 6 turns them back when shown
    reading = read_page(_jpeg(stored, exif_orientation=6), predictor, solve=False)
    assert (reading.width, reading.height) == (photo.shape[1], photo.shape[0])
    direct = read_page(photo, predictor, solve=False)
    assert len(reading.expressions) == len(direct.expressions) == 1
    assert _iou(reading.expressions[0].box, direct.expressions[0].box) > 0.8


def test_cli_page_json_one_line_per_file_errors_do_not_stop(tmp_path, capsys, predictor):
    from inkmath.cli import main

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"nope")
    photo = tmp_path / "page.jpg"
    photo.write_bytes(_jpeg(_photo(_sheet([("x+2=5", 150, 300)]))))
    code = main(["recognize", "--page", str(bad), str(photo), "--json", "--debug-dir", str(tmp_path / "dbg")])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1 and len(lines) == 2
    assert lines[0]["file"] == str(bad) and "not a readable image" in lines[0]["error"]
    assert lines[1]["file"] == str(photo) and len(lines[1]["expressions"]) == 1
    e = lines[1]["expressions"][0]
    assert {"latex", "mathml", "box", "answer", "symbols"} <= set(e)
    assert sorted(p.name for p in (tmp_path / "dbg" / "page").iterdir()) == ["1-sheet.png", "2-flat.png", "3-ink.png",
                                                                              "4-boxes.png"]


def test_web_page_route(predictor):
    from fastapi.testclient import TestClient

    from inkmath.web.app import create_app

    client = TestClient(create_app())
    data = _jpeg(_photo(_sheet([("x+2=5", 150, 300), ("2x=6", 150, 500)])))
    r = client.post("/api/page", files={"file": ("page.jpg", data, "image/jpeg")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["width"] > 0 and len(body["expressions"]) == 2
    assert body["expressions"][0]["box"][1] < body["expressions"][1]["box"][1]
    assert client.post("/api/page", files={"file": ("x.jpg", b"nope", "image/jpeg")}).status_code == 422
    assert client.post("/api/page", files={"image": ("x.jpg", data, "image/jpeg")}).status_code == 422
    assert client.post("/api/page", json={"file": 1}).status_code == 415
    blank = _jpeg(_photo(_sheet([])))
    r = client.post("/api/page", files={"file": ("blank.jpg", blank, "image/jpeg")})
    assert r.status_code == 200 and r.json()["expressions"] == []


def test_a_page_expression_read_again_from_its_crop_reads_the_same_and_takes_a_correction(fixture_reading,
                                                                                         predictor):
    """``read_again`` reads an expression's crop as the page read it (the same LaTeX and photo boxes), also from its
    JSON form (PNG and map); a correction of one symbol is kept and the rest read again in its light."""
    import base64

    import cv2

    from inkmath.equation.page.read import PageCrop, read_again

    for e in fixture_reading.expressions:
        again = read_again(e.crop, predictor=predictor, solve=False)
        assert again.latex == e.latex and again.box == e.box
        assert [s["box"] for s in again.symbols] == [s["box"] for s in e.symbols]
    e = max(fixture_reading.expressions, key=lambda x: len(x.symbols))
    d = e.crop_dict()
    png = cv2.imdecode(np.frombuffer(base64.b64decode(d["png"]), np.uint8), cv2.IMREAD_GRAYSCALE)
    crop = PageCrop(png, np.array(d["to_photo"]), tuple(d["photo_size"]))
    assert read_again(crop, predictor=predictor, solve=False).latex == e.latex
    k = len(e.symbols) - 1
    other = next(a["label"] for a in e.symbols[k]["alternatives"] if a["label"] != e.symbols[k]["label"])
    fixed = read_again(crop, {k: other}, predictor)
    assert fixed.symbols[k]["label"] == other and fixed.latex != e.latex
    with pytest.raises(InkmathError, match="only"):
        read_again(crop, {len(e.symbols) + 3: other}, predictor)


def test_web_page_expression_route_reads_a_crop_again_with_corrections(predictor):
    """POST /api/page/expression reads an expression's crop from POST /api/page again (the same reading without
    corrections, the corrected symbol kept with one); a bad crop, map, index or label is a one-line 4xx error."""
    from fastapi.testclient import TestClient

    from inkmath.web.app import create_app

    client = TestClient(create_app())
    data = _jpeg(_photo(_sheet([("x+2=5", 150, 300), ("2x=6", 150, 500)])))
    page = client.post("/api/page", files={"file": ("page.jpg", data, "image/jpeg")}).json()
    e = page["expressions"][0]
    assert set(e["crop"]) == {"png", "to_photo", "photo_size"} and e["crop"]["photo_size"] == [page["width"],
                                                                                               page["height"]]
    r = client.post("/api/page/expression", json={"crop": e["crop"]})
    assert r.status_code == 200, r.text
    again = r.json()
    assert (again["latex"], again["box"], again["answer"]["text"]) == (e["latex"], e["box"], e["answer"]["text"])
    k = 0
    other = next(a["label"] for a in e["symbols"][k]["alternatives"] if a["label"] != e["symbols"][k]["label"])
    r = client.post("/api/page/expression", json={"crop": e["crop"], "corrections": {str(k): other}})
    assert r.status_code == 200, r.text
    assert r.json()["symbols"][k]["label"] == other and r.json()["latex"] != e["latex"]
    bad = [({"crop": {**e["crop"], "png": "%%%"}}, "not base64"),
           ({"crop": {**e["crop"], "png": "bm90IGEgcG5n"}}, "not a readable image"),
           ({"crop": {**e["crop"], "to_photo": [[0, 0, 0], [0, 0, 0], [0, 0, 1]]}}, "not an invertible"),
           ({"crop": e["crop"], "corrections": {"40": other}}, "only"),
           ({"crop": e["crop"], "corrections": {"0": "nonsense"}}, "not a label"),
           ({"crop": {**e["crop"], "photo_size": [0, 5]}}, "photo_size"),
           ({"corrections": {}}, "crop")]
    for body, words in bad:
        r = client.post("/api/page/expression", json=body)
        assert r.status_code == 422 and words in r.json()["error"] and "\n" not in r.json()["error"], (body, r.text)
    r = client.post("/api/page/expression", files={"file": ("x.png", b"x", "image/png")})
    assert r.status_code == 415 and "application/json" in r.json()["error"]


def test_web_page_body_limit_is_the_pages_own_and_named(predictor):
    """A phone's photo is larger than the API's 8 MB body limit: /api/page takes up to its own limit, and a body over
    it gets a 413 naming that limit (before the body is read)."""
    from fastapi.testclient import TestClient

    from inkmath.web.app import create_app

    client = TestClient(create_app(max_body_bytes=64 * 1024, max_page_body_bytes=4 * 1024 * 1024))
    data = _jpeg(_photo(_sheet([("x+2=5", 150, 300)])))
    assert 64 * 1024 < len(data) < 4 * 1024 * 1024
    r = client.post("/api/page", files={"file": ("page.jpg", data, "image/jpeg")})
    assert r.status_code == 200 and len(r.json()["expressions"]) == 1, r.text
    r = client.post("/api/expression", files={"image": ("x.jpg", data, "image/jpeg")})
    assert r.status_code == 413 and "limit 65,536 bytes" in r.json()["error"]
    big = data + b"\0" * (4 * 1024 * 1024)
    r = client.post("/api/page", files={"file": ("page.jpg", big, "image/jpeg")})
    assert r.status_code == 413
    assert r.json()["error"].startswith("The page photo is too large (4.")
    assert "at most 4 MB" in r.json()["error"] and "24 megapixels" in r.json()["error"]


def test_24_megapixel_page_is_read_downscaled(tmp_path, capsys, predictor):
    """A 24-megapixel phone JPEG (larger than the API's general 8 MB limit) is read by the CLI and by /api/page, with
    boxes in its own pixels."""
    from fastapi.testclient import TestClient

    from inkmath.cli import main
    from inkmath.web.app import create_app
    from inkmath.web.schemas import MAX_BODY_BYTES

    small = _photo(_sheet([("x+2=5", 150, 300), ("2x=6", 150, 500)]))
    big = cv2.resize(small, (4000, 6000), interpolation=cv2.INTER_CUBIC)
    big = np.clip(big.astype(np.int16) + np.random.default_rng(0).integers(-12, 13, big.shape), 0, 255).astype(np.uint8)
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(big).save(buf, "JPEG", quality=97)
    data = buf.getvalue()
    assert len(data) > MAX_BODY_BYTES  # a camera's file: over the general limit
    photo = tmp_path / "big.jpg"
    photo.write_bytes(data)
    assert main(["recognize", "--page", str(photo), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["width"], out["height"]) == (4000, 6000) and len(out["expressions"]) == 2
    assert out["expressions"][0]["box"][3] < out["expressions"][1]["box"][1] and out["expressions"][1]["box"][2] > 1000
    r = TestClient(create_app()).post("/api/page", files={"file": ("big.jpg", data, "image/jpeg")})
    assert r.status_code == 200, r.text[:300]
    assert [e["box"] for e in r.json()["expressions"]] == [e["box"] for e in out["expressions"]]


def test_a_16_bit_scan_reads_as_its_8_bit_grey(predictor):
    """A flat-bed scan saved as a 16-bit grey PNG (no table, no perspective) reads the expressions its 8-bit grey
    reads; before, every ink pixel but pure black turned white and the page read as empty."""
    from inkmath.equation.page.read import recognize_page

    sheet = cv2.cvtColor(_sheet([("x+2=5", 150, 300), ("2x=6", 150, 500)], colour=(90, 90, 95)), cv2.COLOR_RGB2GRAY)
    want = [e.latex for e in recognize_page(_png(sheet), predictor, solve=False)]
    got = [e.latex for e in recognize_page(_png(sheet.astype(np.uint16) * 257), predictor, solve=False)]
    assert len(want) == 2 and got == want


def test_a_close_up_is_cleaned_again_at_the_writing_size_the_clean_up_is_made_for(monkeypatch, predictor):
    """A photo of one line written large (its marks over ``LARGE_WRITING`` px) is cleaned a second time, shrunk so
    that its marks measure about ``WRITING_SIZE``; it reads right, its box in the photo's own pixels. A page with
    writing of the usual size is cleaned once."""
    from inkmath.equation.page import read as page_mod
    from inkmath.equation.photo.find import typical_size

    shrinks = []
    real = page_mod.clean_page

    def spy(*args, **kwargs):
        shrinks.append(kwargs.get("shrink", 1.0))
        return real(*args, **kwargs)

    for module in (page_mod, views):  # the fine pen's clean-up (``read``), the writing size's (``views``)
        monkeypatch.setattr(module, "clean_page", spy)
    big = _sheet([("x+2=5", 120, 560)], size=190, w=1600, h=900, paper="ruled")
    got = page_mod.read_page(big, predictor, solve=False, ink_model=None)
    # (a third clean-up, at the same size from a lower ink floor: shrunk, its strokes are a fine pen's)
    assert shrinks[0] == 1.0 and shrinks[1] < 0.7 and shrinks[2:] in ([], [shrinks[1]])
    second = real(big, shrink=shrinks[1])
    assert abs(typical_size(second.ink) - views.WRITING_SIZE) < 0.25 * views.WRITING_SIZE
    assert [e.latex for e in got.expressions] == ["x+2=5"]
    ys, xs = np.nonzero(big.max(axis=2) < 128)  # the writing (the paper lines are paler or red)
    want = np.array([xs.min(), ys.min(), xs.max(), ys.max()], float)
    assert np.abs(np.array(got.expressions[0].box) - want).max() < 0.05 * (want[2] - want[0])  # the photo's pixels
    shrinks.clear()
    page_mod.read_page(_sheet([("x+2=5", 150, 300)]), predictor, solve=False, ink_model=None)
    assert shrinks == [1.0]


def test_small_writing_is_cleaned_again_enlarged_unless_that_finds_mostly_noise(monkeypatch, predictor):
    """A page whose typical mark measures under ``SMALL_WRITING`` px is cleaned a second time, enlarged towards
    ``WRITING_SIZE`` by at most ``MAX_ENLARGE``, its expressions still found where they are in the photo. (The
    fixture's writing is of the usual size: its typical mark is made to measure small.) When the enlarged ink falls
    into over ``ENLARGED_PIECES`` times as many components, the first clean-up is kept."""
    from inkmath.equation.page import read as page_mod

    real_size = page_mod.page_find.typical_size
    small = views.SMALL_WRITING - 6.0
    for noisy in (False, True):
        sizes = iter([small])
        monkeypatch.setattr(page_mod.page_find, "typical_size", lambda ink: next(sizes, 0.0) or real_size(ink))
        calls, cleaned = _spy_clean_ups(monkeypatch, page_mod, noisy, views.ENLARGED_PIECES)
        got = page_mod.read_page(FIXTURE, predictor, solve=False, ink_model=None)
        shrinks = [kw.get("shrink", 1.0) for kw in calls]
        assert shrinks == [1.0, min(views.MAX_ENLARGE, views.WRITING_SIZE / small)] and shrinks[1] > 1.0
        assert got.page is cleaned[0 if noisy else 1]
        truth = json.loads(FIXTURE.with_suffix(".json").read_text())["truth"]
        assert len(got.expressions) == len(truth)
        for t, e in zip(truth, got.expressions):
            assert _iou(t["box"], e.box) >= 0.5, (t, e.box)


def test_web_page_uploads_at_least_the_readers_working_size():
    """The web page downscales a photo before upload to UPLOAD_SIDE px: never below what the page reader works at."""
    import re

    from inkmath.equation.photo.clean import WORK_SIDE

    js = (Path(__file__).parents[1] / "src" / "inkmath" / "web" / "static" / "photo.js").read_text()
    side = int(re.search(r"export const UPLOAD_SIDE = (\d+);", js).group(1))
    assert WORK_SIDE <= side <= 2 * WORK_SIDE


def test_another_pen_changes_only_the_strokes_width():
    """page_synth's ``pen`` draws the same page with a wider or finer pen: the same expressions in the same places, more
    or less ink, the pen in the page's info (only when it is not the default, so the benchmark's pages stay as they
    were)."""
    from inkmath.data.crohme import InkmlExpression, TraceGroup
    from inkmath.equation.synth.pages import PEN, make_page
    from inkmath.synth import write

    exprs = []
    for i, text in enumerate(["x+1=2", "y-3=4", "2x=8"]):
        ss = [np.asarray(p, float) for p in write(text, x=0, base_y=40, size=40)]
        exprs.append(InkmlExpression(f"e{i}", ss, [TraceGroup(text, list(range(len(ss))))], latex_truth=text))
    plain, wide, fine = (make_page(exprs, 3, max_count=3, **kw) for kw in ({}, {"pen": (0.16, 0.16)},
                                                                           {"pen": (0.03, 0.03)}))
    assert "pen" not in plain.info and wide.info["pen"] == [0.16, 0.16] and PEN == (0.06, 0.1)
    assert [t["box"] for t in wide.truth] == [t["box"] for t in plain.truth] == [t["box"] for t in fine.truth]
    dark = [int((np.asarray(p.photo).min(axis=2) < 100).sum()) for p in (fine, plain, wide)]
    assert dark[0] < dark[1] < dark[2], dark


def test_generated_pages_written_smaller_or_larger_keep_their_random_draws():
    """``make_page(writing=)`` writes the same page with smaller or larger symbols (``bench_page.py --writing``): the
    same paper and expressions, boxes scaled about the writing; the size in the page's info only when it is not the
    default."""
    from inkmath.data.crohme import InkmlExpression, TraceGroup
    from inkmath.equation.synth.pages import SYMBOL_HEIGHT, make_page
    from inkmath.synth import write

    exprs = []
    for i, text in enumerate(["x+1=2", "y-3=4", "2x=8"]):
        ss = [np.asarray(p, float) for p in write(text, x=0, base_y=40, size=40)]
        exprs.append(InkmlExpression(f"e{i}", ss, [TraceGroup(text, list(range(len(ss))))], latex_truth=text))
    plain, small = (make_page(exprs, 3, max_count=3, **kw) for kw in ({}, {"writing": SYMBOL_HEIGHT * 0.6}))
    assert "writing" not in plain.info and small.info["writing"] == SYMBOL_HEIGHT * 0.6
    assert small.info["symbol_height"] == pytest.approx(0.6 * plain.info["symbol_height"], abs=0.1)
    assert [t["id"] for t in small.truth] == [t["id"] for t in plain.truth]
    assert {k: v for k, v in small.info.items() if k not in ("writing", "symbol_height")} == \
        {k: v for k, v in plain.info.items() if k != "symbol_height"}
    for a, b in zip(small.truth, plain.truth):
        assert (a["box"][3] - a["box"][1]) < 0.8 * (b["box"][3] - b["box"][1])


def test_generated_question_numbers_use_their_own_random_stream():
    """page_synth writes a question number before each expression from a bank of written symbols; without a bank the
    same seed makes the same page as before (the benchmark's pages do not move)."""
    from inkmath.data.crohme import InkmlExpression, TraceGroup
    from inkmath.equation.synth.pages import make_page, symbol_bank
    from inkmath.synth import write

    def expr(i: int, text: str) -> InkmlExpression:  # each character one truth symbol
        strokes, groups = [], []
        t = np.linspace(0, 2 * np.pi, 20)
        for k, ch in enumerate(text):
            if ch == ".":
                ss = [np.array([[30.0 * k, 38], [30.0 * k + 2, 40]])]
            elif ch in "abcdef":  # a loop stands for a letter
                ss = [np.column_stack([30 * k + 10 + 9 * np.cos(t), 30 + 9 * np.sin(t)])]
            else:
                ss = [np.asarray(p, float) for p in write(ch, x=30 * k, base_y=40, size=40)]
            groups.append(TraceGroup(ch, list(range(len(strokes), len(strokes) + len(ss)))))
            strokes += ss
        return InkmlExpression(f"e{i}", strokes, groups, latex_truth=text)

    exprs = [expr(i, t) for i, t in enumerate(["1)", "2.", "3)", "4.", "a)", "b.", "c)", "d.", "x+1", "y-3", "2+8",
                                               "9=x", "(5)", "(6.", "e0f", "78)"])]
    bank = symbol_bank(exprs)
    assert set(bank) == set("0123456789abcdef).(") and len(bank[")"]) == 6  # "+", "=", "x", "y" are not for numbers
    plain, again = make_page(exprs, 7, max_count=4), make_page(exprs, 7, max_count=4)
    assert np.array_equal(plain.photo, again.photo) and all("label" not in t for t in plain.truth)
    seen = set()
    for seed in range(40):
        numbered = make_page(exprs, seed, max_count=4, labels=bank)
        labels = [t["label"] for t in numbered.truth]
        bodies = [x.lstrip("(")[:-1] for x in labels]
        assert len({x[-1] for x in labels}) == 1 and labels[0][-1] in ").", labels  # one style a page
        assert len({x.startswith("(") for x in labels}) == 1 and all(x[-1] == ")" for x in labels if x[0] == "(")
        if bodies[0].isdigit():  # counting up by one
            assert [int(b) for b in bodies] == list(range(int(bodies[0]), int(bodies[0]) + len(bodies))), labels
        else:
            assert "".join(bodies) == "abcdef"[:len(bodies)], labels
        for t in numbered.truth:  # the number is written before its expression, at its height
            lb, b = t["label_box"], t["box"]
            assert lb[2] < b[0] and lb[1] < b[3] and lb[3] > b[1], (lb, b)
        seen |= {"brackets" for x in labels if x[0] == "("} | {"two digits" for b in bodies if len(b) == 2}
        if seen == {"brackets", "two digits"}:
            break
    assert seen == {"brackets", "two digits"}  # "(a)" "(3)" and a numbering that goes on past 9 ("10)")


def test_a_line_split_by_a_wide_space_after_a_relation_is_joined_again(predictor):
    from inkmath.equation.page.read import read_page

    sheet = _sheet([("2x=", 120, 300), ("6", 430, 300), ("x+1", 120, 600)])
    reading = read_page(_photo(sheet), predictor, solve=False)
    unit = reading.found.unit
    assert [e.latex for e in reading.expressions] == ["2x=6", "x+1"], [e.latex for e in reading.expressions]
    # the grouping alone splits the first line: its space is wider than the line gap
    assert len(find_expressions(reading.page.ink).groups) == 3 and unit > 0


def _write(ink, text, x, y, size=40):
    from inkmath.synth import write

    for s in write(text, x=x, base_y=y, size=size):
        cv2.polylines(ink, [np.rint(s).astype(np.int32).reshape(-1, 1, 2)], False, 255, 3)


def test_learned_merge_joins_an_exponent_written_far_from_its_base_not_the_next_line():
    from inkmath.equation.photo import find as page_find

    ink = np.zeros((600, 900), np.uint8)
    _write(ink, "y=2", 60, 150)
    _write(ink, "2x+1", 200, 100, size=30)  # the exponent: up and to the right, beyond the fixed links' reach
    _write(ink, "x+3=7", 60, 260)  # the next line, under 2 units below: also a candidate, never joined
    assert len(page_find.group_ink(ink)[0]) == 3  # the fixed links alone, before the learned merge
    found = find_expressions(ink)
    assert len(found.groups) == 2, [g.box for g in found.groups]
    assert found.groups[0].box.y0 < 80 and found.groups[0].box.x1 > 250 and found.groups[0].box.y1 < 200
    assert found.groups[1].box.y0 > 200


def test_a_subscript_written_a_little_under_its_line_is_joined_by_the_learned_merge_not_a_fixed_rule():
    from inkmath.equation.photo import find as page_find

    ink = np.zeros((600, 900), np.uint8)
    _write(ink, "y(x)=21", 60, 150)
    _write(ink, "x-0", 100, 203, size=26)  # under its line, inside its width, its symbols between the line's
    _write(ink, "y+3=7", 60, 330)
    assert len(page_find.group_ink(ink)[0]) == 3  # the fixed links leave it apart
    found = find_expressions(ink)
    assert len(found.groups) == 2, [g.box for g in found.groups]
    assert found.groups[0].box.y1 > 190 and found.groups[1].box.y0 > 280


def test_page_merge_features_do_not_depend_on_the_pairs_order():
    from inkmath.equation.photo.merge import PAIR_FEATURES, group_summaries, pair_features

    groups = [_g(100, 100, 300, 140), _g(320, 60, 380, 95), _g(100, 300, 400, 340)]
    stats = _one_component_each(groups)
    s = group_summaries(groups, stats, 40.0)
    f = pair_features(s, 0, 1, 40.0)
    assert f.shape == (PAIR_FEATURES,) and np.isfinite(f).all()
    assert np.array_equal(f, pair_features(s, 1, 0, 40.0))
    assert not np.array_equal(f, pair_features(s, 0, 2, 40.0))


def test_the_pairs_of_the_linked_groups_scored_as_one_expression_are_joined_together():
    """A numerator, its bar and its denominator: the model scores numerator-bar and bar-denominator as one expression
    and every other pair (the joined bar and denominator with the numerator among them) as two. Joining the best
    pair at a time left the numerator apart; the pairs of the groups as linked are joined at once."""
    from inkmath.equation.photo.merge import group_summaries, line_gap, merge_features, merge_groups

    def groups():
        gs = [_g(140, 100, 260, 140), _g(100, 190, 300, 196), _g(120, 240, 280, 280)]  # numerator, bar, denominator
        _one_component_each(gs)
        return gs

    gs = groups()
    stats = _one_component_each(gs)
    s, gap = group_summaries(gs, stats, 40.0), line_gap(gs, 40.0)
    one = [merge_features(s, 0, 1, 40.0, gap), merge_features(s, 1, 2, 40.0, gap)]

    class PairScores:  # 0.99 for the two pairs of the linked groups, 0.01 for any other
        def prob(self, X):
            return np.array([0.99 if any(np.allclose(x, o) for o in one) else 0.01 for x in X])

    joined = merge_groups(groups(), stats, 40.0, model=PairScores())
    assert len(joined) == 1 and sorted(joined[0].components) == [1, 2, 3]
    assert (joined[0].box.y0, joined[0].box.y1) == (100, 280)


def test_line_gap_measures_how_close_a_pages_lines_are():
    from inkmath.equation.photo.merge import N_FEATURES, PAIR_FEATURES, group_summaries, line_gap, merge_features

    def page(gap):  # four lines 40 px high, ``gap`` px apart, and an exponent beside the first
        lines = [_g(100, 100 + k * (40 + gap), 400, 140 + k * (40 + gap)) for k in range(4)]
        return lines + [_g(410, 80, 440, 100)]

    assert line_gap(page(80), 40.0) == 2.0 and line_gap(page(20), 40.0) == 0.5
    assert line_gap(page(800), 40.0) == 10.0  # at most 10
    assert line_gap([_g(100, 100, 400, 140)], 40.0) == 10.0  # nothing under anything
    groups = page(20)
    stats = _one_component_each(groups)
    f = merge_features(group_summaries(groups, stats, 40.0), 0, 1, 40.0, 0.5)
    assert f.shape == (N_FEATURES,) == (PAIR_FEATURES + 1,) and f[-1] == 0.5


def test_candidate_cuts_are_the_empty_bands_across_a_group():
    from inkmath.equation.page.split import candidate_cuts

    # a numerator, its bar, its denominator and an "=" to their right (x, y, w, h, area)
    stats = np.array([[0, 0, 0, 0, 0], [100, 10, 60, 30, 900], [90, 50, 80, 6, 400], [110, 66, 40, 30, 700],
                      [200, 45, 30, 15, 200]])
    cuts = candidate_cuts([1, 2, 3, 4], stats)
    assert sorted((axis, sorted(a), sorted(b)) for axis, a, b in cuts) == [
        (0, [1, 2, 3], [4]), (1, [1], [2, 3, 4]), (1, [1, 2, 4], [3])]
    assert candidate_cuts([1, 2], stats) == [(1, [1], [2])]  # a numerator over its bar: one cut, along y


def _two_line_group():
    from inkmath.equation.photo.find import FoundExpressions

    # two short lines, one under the other, that the grouping left as one group
    stats = np.array([[0, 0, 0, 0, 0], [100, 100, 40, 40, 500], [160, 100, 40, 40, 500], [100, 160, 40, 40, 500],
                      [160, 160, 40, 40, 500]])
    found = FoundExpressions([InkGroup(Box(100, 100, 200, 200), [1, 2, 3, 4])], np.zeros((300, 300), np.int32),
                             40.0, stats=stats)
    return found


@pytest.mark.parametrize("joined, kept", [("\\lim_{x\\rightarrow 0}\\frac{1}{x}", True), ("\\lim x\\rightarrow 0", False)])
def test_a_limits_subscript_written_far_below_is_joined_when_read_as_its_subscript(joined, kept):
    from inkmath.equation.page.read import PageExpression
    from inkmath.equation.page.regroup import join_limit_below
    from inkmath.equation.photo.find import FoundExpressions

    unit = 40.0
    found = FoundExpressions([], np.zeros((600, 600), np.int32), unit)
    lim = InkGroup(Box(100, 100, 400, 160), [1, 2])
    under = InkGroup(Box(100, 160 + 2 * unit, 200, 200 + 2 * unit), [3])  # 2 units under "lim"
    far = InkGroup(Box(100, 160 + 4 * unit, 200, 200 + 4 * unit), [4])  # 4 units under: another line
    right = InkGroup(Box(500, 100, 580, 160), [5])  # beside it, not under it

    def expr(latex):
        return PageExpression(latex, "", [0, 0, 1, 1], {}, [], confidence=0.5)

    for other in (under, far, right):
        read = [(lim, expr("\\lim\\frac{1}{x}")), (other, expr("x\\rightarrow 0"))]
        out = join_limit_below(found, read, lambda g: expr(joined))
        if other is under and kept:  # one expression: the limit with its subscript, all the ink
            assert [e.latex for _, e in out] == [joined] and sorted(out[0][0].components) == [1, 2, 3]
        else:
            assert out == read
    # a limit that has its subscript is left alone
    read = [(lim, expr("\\lim_{n}a_{n}")), (under, expr("x\\rightarrow 0"))]
    assert join_limit_below(found, read, lambda g: expr(joined)) == read


def test_an_open_end_is_joined_with_its_line_not_across_a_gutter_between_columns():
    from inkmath.equation.page.read import PageExpression
    from inkmath.equation.page.regroup import join_open_ends
    from inkmath.equation.photo.find import FoundExpressions

    def expr(latex):
        return PageExpression(latex, "", [0, 0, 1, 1], {}, [{"label": t} for t in latex.split()], confidence=0.5)

    left = InkGroup(Box(100, 100, 400, 160), [1, 2])
    right = InkGroup(Box(600, 100, 800, 160), [3])  # the same line, 5 units to the right
    read = [(left, expr("x = a +")), (right, expr("y + 1"))]
    for gutters, joined in (([], True), ([(450.0, 560.0)], False), ([(850.0, 950.0)], True)):
        found = FoundExpressions([], np.zeros((600, 1000), np.int32), 40.0, gutters=gutters)
        out = join_open_ends(found, read, lambda g: expr("x = a + y + 1"))
        if joined:
            assert [e.latex for _, e in out] == ["x = a + y + 1"] and sorted(out[0][0].components) == [1, 2, 3]
        else:  # the right column's line is another expression
            assert out == read


def test_page_split_features_of_every_band_across_two_lines():
    from inkmath.equation.page.split import N_FEATURES, candidate_cuts, cut_features
    from inkmath.equation.photo.merge import group_summaries

    found = _two_line_group()
    cuts = candidate_cuts([1, 2, 3, 4], found.stats)
    assert sorted((axis, sorted(a), sorted(b)) for axis, a, b in cuts) == [(0, [1, 3], [2, 4]), (1, [1, 2], [3, 4])]
    s = group_summaries(found.groups, found.stats, found.unit)
    for axis, a, b in candidate_cuts([1, 2, 3, 4], found.stats):
        f = cut_features(s, 0, axis, a, b, found.stats, found.unit)
        assert f.shape == (N_FEATURES,) and np.isfinite(f).all() and f[-2] == axis


def test_a_bar_reaches_the_next_line_only_as_a_fraction_bar():
    ink = np.zeros((400, 600), np.uint8)
    _write(ink, "x", 60, 100)
    cv2.line(ink, (110, 84), (190, 84), 255, 3)  # "=" at the bottom of its line ...
    cv2.line(ink, (110, 97), (190, 97), 255, 3)
    _write(ink, "y", 210, 100)
    _write(ink, "2y+3", 110, 185)  # ... the next line a unit under it, within a fraction bar's reach
    found = find_expressions(ink)  # the lower bar of "=" has no ink over it but its twin: no denominator under it
    assert len(found.groups) == 2, [g.box for g in found.groups]
    assert found.groups[0].box.y1 < 120 < found.groups[1].box.y0


def test_merge_joins_two_stacked_groups_only_when_the_model_scores_them_at_least_merge_prob():
    from inkmath.equation.photo.merge import MERGE_PROB, merge_groups

    def line(y, n, x0=100):  # n letters 40 px tall side by side
        return [[x0 + 50 * k, y, 40, 40, 400] for k in range(n)]

    class Fixed:  # a model that scores every pair alike
        def __init__(self, p):
            self.p = p

        def prob(self, x):
            return np.full(len(x), self.p)

    # "lim tan x" over its long subscript: two stacked groups of 6 and 5 components, no component spanning the other
    upper, lower = line(100, 6), line(160, 5, x0=90)
    stats = np.array([[0, 0, 0, 0, 0]] + upper + lower, np.int32)
    groups = []
    for comps, first in ((upper, 1), (lower, 1 + len(upper))):
        ids = list(range(first, first + len(comps)))
        st = stats[ids]
        groups.append(InkGroup(Box(float(st[:, 0].min()), float(st[:, 1].min()), float((st[:, 0] + st[:, 2]).max()),
                                   float((st[:, 1] + st[:, 3]).max())), ids))
    for p, joined in [(MERGE_PROB + 0.3, True), (MERGE_PROB, True), (MERGE_PROB - 0.05, False)]:
        merged = merge_groups([InkGroup(g.box, list(g.components)) for g in groups], stats, 40.0, model=Fixed(p))
        assert len(merged) == (1 if joined else 2), p


def test_merge_scores_groups_side_by_side_on_one_line_further_apart_than_stacked_ones():
    from inkmath.equation.photo.merge import CANDIDATE_GAP, CANDIDATE_LINE_GAP, candidate_pairs

    unit = 40.0
    wide = (CANDIDATE_GAP + CANDIDATE_LINE_GAP) / 2 * unit  # between the two reaches
    s = [{"box": (100, 100, 200, 140)},  # "e ="
         {"box": (200 + wide, 80, 400 + wide, 160)},  # its fraction, far to the right on the same line
         {"box": (100, 140 + wide, 200, 180 + wide)},  # as far under "e =": another line
         {"box": (200 + wide, 160 + wide, 300 + wide, 200 + wide)},  # that line's end, under the fraction
         {"box": (400 + wide + CANDIDATE_LINE_GAP * unit + 1, 100, 500 + wide + CANDIDATE_LINE_GAP * unit, 140)}]
    assert candidate_pairs(s, unit) == [(0, 1), (2, 3)]
    assert candidate_pairs(s, unit, line_gap=CANDIDATE_GAP) == []  # the reach before: as far as stacked groups
    gutter = (200 + unit, 200 + 2 * unit)  # nothing is scored across a column gutter
    assert candidate_pairs(s, unit, [gutter]) == []


def test_page_merge_recipe_takes_several_page_seeds():
    from inkmath.training.recipes.page_merge import DEFAULTS, page_seeds

    assert page_seeds(DEFAULTS) == [DEFAULTS["page_seed"]]
    assert page_seeds({**DEFAULTS, "page_seeds": [11, 12]}) == [11, 12]


def test_page_trainers_compute_their_examples_from_one_cache_of_cleaned_pages(tmp_path):
    from inkmath.equation.photo import merge as page_merge
    from inkmath.equation.page import split as page_split
    from inkmath.training.recipes import page_merge as train_page_merge
    from inkmath.training.recipes import page_split as train_page_split

    ink = np.zeros((600, 900), np.uint8)
    _write(ink, "y=2", 60, 150)
    _write(ink, "2x+1", 200, 100, size=30)  # y's exponent, written far up and to the right
    _write(ink, "x+3=7", 60, 260)
    truth = [{"latex": "y=2^{2x+1}", "box": [40, 40, 420, 170], "id": "a"},
             {"latex": "x+3=7", "box": [40, 200, 420, 290], "id": "b"}]
    stream = tmp_path / "seed11" / "stream-0"
    stream.mkdir(parents=True)
    cv2.imwrite(str(stream / "page_0000.png"), ink)
    (stream / "page_0000.json").write_text(json.dumps({"truth": truth, "to_photo": np.eye(3).tolist()}))
    (stream / "page_0001.json").write_text(json.dumps({"skipped": True}))  # a page the clean-up refused
    recipe = {"pages": 2, "streams": 1, "page_seed": 11}
    assert train_page_merge.build_stream(recipe, tmp_path / "seed11", 0) == stream  # complete: nothing generated
    X, y, pages = train_page_merge.load_examples(recipe, tmp_path / "seed11")
    assert pages == 1 and X.shape[1] == page_merge.N_FEATURES and len(X) == len(y)
    assert 0 < y.sum() < len(y)  # pairs of one expression (the exponent and its base, tight pieces) and of two
    X, y, pages = train_page_split.load_examples(recipe, tmp_path / "seed11")
    assert pages == 1 and X.shape[1] == page_split.N_FEATURES and y.max() == 1.0  # the cut between the two lines, when joined


def test_merge_features_say_how_much_of_the_other_group_one_component_spans():
    from inkmath.equation.photo.merge import cover, group_summaries, pair_features

    # a numerator touching its long bar (one component) over its denominator; another line under it, of 3 symbols
    stats = np.array([[0, 0, 0, 0, 0], [100, 100, 300, 60, 2000], [150, 180, 40, 40, 500], [220, 180, 40, 40, 500],
                      [100, 300, 40, 40, 500], [160, 300, 40, 40, 500], [220, 300, 40, 40, 500]])
    groups = [InkGroup(Box(100, 100, 400, 160), [1]), InkGroup(Box(150, 180, 260, 220), [2, 3]),
              InkGroup(Box(100, 300, 260, 340), [4, 5, 6])]
    s = group_summaries(groups, stats, 40.0)
    assert cover(s[0]["xs"], s[1]["box"]) == 1.0  # the bar spans the denominator
    assert cover(s[2]["xs"], s[1]["box"]) == pytest.approx(40 / 110)  # one symbol of the next line: a share
    f, g = pair_features(s, 0, 1, 40.0), pair_features(s, 1, 2, 40.0)
    assert max(f[-2:]) == 1.0 and max(g[-2:]) < 0.5


def test_a_sheet_running_out_of_the_frame_leaves_the_table_out_of_the_ink():
    photo = _photo(_sheet([("3x+5=11", 150, 400), ("x-4=2", 150, 700)]), turn=4.0)
    h, w = photo.shape[:2]
    crop = np.ascontiguousarray(photo[:int(0.75 * h), int(0.15 * w):])  # the table shows at the top and the right
    page = clean_page(crop)
    assert not page.found_sheet  # no quadrilateral: the sheet runs out of the frame at the left and the bottom
    groups = find_expressions(page.ink).groups
    assert len(groups) == 2
    assert all(g.box.x1 < 0.75 * page.ink.shape[1] for g in groups)  # nothing from the sheet's edge or the table


def test_a_sheet_with_a_corner_out_of_the_frame_is_found_by_its_four_edges_and_warped():
    """Its edges show on all four sides, two of them meeting outside the frame: the corners are where they meet, and
    the page is warped as a whole one is; the part of it outside the photo is not ink. Before, no quadrilateral was
    found (the region runs along the frame) and the whole photo, turned 6 degrees, was read as the page."""
    photo, m = _photo(_sheet([("3x+5=11", 150, 400), ("x-4=2", 150, 700), ("y=1", 150, 1000)]), turn=6.0,
                      with_transform=True)
    corners = cv2.perspectiveTransform(np.float32([[[0, 0], [1000, 0], [1000, 1300], [0, 1300]]]), m)[0]
    x0, y0 = int(corners[3, 0] + 40), int(corners[0, 1] + 30)  # the bottom-left and top-left corners cut off
    crop = np.ascontiguousarray(photo[y0:, x0:])
    quad = find_sheet(crop)
    assert quad is not None
    assert np.abs(quad - (corners - (x0, y0))).max() < 0.03 * 1000
    assert (quad[:, 0] < 0).any()  # a corner outside the frame
    page = clean_page(crop)
    assert page.found_sheet
    assert len(find_expressions(page.ink).groups) == 3  # nothing from the frame's edge or the part beyond it


def test_a_page_filling_the_frame_turned_past_the_deskew_is_levelled_by_its_paper_lines_corners_kept():
    from inkmath.equation.photo import clean as page_clean

    rgb, _ = load_photo(FIXTURE)  # a ruled page, photographed a little turned and in perspective
    h, w = rgb.shape[:2]
    turned = cv2.warpAffine(rgb, cv2.getRotationMatrix2D((w / 2, h / 2), 8.0, 1.0), (w, h),
                            borderMode=cv2.BORDER_REPLICATE)
    photo = np.ascontiguousarray(turned[int(0.2 * h):int(0.75 * h), int(0.2 * w):int(0.82 * w)])  # no sheet edge
    page = clean_page(photo)
    assert not page.found_sheet
    # turned about 12 degrees in all, past the deskew's search: its ruled lines say how far, and are then removed
    assert any(n.startswith("deskewed by -12.") or n.startswith("deskewed by -11.") for n in page.notes)
    assert page.lines_removed >= 5
    # the six expressions cut by the photo's frame are found: the one in its top-left corner too (the image turned
    # grows to hold the corners)
    assert len(find_expressions(page.ink).groups) == 6


def test_a_plain_page_filling_the_frame_has_no_paper_line_angle():
    from inkmath.equation.photo import clean as page_clean

    sheet = _sheet([("3x+5=11", 200, 300), ("x-4=2", 200, 600), ("y=1", 200, 900)])
    assert page_clean.paper_line_angle(255 - cv2.cvtColor(sheet, cv2.COLOR_RGB2GRAY)) is None


@pytest.mark.parametrize("cast", [(1.0, 0.88, 0.6), (0.7, 0.85, 1.0)], ids=["warm", "cold"])
def test_sheet_under_coloured_light_with_a_shadow_band_is_found_whole(cast):
    photo, m = _photo(_sheet([("3x+5=11", 150, 400)]), with_transform=True)
    lit = photo.astype(np.float32)
    lit[:, int(0.45 * lit.shape[1]):int(0.7 * lit.shape[1])] *= 0.55  # a shadow band across the sheet
    lit = np.clip(lit * np.array(cast, np.float32), 0, 255).astype(np.uint8)
    quad = find_sheet(lit)
    corners = cv2.perspectiveTransform(np.float32([[[0, 0], [1000, 0], [1000, 1300], [0, 1300]]]), m)[0]
    assert quad is not None and np.abs(quad - corners).max() < 0.03 * 1000




def _blurred_photos():
    """A line of thin synthetic handwriting photographed sharp, moved 7 px along a slant (as page_variants.py's
    shake) and defocused (a Gaussian of sigma 2.5)."""
    from inkmath.synth import write

    sheet = np.full((700, 1000, 3), 246, np.uint8)
    _ink_strokes(sheet, write("x^2 + 4 = 7", seed=0, x=150, base_y=300, size=36), (30, 30, 35), thickness=2)
    sharp = _photo(sheet)
    k = np.zeros((7, 7), np.float32)
    cv2.line(k, (0, 2), (6, 4), 1.0, 1)
    return sharp, cv2.filter2D(sharp, -1, k / k.sum()), cv2.GaussianBlur(sharp, (0, 0), 2.5)


def test_strokes_blurred_across_by_a_moving_hand_are_narrowed_to_their_own_ridge_not_cut():
    """Motion blur lowers a stroke's darkness across the motion, not along it: narrowed against the darkest ink within
    ``READ_PEAK`` the faint strokes are cut where they meet dark ones (a "+" read as "\\div"); against their own
    ridge (``READ_RIDGE`` px, at least ``READ_FLOOR`` of the darkest ink nearby) the crop has as many pieces as the
    sharp photo's (docs/decisions/page-reading.md)."""
    from inkmath.equation.photo.find import READ_RIDGE, group_image

    sharp, moved, _ = _blurred_photos()

    def pieces(photo, ridge: float) -> int:
        page = clean_page(photo)
        found = find_expressions(page.ink)
        assert len(found.groups) == 1
        img, _ = group_image(found, found.groups[0], dark=page.sharp_dark(), upscale=2, ridge=ridge)
        return cv2.connectedComponents(img, connectivity=8)[0] - 1

    assert pieces(sharp, 0.0) == pieces(moved, READ_RIDGE) == 7
    assert pieces(moved, 0.0) >= 12


def test_a_deblurred_crop_broken_into_grains_is_read_as_it_is(monkeypatch):
    """Deblurring a grainy stroke makes holes of its grains: a group whose deblurred crop has over
    ``READ_DEBLUR_PIECES`` times the pieces of its crop as it is is read as it is; one a little more broken (a
    touching pair parted) keeps its deblurred crop."""
    from inkmath.equation.page import read as page

    cp = clean_page(_blurred_photos()[2])  # defocused: deblurred
    found = find_expressions(cp.ink)
    found.narrow = True

    def crop(pieces: int) -> np.ndarray:
        img = np.zeros((20, 20 * pieces), np.uint8)
        for k in range(pieces):
            img[5:15, 20 * k + 5:20 * k + 15] = 255
        return img

    for deblurred_pieces, kept in ((2 * 3 + 1, "plain"), (4, "deblurred")):
        monkeypatch.setattr(views, "group_image", lambda *a, deblur=0.0, **kw: (
            crop(deblurred_pieces) if deblur else crop(3), (0, 0)))
        img = views.group_crop(cp, found, found.groups[0])[0]
        assert views.ink_pieces(img) == (3 if kept == "plain" else deblurred_pieces)
    assert 4 <= views.READ_DEBLUR_PIECES * 3 < 7


def test_a_moved_photo_is_read_narrowed_to_its_strokes_ridges_a_blurred_one_deblurred_by_its_blur(monkeypatch):
    """The ink's edge steepness measures the photo's blur (``CleanPage.blur``), its blur where the edges are steepest
    (``CleanPage.defocus``) and how unevenly the directions are blurred (``CleanPage.motion``). A photo moved 7 px is
    narrowed against each stroke's own ridge (``READ_MOTION``). One whose defocus is over ``READ_DEBLUR_FROM`` (the
    thin pen's photo as taken, one defocused by sigma 2.5) is deblurred by its blur, a moved one only from
    ``READ_DEBLUR_MOVED_FROM``; under the gates, none is."""
    from inkmath.equation.page import read as page
    from inkmath.equation.photo.find import READ_RIDGE

    pages = [clean_page(photo) for photo in _blurred_photos()]
    asked = []
    monkeypatch.setattr(views, "group_image", lambda *a, deblur=0.0, ridge=0.0, **kw: (
        asked.append((deblur, ridge)), (np.zeros((8, 8), np.uint8), (0, 0)))[1])

    def read(cp):  # the crop's first (deblur, ridge): a deblurred crop is drawn as it is too, to compare their pieces
        views.group_crop(cp, find_expressions(cp.ink), None)
        first = asked[0]
        asked.clear()
        return first

    blurs = []
    for cp, motion in zip(pages, (False, True, None)):
        if motion is not None:  # a single line's writing is not even in every direction: defocused, it may pass
            assert (cp.motion() < views.READ_MOTION) is motion
        deblur, ridge = read(cp)
        moved = cp.motion() < views.READ_MOTION
        start = views.READ_DEBLUR_MOVED_FROM if moved else views.READ_DEBLUR_FROM
        assert deblur == (cp.blur() if cp.defocus() > start else 0.0)
        assert ridge == (READ_RIDGE if moved else 0.0)
        blurs.append(deblur)
    assert blurs[0] > 0.0 and blurs[1] == 0.0 and blurs[2] > blurs[0]  # moved 7 px: not a Gaussian's blur
    sharp, moved, defocused = pages
    monkeypatch.setattr(views, "READ_DEBLUR_FROM", sharp.defocus() + 0.01)
    monkeypatch.setattr(views, "READ_DEBLUR_MOVED_FROM", moved.defocus() - 0.01)
    assert [read(cp)[0] for cp in pages] == [0.0, moved.blur(), defocused.blur()]
    # two strokes 4 px apart (a small loop), blurred until the paper between them passes as ink (``READ_SHARE`` of
    # the strokes' darkness): deblurred, it is paper again
    from inkmath.equation.photo.find import READ_SHARE, deblurred

    dark = np.zeros((40, 40), np.float32)
    dark[:, 16:18] = dark[:, 22:24] = 200
    smeared = cv2.GaussianBlur(dark, (0, 0), 2.0)
    assert smeared[20, 20] > READ_SHARE * smeared[20, 17]
    back = deblurred(smeared, 2.0)
    assert back[20, 20] < READ_SHARE * back[20, 17]
