"""The one rasterizer: validation, geometry (transform), canonical scale, dots, antialiasing."""

import cv2
import numpy as np
import pytest

from inkmath import InkmathError, ink


def square(x0=0.0, y0=0.0, s=10.0):
    return np.array([[x0, y0], [x0 + s, y0], [x0 + s, y0 + s], [x0, y0 + s], [x0, y0]], float)


def plus(cx, cy, s):
    return [np.array([[cx - s / 2, cy], [cx + s / 2, cy]]), np.array([[cx, cy - s / 2], [cx, cy + s / 2]])]


@pytest.mark.parametrize("bad", [[], None, [np.zeros((0, 2))], [[[0, 0], [np.nan, 1]]], [[[0, 0], [np.inf, 1]]],
                                 [np.zeros((3, 1))], [["a", "b"]]])
def test_bad_input_raises_inkmath_error(bad):
    with pytest.raises(InkmathError):
        ink.rasterize(bad)


def test_bbox_and_time_column_dropped():
    strokes = [np.array([[1, 2, 100], [5, 9, 110]], float), np.array([[-3, 4, 120]], float)]
    assert ink.bbox(strokes) == (-3.0, 2.0, 5.0, 9.0)
    assert all(s.shape[1] == 2 for s in ink.as_strokes(strokes))


def test_output_is_white_ink_on_black_uint8_antialiased():
    img, _ = ink.rasterize([square()])
    assert img.dtype == np.uint8 and img.ndim == 2
    assert img[0, 0] == 0 and img.max() == 255  # black border, white ink
    values = set(np.unique(img).tolist())
    assert len(values - {0, 255}) > 0  # antialiased edges have intermediate greys


def test_transform_maps_ink_to_pixels_and_back():
    strokes = [square(100, 50, 30), square(200, 60, 10)]
    img, tf = ink.rasterize(strokes)
    box = tf.box_to_pixels(ink.bbox(strokes[1:]))
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    # the second square's pixels are inside its mapped box (plus the pen radius) and nowhere else on its right
    region = img[max(0, y0 - 3):y1 + 4, max(0, x0 - 3):x1 + 4]
    assert region.max() == 255
    assert img[:, x1 + 4:].max() == 0
    back = tf.box_to_ink(box)
    assert np.allclose(back, ink.bbox(strokes[1:]))
    pts = np.array([[100.0, 50.0], [130.0, 80.0]])
    assert np.allclose(tf.to_ink(tf.to_pixels(pts)), pts)


def test_canonical_scale_gives_typical_symbol_the_target_size():
    # the same "+" drawn 10 units large and 1000 units large rasterises to the same picture
    a, _ = ink.rasterize(plus(5, 5, 10))
    b, _ = ink.rasterize(plus(500, 500, 1000))
    assert a.shape == b.shape
    assert np.abs(a.astype(int) - b.astype(int)).max() <= 1
    expr = plus(5, 5, 10) + plus(30, 5, 10) + [np.array([[50, 0], [50, 10]], float)]
    assert ink.normalization_scale(expr) == pytest.approx(ink.DEFAULT_HEIGHT / 10)


def test_symbol_inside_expression_matches_symbol_alone():
    # a "+" among symbols of its own size looks like the "+" drawn alone: same stroke width and size, even
    # when the expression also holds a tall symbol and a dot (the scale is not the expression's height)
    alone, _ = ink.rasterize(plus(0, 0, 7))
    tall = np.array([[60.0, -12.0], [60.0, 13.0]])
    expr = plus(0, 0, 7) + plus(20, 0, 7) + [square(40, -3.5, 7), tall, np.array([[70.0, 0.0]])]
    scale = ink.normalization_scale(expr)
    inside = ink.render_symbol(expr[:2], scale=scale)
    assert inside.shape == alone.shape
    assert abs(int(inside.astype(int).sum()) - int(alone.astype(int).sum())) < 0.02 * alone.sum()


def test_normalize_strokes_origin_and_size():
    out = ink.normalize_strokes([square(100, 100, 5), square(120, 100, 5)], target_height=50)
    x0, y0, x1, y1 = ink.bbox(out)
    assert (x0, y0) == (0.0, 0.0)
    assert y1 == pytest.approx(50) and x1 == pytest.approx(250)


def test_single_points_are_drawn_as_dots():
    strokes = [np.array([[0.0, 0.0], [0.0, 20.0]]), np.array([[10.0, 10.0]]), np.array([[20.0, 5.0]] * 4)]
    img, tf = ink.rasterize(strokes, thickness=4)
    for p in ([10.0, 10.0], [20.0, 5.0]):
        x, y = np.rint(tf.to_pixels(np.array(p))).astype(int)
        assert img[y, x] > 200
    only_dot, _ = ink.rasterize([np.array([[3.0, 3.0]])])  # a drawing of one tap is still a picture
    assert only_dot.max() == 255


def test_a_resting_pen_draws_as_a_moving_one():
    """Repeated points (a resting pen) are skipped: the picture does not depend on how long the pen rested."""
    rng = np.random.default_rng(3)
    moving = [np.cumsum(rng.normal(0, 5, (12, 2)), axis=0) + (40 * k, 0) for k in range(3)]
    resting = [np.repeat(s, rng.integers(1, 9, len(s)), axis=0) for s in moving]
    assert sum(map(len, resting)) > 2 * sum(map(len, moving))
    img, tf = ink.rasterize(moving)
    assert np.array_equal(ink.rasterize(resting)[0], img)
    spans = [(0, 1), (0, 2), (1, 3)]
    scale = ink.normalization_scale(moving)
    for a, b in zip(ink.render_symbols(moving, spans, scale=scale), ink.render_symbols(resting, spans, scale=scale)):
        assert np.array_equal(a, b)
    # OpenCV itself draws each repeat as the pen's tip once more, so without the skipping the pictures would differ
    pts = [np.rint(tf.to_pixels(s) * 16).astype(np.int32).reshape(-1, 1, 2) for s in resting]
    plain = np.zeros_like(img)
    cv2.polylines(plain, pts, False, 255, ink.DEFAULT_THICKNESS, cv2.LINE_AA, 4)
    assert not np.array_equal(plain, img)


def test_fixed_size_fits_and_centres():
    img, tf = ink.rasterize([square(0, 0, 100), square(300, 0, 100)], size=64, padding=2)
    assert img.shape == (64, 64)
    ys, xs = np.nonzero(img > 40)
    assert xs.min() >= 0 and xs.max() <= 63
    assert abs((ys.min() + ys.max()) / 2 - 31.5) <= 1.5  # centred vertically
    img2, _ = ink.rasterize([square()], size=(80, 40))
    assert img2.shape == (40, 80)
    with pytest.raises(InkmathError):
        ink.rasterize([square()], size=4, padding=3)


def test_huge_raster_is_refused():
    with pytest.raises(InkmathError):
        ink.rasterize([square(0, 0, 10)], scale=1e4)


def _all_spans(n, longest=4):
    return [(i, j) for i in range(n) for j in range(i + 1, min(n, i + longest) + 1)]


@pytest.mark.parametrize("case", ["one stroke", "taps", "resting pen", "long bar", "random", "time column"])
def test_render_symbols_draws_every_span_as_render_symbol_does(case):
    rng = np.random.default_rng(len(case))
    walk = lambda m, x: np.cumsum(rng.normal(0, 4, (m, 2)), axis=0) + (x, 50)  # noqa: E731
    strokes = {
        "one stroke": [walk(30, 0)],
        "taps": [walk(1, 0), walk(25, 10), np.array([[30.0, 50.0], [30.0, 50.0]]), walk(1, 60)],  # dots
        "resting pen": [np.repeat(walk(10, 40 * k), 8, axis=0) for k in range(4)],  # 7 of 8 points repeat
        "long bar": [walk(20, 0), np.array([[-50.0, 90.0], [400.0, 92.0]]), walk(20, 100)],  # drawn smaller
        "random": [walk(int(rng.integers(1, 80)), 30 * k) for k in range(9)],
        "time column": [np.column_stack([walk(15, 30 * k), np.arange(15.0)]) for k in range(3)],
    }[case]
    spans = _all_spans(len(strokes))
    scale = ink.normalization_scale(strokes)
    for kwargs in ({}, {"thickness": 5, "padding": 2, "max_size": 1.0}):
        crops = ink.render_symbols(strokes, spans, scale=scale, **kwargs)
        for (i, j), crop in zip(spans, crops, strict=True):
            ref = ink.render_symbol(strokes[i:j], scale=scale, **kwargs)
            assert crop.dtype == ref.dtype == np.uint8 and crop.shape == ref.shape and np.array_equal(crop, ref)


def test_render_symbols_with_an_empty_stroke_keeps_render_symbols_answers_and_errors():
    strokes = [square(0, 0, 10), np.zeros((0, 2)), square(20, 0, 10)]
    spans = [(0, 1), (0, 2), (0, 3), (2, 3)]
    crops = ink.render_symbols(strokes, spans, scale=2.0)
    for (i, j), crop in zip(spans, crops, strict=True):
        assert np.array_equal(crop, ink.render_symbol(strokes[i:j], scale=2.0))
    with pytest.raises(InkmathError, match="No points"):
        ink.render_symbols(strokes, [(1, 2)], scale=2.0)
    with pytest.raises(InkmathError, match="pass a smaller scale"):
        ink.render_symbols([square(0, 0, 10), square(90000, 0, 10)], [(0, 2)], scale=1.0, max_size=1e9)


def test_symbol_size_is_the_median_of_the_strokes_extents():
    rng = np.random.default_rng(3)
    drawings = [[square()], [np.array([[1.0, 2.0]])], [np.array([[1.0, 2.0]]), np.zeros((0, 2)), square(5, 5, 3)],
                [np.array([[0.0, 0.0, 1.0], [4.0, 9.0, 2.0]]), np.array([[7.0, 7.0, 3.0]])],  # time column
                [rng.normal(0, 20, (int(rng.integers(1, 60)), 2)) for _ in range(11)]]
    for strokes in drawings:
        ref = float(np.median([float(np.ptp(np.asarray(s)[:, :2], axis=0).max()) for s in strokes if len(s)]))
        assert ink.symbol_size(strokes) == ref
