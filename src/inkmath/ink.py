"""Strokes -> raster: THE rasterizer for InkML files, the web canvas and tests (numpy + OpenCV, no torch).

A drawing is a list of strokes, each a float array (P, 2) of (x, y) points with y growing downwards (screen and
InkML convention). Extra channels (a time column) are dropped.

Why one function: a symbol the model learnt from CROHME ink and a symbol drawn on the web page must look alike.
Both pass through ``rasterize`` at the canonical scale (``normalization_scale``): the drawing is scaled so that
its *typical symbol size* becomes ``DEFAULT_HEIGHT`` pixels, then lines of ``DEFAULT_THICKNESS`` pixels are drawn.
A symbol inside an expression and the same symbol drawn alone therefore get the same stroke width relative to
their size. The typical symbol size is the median over strokes of max(stroke width, stroke height): robust to
dots, fraction bars and big operators, and it does not need the segmentation (the canvas does not have one).

    img, tf = rasterize(strokes)            # canonical: white ink (255) on black (0), uint8
    tf.box_to_pixels(bbox(strokes[2:4]))    # where strokes 2-3 landed in the image
    crop = render_symbol(strokes[2:4], scale=tf.scale)   # one symbol, same scale and pen as the expression
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import cv2
import numpy as np

from inkmath.errors import InkmathError
from inkmath.sizes import typical_size

Strokes = list[np.ndarray]

DEFAULT_HEIGHT = 40.0  # pixels given to a typical symbol at the canonical scale
DEFAULT_THICKNESS = 3  # pen width in pixels at the canonical scale
DEFAULT_PADDING = 4  # pixels of black around the ink
MAX_SYMBOL_SIZE = 2.0  # render_symbol draws longer symbols as if this many typical symbols long
MAX_SIDE = 16384  # larger rasters are a caller's mistake (a wrong scale), not a drawing

_SHIFT = 4  # cv2 fixed-point fractional bits: points are drawn with 1/16 pixel precision
_ONE = 1 << _SHIFT
RASTER_VERSION = 2  # bumped when the drawing of ink changes (2: a resting pen's repeated points are skipped); in cache keys


class _Checked(list):
    """A list of strokes that ``as_strokes`` has already validated: passing it again costs nothing (the stages of
    one recognition call the helpers below many times on the same strokes)."""


def as_strokes(strokes: Sequence) -> Strokes:
    """Validate and convert to a list of float64 (P, 2) arrays (a third column, time, is dropped).

    Empty strokes are kept (as (0, 2) arrays) so stroke indices stay those of the source; a drawing without any
    point, or with NaN/inf coordinates, raises ``InkmathError``.
    """
    if isinstance(strokes, _Checked):
        return strokes
    if strokes is None or len(strokes) == 0:
        raise InkmathError("No strokes: the drawing is empty. Draw something first.")
    out: Strokes = []
    total = 0
    for i, s in enumerate(strokes):
        if isinstance(s, np.ndarray) and s.dtype == np.float64 and s.ndim == 2 and s.shape[1] == 2:
            a = s  # already in shape: no copy (the common case when strokes are passed on between stages)
        else:
            try:
                a = np.asarray(s, dtype=np.float64)
            except (TypeError, ValueError):
                raise InkmathError(f"Stroke {i} is not a list of numeric (x, y) points") from None
            if a.size == 0:
                a = np.zeros((0, 2))
            elif a.ndim == 1 and a.shape[0] in (2, 3):
                a = a[None, :2]
            if a.ndim != 2 or a.shape[1] < 2:
                raise InkmathError(f"Stroke {i} has shape {a.shape}; each stroke must be (P, 2) points (x, y)")
            a = a[:, :2]
        out.append(a)
        total += len(a)
    if total == 0:
        raise InkmathError("No points in any stroke: the drawing is empty. Draw something first.")
    if not np.isfinite(np.concatenate(out)).all():
        bad = next(i for i, a in enumerate(out) if not np.isfinite(a).all())
        raise InkmathError(f"Stroke {bad} has NaN or infinite coordinates; send finite (x, y) numbers")
    return _Checked(out)


def bbox(strokes: Sequence) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1) of all points (ink coordinates)."""
    pts = np.concatenate([s for s in as_strokes(strokes) if len(s)])
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def symbol_size(strokes: Sequence) -> float:
    """Typical symbol size in ink units: median over strokes of max(width, height).

    Strokes of a multi-stroke symbol ('+', 'x', '=') are each about as large as the symbol; a stroke of near zero
    extent (a dot) counts only where it is the majority. 0.0 when every stroke is a single point.
    """
    ss = [s for s in as_strokes(strokes) if len(s)]
    starts = np.cumsum([0] + [len(s) for s in ss[:-1]])
    pts = np.concatenate(ss)
    extent = np.maximum.reduceat(pts, starts) - np.minimum.reduceat(pts, starts)  # np.ptp(s, axis=0) of each stroke
    return typical_size(extent[:, 0], extent[:, 1])


def normalization_scale(strokes: Sequence, target_height: float = DEFAULT_HEIGHT) -> float:
    """Pixels per ink unit that give the typical symbol ``target_height`` pixels.

    Drawings that are only dots (size 0) fall back to the whole drawing's extent, then to 1.0.
    """
    size = symbol_size(strokes)
    if size <= 1e-9:
        x0, y0, x1, y1 = bbox(strokes)
        size = max(x1 - x0, y1 - y0)
    return float(target_height / size) if size > 1e-9 else 1.0


def normalize_strokes(strokes: Sequence, target_height: float = DEFAULT_HEIGHT) -> Strokes:
    """Strokes scaled to the canonical size (typical symbol = ``target_height``) and moved to start at (0, 0)."""
    ss = as_strokes(strokes)
    s = normalization_scale(ss, target_height)
    x0, y0, _, _ = bbox(ss)
    origin = np.array([x0, y0])
    return [(a - origin) * s for a in ss]


@dataclass(frozen=True)
class Transform:
    """pixel = ink * scale + (dx, dy). Maps points and boxes between ink and image coordinates."""

    scale: float
    dx: float
    dy: float

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        return np.asarray(points, np.float64)[..., :2] * self.scale + (self.dx, self.dy)

    def to_ink(self, points: np.ndarray) -> np.ndarray:
        return (np.asarray(points, np.float64)[..., :2] - (self.dx, self.dy)) / self.scale

    def box_to_pixels(self, box) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        return (x0 * self.scale + self.dx, y0 * self.scale + self.dy, x1 * self.scale + self.dx,
                y1 * self.scale + self.dy)

    def box_to_ink(self, box) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = box
        s = self.scale
        return ((x0 - self.dx) / s, (y0 - self.dy) / s, (x1 - self.dx) / s, (y1 - self.dy) / s)


def rasterize(
    strokes: Sequence,
    *,
    scale: float | None = None,
    thickness: int = DEFAULT_THICKNESS,
    padding: int | None = None,
    size: int | tuple[int, int] | None = None,
) -> tuple[np.ndarray, Transform]:
    """Draw strokes as antialiased lines: (uint8 image, white ink on black; Transform ink -> pixels).

    - default: canonical scale (``normalization_scale``), image just large enough for the ink plus ``padding``;
    - ``scale=s``: s pixels per ink unit (to render a part of a drawing at the scale of the whole);
    - ``size=S`` or ``(W, H)``: fit the ink, keeping its aspect, into a fixed image, centred.
    Single-point strokes (taps) are drawn as dots of the pen's diameter.
    """
    ss = as_strokes(strokes)
    thickness = max(1, int(round(thickness)))
    pad = float(thickness + 1 if padding is None else padding)
    box = bbox(ss)
    if size is None and scale is None:
        scale = normalization_scale(ss)
    W, H, tf = _layout(box, scale, pad, size)
    img = np.zeros((H, W), np.uint8)
    _draw(img, [np.rint(tf.to_pixels(s) * _ONE).astype(np.int32) for s in ss if len(s)], thickness)
    return img, tf


def _layout(box: tuple[float, float, float, float], scale: float | None, pad: float,
            size: int | tuple[int, int] | None) -> tuple[int, int, Transform]:
    """``rasterize``'s image width and height and ink -> pixel transform for ink inside ``box``."""
    x0, y0, x1, y1 = box
    w_ink, h_ink = x1 - x0, y1 - y0
    if size is not None:
        W, H = (size, size) if isinstance(size, (int, np.integer)) else (int(size[0]), int(size[1]))
        if W < 1 or H < 1:
            raise InkmathError(f"size must be positive, got {size!r}")
        avail_w, avail_h = W - 1 - 2 * pad, H - 1 - 2 * pad
        if avail_w <= 0 or avail_h <= 0:
            raise InkmathError(f"size {size!r} leaves no room inside padding {pad:g}; pass a smaller padding")
        if scale is None:
            fits = [a / e for a, e in ((avail_w, w_ink), (avail_h, h_ink)) if e > 1e-9]
            scale = min(fits) if fits else 1.0
        dx = (W - 1 - w_ink * scale) / 2 - x0 * scale
        dy = (H - 1 - h_ink * scale) / 2 - y0 * scale
    else:
        W = int(math.ceil(w_ink * scale + 2 * pad)) + 1
        H = int(math.ceil(h_ink * scale + 2 * pad)) + 1
        dx, dy = pad - x0 * scale, pad - y0 * scale
    if not (math.isfinite(scale) and scale > 0):
        raise InkmathError(f"scale must be a positive finite number, got {scale!r}")
    if W > MAX_SIDE or H > MAX_SIDE:
        raise InkmathError(f"The raster would be {W}x{H} pixels; pass a smaller scale (got {scale:g})")
    return W, H, Transform(float(scale), float(dx), float(dy))


def _draw(img: np.ndarray, pixel_strokes: list[np.ndarray], thickness: int) -> None:
    """Draw strokes given as int32 (P, 2) points in 1/16 pixels: lines, then single points as dots.

    A point equal to the one before it (a resting pen: most of the points of tablet ink) is skipped. OpenCV draws
    each such zero-length segment as the pen's round tip once more, antialiased over itself, so a stroke's look
    would depend on how long the pen rested, and drawing would take about three times longer.
    """
    lines, dots = [], []
    for p in pixel_strokes:
        if len(p) > 1:
            moved = np.empty(len(p), bool)
            moved[0] = True
            np.any(p[1:] != p[:-1], axis=1, out=moved[1:])
            if not moved.all():
                p = p[moved]
        if len(p) == 1:
            dots.append(p[0])
        else:
            lines.append(p.reshape(-1, 1, 2))
    if lines:
        cv2.polylines(img, lines, False, 255, thickness, cv2.LINE_AA, _SHIFT)
    radius = max(1, int(round(thickness / 2 * _ONE)))
    for c in dots:
        cv2.circle(img, (int(c[0]), int(c[1])), radius, 255, -1, cv2.LINE_AA, _SHIFT)


def render_symbol(
    strokes_of_symbol: Sequence,
    *,
    scale: float | None = None,
    thickness: int = DEFAULT_THICKNESS,
    padding: int | None = None,
    max_size: float = MAX_SYMBOL_SIZE,
) -> np.ndarray:
    """One symbol's crop, white ink on black.

    Pass the expression's ``scale`` (``normalization_scale(all_strokes)``) to keep the symbol's appearance inside
    the expression (same pen width relative to the expression); without it the symbol is normalised on its own,
    as a symbol drawn alone on a canvas is. A symbol longer than ``max_size`` typical symbols (a fraction bar, a
    root over a long radicand, a tall bracket) is drawn smaller, as if it were ``max_size`` long: otherwise its
    pen would shrink below a pixel when the crop is resized to the model's input and the symbol would fade out.
    """
    ss = as_strokes(strokes_of_symbol)
    if scale is None:
        scale = normalization_scale(ss)
    img, _ = rasterize(ss, scale=_symbol_scale(bbox(ss), scale, max_size), thickness=thickness, padding=padding)
    return img


def _symbol_scale(box: tuple[float, float, float, float], scale: float, max_size: float) -> float:
    """``scale``, or less for a symbol longer than ``max_size`` typical symbols (see ``render_symbol``)."""
    x0, y0, x1, y1 = box
    longest = max(x1 - x0, y1 - y0) * scale
    return scale * (max_size * DEFAULT_HEIGHT / longest) if longest > max_size * DEFAULT_HEIGHT else scale


def render_symbols(
    strokes: Sequence,
    spans: Sequence[tuple[int, int]],
    *,
    scale: float,
    thickness: int = DEFAULT_THICKNESS,
    padding: int | None = None,
    max_size: float = MAX_SYMBOL_SIZE,
) -> list[np.ndarray]:
    """``[render_symbol(strokes[i:j], scale=scale, ...) for i, j in spans]``, the same images to the byte, with the
    work the candidate groups of one drawing share done once: validation, the strokes' boxes, the scaled points.
    """
    ss = as_strokes(strokes)
    thickness = max(1, int(round(thickness)))
    pad = float(thickness + 1 if padding is None else padding)
    sizes = [len(s) for s in ss]
    starts = np.cumsum([0] + sizes).tolist()
    pts = np.concatenate(ss)
    scaled = pts * float(scale)  # Transform.to_pixels's first step at the drawing's scale
    boxes = [None] * len(ss)
    if pts.size:
        nonempty = [k for k, m in enumerate(sizes) if m]
        at = [starts[k] for k in nonempty]
        lo, hi = np.minimum.reduceat(pts, at).tolist(), np.maximum.reduceat(pts, at).tolist()
        for k, a, b in zip(nonempty, lo, hi):
            boxes[k] = (a[0], a[1], b[0], b[1])
    crops = []
    for i, j in spans:
        if not all(sizes[i:j]):  # an empty stroke in the group (not from segment_strokes): the plain way
            crops.append(render_symbol(ss[i:j], scale=scale, thickness=thickness, padding=padding,
                                       max_size=max_size))
            continue
        group = boxes[i:j]
        box = (min(b[0] for b in group), min(b[1] for b in group), max(b[2] for b in group), max(b[3] for b in group))
        W, H, tf = _layout(box, _symbol_scale(box, scale, max_size), pad, None)
        a, b = starts[i], starts[j]
        ink_scaled = scaled[a:b] if tf.scale == float(scale) else pts[a:b] * tf.scale
        p = np.rint((ink_scaled + (tf.dx, tf.dy)) * _ONE).astype(np.int32)
        img = np.zeros((H, W), np.uint8)
        _draw(img, [p[starts[k] - a:starts[k + 1] - a] for k in range(i, j)], thickness)
        crops.append(img)
    return crops
