import numpy as np
import pytest

from inkmath import InkmathError
from inkmath.preprocess import detect_ink, prepare, prepare_batch, to_white_ink

from conftest import shapes


def test_polarity_is_detected():
    x, _ = shapes(1, size=40)
    white = x[2]
    assert detect_ink(white) == "white" and detect_ink(255 - white) == "black"
    np.testing.assert_allclose(prepare(white), prepare(255 - white), atol=1e-6)


def test_crop_pad_keeps_aspect_and_centres():
    im = np.zeros((60, 100), np.uint8)
    im[20:26, 10:90] = 255  # a wide bar somewhere off-centre
    out = prepare(im, "symbol32")
    assert out.shape == (32, 32) and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    rows = np.flatnonzero(out.max(1) > 0.2)
    cols = np.flatnonzero(out.max(0) > 0.2)
    assert cols[-1] - cols[0] + 1 == 28  # the long side fills the box
    assert rows[-1] - rows[0] + 1 <= 4  # aspect kept: still a thin bar
    assert abs((rows[0] + rows[-1]) / 2 - 15.5) <= 1  # centred


def test_mnist_preset_centres_by_mass():
    im = np.zeros((28, 28), np.uint8)
    im[2:10, 2:6] = 255
    out = prepare(im, "mnist")
    ys, xs = np.nonzero(out)
    cy = (out[ys, xs] * ys).sum() / out[ys, xs].sum()
    assert abs(cy - 13.5) < 1.0 and out.shape == (28, 28)


def test_rgb_rgba_and_float_inputs():
    x, _ = shapes(1, size=40)
    ink = 255 - x[3]
    rgb = np.stack([ink] * 3, -1)
    rgba = np.dstack([rgb, np.full(ink.shape, 255, np.uint8)])
    ref = prepare(ink)
    np.testing.assert_allclose(prepare(rgb), ref, atol=1 / 255)
    np.testing.assert_allclose(prepare(rgba), ref, atol=1 / 255)
    np.testing.assert_allclose(prepare(ink.astype(np.float32) / 255), ref, atol=2 / 255)
    pale = (ink * 0.5 + 100).astype(np.uint8)  # grey ink on grey paper: 16-bit values scaled, not clipped to white
    np.testing.assert_allclose(prepare(pale.astype(np.uint16) * 257), prepare(pale), atol=1 / 255)


def test_uneven_photo_is_binarised():
    rng = np.random.default_rng(0)
    x, _ = shapes(1, size=64)
    clean = prepare(255 - x[2])
    yy, xx = np.mgrid[0:64, 0:64]
    paper = 150 + 80 * xx / 63  # a lighting gradient across the page
    photo = np.where(x[2] > 0, 40, paper) + rng.normal(0, 12, (64, 64))
    white = to_white_ink(np.clip(photo, 0, 255).astype(np.uint8))
    assert set(np.unique(white)) <= {0, 255}
    out = prepare(np.clip(photo, 0, 255).astype(np.uint8))
    assert ((out > 0.5) == (clean > 0.5)).mean() > 0.9


def test_blank_and_bad_shapes_raise():
    with pytest.raises(InkmathError, match="No ink"):
        prepare(np.zeros((20, 20), np.uint8))
    with pytest.raises(InkmathError, match="empty"):
        prepare(np.zeros((0, 5), np.uint8))
    with pytest.raises(InkmathError, match="Unknown preprocessing preset"):
        prepare(np.ones((5, 5), np.uint8), "nope")


def test_batch():
    x, _ = shapes(2, size=28)
    assert prepare_batch(list(x), "mnist").shape == (8, 1, 28, 28)


def test_reference_preset_keeps_relative_size():
    """crohme32: a crop at the canonical scale keeps its size relative to a typical symbol (40 px)."""
    small = np.zeros((60, 60), np.uint8)
    big = np.zeros((60, 60), np.uint8)
    import cv2

    cv2.circle(small, (30, 30), 10, 255, 3)  # an 'o' half a symbol high
    cv2.circle(big, (30, 30), 20, 255, 3)  # an 'O' a whole symbol high
    extent = lambda im: np.ptp(np.nonzero(prepare(im, "crohme32") > 0.2)[0])
    assert extent(small) < 0.65 * extent(big)
    # the plain preset enlarges both to fill the box
    extent32 = lambda im: np.ptp(np.nonzero(prepare(im, "symbol32") > 0.2)[0])
    assert abs(extent32(small) - extent32(big)) <= 1


def _ink_bbox_by_rows_and_columns(img, threshold=40):
    mask = img > threshold
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return None if rows.size == 0 else (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)


def test_ink_bbox_equals_the_rows_and_columns_with_ink():
    from inkmath.preprocess import ink_bbox

    rng = np.random.default_rng(0)
    images = [np.zeros((5, 7), np.uint8), np.full((3, 4), 40, np.uint8), np.full((3, 4), 41, np.uint8),
              np.zeros((1, 1), np.uint8) + 255]
    for y, x in ((0, 0), (0, 9), (9, 0), (9, 9), (4, 6)):  # one ink pixel, at the corners and inside
        img = np.zeros((10, 10), np.uint8)
        img[y, x] = 200
        images.append(img)
    for _ in range(100):  # sparse random ink, some blank, some with values at the threshold
        h, w = rng.integers(1, 90, 2)
        images.append(np.where(rng.random((h, w)) < rng.choice([0.0, 0.001, 0.05]), rng.integers(30, 256, (h, w)),
                               0).astype(np.uint8))
    images.append(images[-1][::2, 1::3])  # a strided view
    images.append(images[-2].astype(np.float32))  # another dtype
    for img in images:
        assert ink_bbox(img) == _ink_bbox_by_rows_and_columns(img)
        assert ink_bbox(img, threshold=0) == _ink_bbox_by_rows_and_columns(img, 0)


def test_a_boolean_image_is_black_and_white_not_all_black():
    """A black-and-white image as a bool array (e.g. ``grey > 128``): True was clipped to 1, so the whole image was
    near black and the expression reader said it was blank. False is 0 and True 255, as Pillow's 1-bit images."""
    from inkmath.preprocess import eight_bit, to_gray

    x, _ = shapes(1, size=40)
    paper = (255 - x[3]) > 128  # True where the paper is
    assert eight_bit(paper).dtype == np.uint8 and set(np.unique(eight_bit(paper))) == {0, 255}
    bw = paper.astype(np.uint8) * 255
    np.testing.assert_array_equal(to_gray(paper), bw)
    np.testing.assert_array_equal(prepare(paper), prepare(bw))
