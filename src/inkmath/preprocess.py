"""The one preprocessing function for training, evaluation and inference (no torch here).

Every image - a dataset sample, a canvas drawing rasterised from strokes, a photo - goes through ``prepare``:

    polarity (ink -> white on black) -> binarise uneven photos -> crop to the ink -> pad to a square keeping the
    aspect ratio -> resize so the longer side fills ``preset.box`` -> centre in ``preset.size`` -> float in [0, 1]

The weights' card names the preset it was trained with, so inference prepares images exactly as training did.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from inkmath.errors import InkmathError


@dataclass(frozen=True)
class Preset:
    name: str
    size: int  # output side in pixels
    box: int  # longer side of the ink after resizing
    center: str = "box"  # "box": centre the bounding box; "mass": centre of mass (as MNIST was built)
    # ref > 0: the input is at a known scale (a symbol cut from an expression rendered by ``ink`` at its canonical
    # scale, typical symbol = ink.DEFAULT_HEIGHT px), and symbols smaller than ``ref`` px are not enlarged to fill
    # the box: an 'o' stays smaller than an 'O', a dot smaller than a circle. The relative size is kept.
    ref: float = 0.0


PRESETS: dict[str, Preset] = {
    "mnist": Preset("mnist", 28, 20, "mass"),
    "symbol32": Preset("symbol32", 32, 28, "box"),
    "crohme32": Preset("crohme32", 32, 28, "box", ref=44.0),
}

INK_THRESHOLD = 40  # grey level (0-255, ink white) above which a pixel counts as ink when cropping
# An image whose border has PHOTO_BORDER_SHARE of its pixels or more over PHOTO_BORDER_LEVELS grey levels off the
# border's median is a photo (sensor noise, JPEG, uneven light; ``is_photo``). Generated photos of one validation
# expression each (page_synth, cropped round it; 20 on plain and 19 on ruled paper): 0.03-0.87, where ``is_uneven``
# alone missed 5 of the 39; the shipped example images: 0.0.
PHOTO_BORDER_LEVELS = 2
PHOTO_BORDER_SHARE = 0.02


def get_preset(preset: str | Preset) -> Preset:
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise InkmathError(f"Unknown preprocessing preset {preset!r}; choose one of: {', '.join(PRESETS)}") from None


def eight_bit(image: np.ndarray) -> np.ndarray:
    """uint8 values of an image array of any depth: 16-bit ones (unsigned 16-bit, or integers above 255) scaled
    from 0-65535, floats within 0-1 from 0-1, booleans (a black-and-white image) False 0 and True 255 as Pillow
    converts its 1-bit images, anything else clipped to 0-255. A clip alone (as Pillow's own conversion does) keeps
    only the pure black of a 16-bit scan: its grey ink would all turn paper-white."""
    a = np.asarray(image)
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.bool_:  # clipped, True was 1: every pixel near black, the image "blank"
        return a.astype(np.uint8) * np.uint8(255)
    f = a.astype(np.float32)
    top = float(f.max()) if f.size else 0.0
    if (a.dtype.kind == "u" and a.dtype.itemsize == 2) or (a.dtype.kind in "ui" and top > 255):
        f = f / 257.0
    elif a.dtype.kind == "f" and top <= 1.0 + 1e-6:
        f = f * 255.0
    return np.clip(f + 0.5, 0, 255).astype(np.uint8)


def to_gray(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W) from grey, RGB, RGBA (transparent pixels become paper-white) images of any depth
    (``eight_bit``)."""
    img = eight_bit(image)
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    if img.ndim == 3:
        if img.shape[2] == 4:
            rgb = img[:, :, :3].astype(np.float32)
            alpha = img[:, :, 3:4].astype(np.float32) / 255.0
            img = (rgb * alpha + 255.0 * (1 - alpha)).astype(np.uint8)
        elif img.shape[2] != 3:
            raise InkmathError(f"Unsupported image shape {img.shape}; give a grey, RGB or RGBA image")
        img = img[:, :, :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if img.ndim != 2:
        raise InkmathError(f"Unsupported image shape {np.shape(image)}; give a 2-D grey or an RGB image")
    if img.size == 0 or min(img.shape) == 0:
        raise InkmathError("The image is empty (0 pixels)")
    if img.dtype == np.uint8:
        return img
    return np.clip(img + 0.5, 0, 255).astype(np.uint8)


def _border(img: np.ndarray) -> np.ndarray:
    return np.concatenate([img[0], img[-1], img[:, 0], img[:, -1]])


def detect_ink(gray: np.ndarray) -> str:
    """'white' if the ink is light on a dark background, else 'black'. The background is the border's median."""
    return "black" if np.median(_border(gray)) > 127 else "white"


def is_uneven(white_ink: np.ndarray) -> bool:
    """True for photos and scans: a background that is not uniformly black after inversion."""
    border = _border(white_ink)
    if border.max() <= 25:  # a clean dark border (every rendered crop): median and std are both <= 25 then
        return False
    return bool(np.median(border) > 25 or border.std() > 25)


def is_photo(image: np.ndarray) -> bool:
    """True for a photo or a scan: its border is not one flat grey (``PHOTO_BORDER_SHARE``), or it is uneven
    (``is_uneven``); False for a rendering or a drawing app's image."""
    gray = to_gray(image)
    border = _border(gray).astype(np.int16)
    if np.mean(np.abs(border - np.median(border)) > PHOTO_BORDER_LEVELS) >= PHOTO_BORDER_SHARE:
        return True
    return is_uneven(gray if detect_ink(gray) == "white" else 255 - gray)


def binarize(white_ink: np.ndarray) -> np.ndarray:
    """Flatten uneven lighting (divide by a blurred background estimate), Otsu-threshold, drop specks."""
    h, w = white_ink.shape
    k = max(3, (max(h, w) // 8) | 1)
    paper = 255 - white_ink.astype(np.float32)  # dark ink on light paper
    background = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (k, k), 0)
    flat = np.clip(paper / np.maximum(background, 1.0) * 255.0, 0, 255).astype(np.uint8)
    flat = cv2.GaussianBlur(flat, (3, 3), 0)
    _, ink = cv2.threshold(flat, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    # remove specks: components much smaller than the largest one (noise), keep at least the largest
    n, lab, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n > 2:
        areas = stats[1:, cv2.CC_STAT_AREA]
        keep = np.flatnonzero(areas >= max(3, 0.02 * areas.max())) + 1
        ink = np.where(np.isin(lab, keep), 255, 0).astype(np.uint8)
    return ink


def to_white_ink(image: np.ndarray, ink: str = "auto") -> np.ndarray:
    """uint8 (H, W), white ink on black, binarised when the input is an uneven photo or scan."""
    gray = to_gray(image)
    if ink == "auto":
        ink = detect_ink(gray)
    if ink == "black":
        gray = 255 - gray
    elif ink != "white":
        raise InkmathError(f"ink must be 'auto', 'white' or 'black', got {ink!r}")
    if is_uneven(gray):
        gray = binarize(gray)
    return gray


def ink_bbox(white_ink: np.ndarray, threshold: int = INK_THRESHOLD) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1), end-exclusive, of pixels brighter than ``threshold``; None if there is no ink."""
    mask = (white_ink > threshold).view(np.uint8)
    x, y, w, h = cv2.boundingRect(mask)  # of the non-zero pixels: about 3x faster than numpy's any() per axis
    if w == 0:
        return None
    return y, y + h, x, x + w


def prepare(image: np.ndarray, preset: str | Preset = "symbol32", ink: str = "auto") -> np.ndarray:
    """float32 (S, S) in [0, 1], white ink on black, ready for a model of the preset's input size."""
    p = get_preset(preset)
    img = to_white_ink(image, ink)
    bb = ink_bbox(img)
    if bb is None:
        raise InkmathError("No ink found in the image: it is blank (or all one colour). Draw or photograph a symbol.")
    y0, y1, x0, x1 = bb
    crop = img[y0:y1, x0:x1]
    h, w = crop.shape
    scale = p.box / max(h, w, p.ref)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(crop, (nw, nh), interpolation=interp)
    out = np.zeros((p.size, p.size), np.float32)
    if p.center == "mass":
        m = small.astype(np.float64)
        total = m.sum()
        cy = (m.sum(axis=1) @ np.arange(nh)) / total if total > 0 else nh / 2
        cx = (m.sum(axis=0) @ np.arange(nw)) / total if total > 0 else nw / 2
        top = int(round(p.size / 2 - cy - 0.5))
        left = int(round(p.size / 2 - cx - 0.5))
        top = min(max(top, 0), p.size - nh)
        left = min(max(left, 0), p.size - nw)
    else:
        top, left = (p.size - nh) // 2, (p.size - nw) // 2
    out[top:top + nh, left:left + nw] = small
    return out / 255.0


def prepare_batch(images, preset: str | Preset = "symbol32", ink: str = "auto") -> np.ndarray:
    """float32 (N, 1, S, S) from a sequence of images (or a uint8 (N, H, W) array)."""
    p = get_preset(preset)
    out = np.empty((len(images), 1, p.size, p.size), np.float32)
    for i, img in enumerate(images):
        out[i, 0] = prepare(img, p, ink)
    return out


def prepare_uint8(images, preset: str | Preset = "symbol32", ink: str = "auto") -> np.ndarray:
    """uint8 (N, S, S): ``prepare`` for whole data sets, stored compactly in memory and in the cache.

    A blank image (some data sets hold a few) becomes an all-black image instead of an error.
    """
    p = get_preset(preset)
    out = np.zeros((len(images), p.size, p.size), np.uint8)
    for i, img in enumerate(images):
        try:
            out[i] = np.clip(prepare(img, p, ink) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        except InkmathError:
            pass
    return out
