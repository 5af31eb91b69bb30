"""Synthetic handwriting: hand-designed stroke templates for digits, x, y and operators, laid out like a writer.

Used for the bundled demo examples and for tests that must run without any data set. Every glyph is drawn in a
box of height 1 (y down); a seeded jitter (slant, scale, wobble) makes each drawing a little different, as hands
are. These are our own templates, not samples of anybody's handwriting.

    strokes = write("3x+5=11", seed=0)       # list of (P, 2) float arrays
    strokes = write_lines(["x+y=3", "x-y=1"])
    strokes = write("x^2-5x+6=0")            # ^ raises the next character
"""

from __future__ import annotations

import numpy as np

from inkmath.errors import InkmathError


def _line(*pts) -> np.ndarray:
    pts = np.asarray(pts, float)
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    n = np.maximum(2, (seg * 40).astype(int))
    out = [pts[0]]
    for a, b, k in zip(pts[:-1], pts[1:], n):
        t = np.linspace(0, 1, k + 1)[1:, None]
        out.append(a + (b - a) * t)
    return np.vstack(out)


def _arc(cx, cy, rx, ry, a0, a1, n: int = 40) -> np.ndarray:
    """Elliptic arc; angles in degrees, 0 = right, 90 = down (y grows downwards)."""
    t = np.radians(np.linspace(a0, a1, n))
    return np.column_stack([cx + rx * np.cos(t), cy + ry * np.sin(t)])


def _join(*parts) -> np.ndarray:
    return np.vstack(parts)


# glyph -> (kind, width, strokes); kind places it: "tall" (digits), "small" (x), "desc" (y), "op", "bar", "paren"
GLYPHS: dict[str, tuple[str, float, list[np.ndarray]]] = {
    "0": ("tall", 0.55, [_arc(0.27, 0.5, 0.26, 0.5, -95, 268)]),
    "1": ("tall", 0.3, [_line((0.02, 0.22), (0.2, 0.0), (0.2, 1.0))]),
    "2": ("tall", 0.55, [_join(_arc(0.27, 0.28, 0.26, 0.27, 190, 375), _line((0.52, 0.36), (0.02, 1.0), (0.56, 0.99)))]),
    "3": ("tall", 0.5, [_join(_arc(0.24, 0.25, 0.23, 0.24, 200, 445), _arc(0.24, 0.73, 0.26, 0.26, -85, 160))]),
    "4": ("tall", 0.6, [_line((0.42, 0.0), (0.0, 0.68), (0.6, 0.68)), _line((0.46, 0.3), (0.46, 1.0))]),
    "5": ("tall", 0.5, [_join(_line((0.06, 0.0), (0.03, 0.45)), _arc(0.24, 0.7, 0.25, 0.29, -125, 150)),
                         _line((0.06, 0.0), (0.5, 0.0))]),
    "6": ("tall", 0.52, [_join(_line((0.46, 0.0), (0.2, 0.25), (0.05, 0.55)), _arc(0.27, 0.74, 0.23, 0.25, 190, 545))]),
    "7": ("tall", 0.55, [_line((0.0, 0.02), (0.55, 0.0), (0.18, 1.0))]),
    "8": ("tall", 0.5, [_join(_arc(0.25, 0.25, 0.2, 0.24, 90, 450), _arc(0.25, 0.74, 0.25, 0.25, -90, 270))]),
    "9": ("tall", 0.5, [_join(_arc(0.24, 0.27, 0.23, 0.26, 0, 365), _line((0.47, 0.3), (0.44, 1.0)))]),
    "x": ("small", 0.55, [_line((0.0, 0.0), (0.55, 1.0)), _line((0.55, 0.0), (0.0, 1.0))]),
    "y": ("desc", 0.55, [_line((0.0, 0.0), (0.27, 0.6)), _line((0.55, 0.0), (0.08, 1.5))]),
    "+": ("op", 0.6, [_line((0.3, 0.0), (0.3, 0.6)), _line((0.0, 0.3), (0.6, 0.3))]),
    "-": ("bar", 0.55, [_line((0.0, 0.0), (0.55, 0.0))]),
    "=": ("op", 0.6, [_line((0.0, 0.15), (0.6, 0.15)), _line((0.0, 0.45), (0.6, 0.45))]),
    "(": ("paren", 0.3, [_arc(0.3, 0.5, 0.3, 0.6, 238, 122)]),
    ")": ("paren", 0.3, [_arc(0.0, 0.5, 0.3, 0.6, -58, 58)]),
}

# vertical placement (top of the glyph's box relative to the baseline, in units of a digit's height) and size
_PLACE = {"tall": (-1.0, 1.0), "small": (-0.6, 0.6), "desc": (-0.6, 0.4), "op": (-0.78, 1.0), "bar": (-0.45, 1.0),
          "paren": (-1.15, 1.0)}


def _jitter(strokes: list[np.ndarray], rng: np.random.Generator, amount: float) -> list[np.ndarray]:
    slant = rng.normal(0, 0.08 * amount)
    sx, sy = 1 + rng.normal(0, 0.06 * amount, 2)
    out = []
    for s in strokes:
        p = s.copy()
        p[:, 0] = p[:, 0] * sx - slant * p[:, 1]
        p[:, 1] = p[:, 1] * sy
        # a smooth wobble: low-frequency noise along the stroke
        k = max(2, len(p) // 12)
        wob = rng.normal(0, 0.012 * amount, (k, 2))
        idx = np.linspace(0, k - 1, len(p))
        p += np.column_stack([np.interp(idx, np.arange(k), wob[:, j]) for j in range(2)])
        out.append(p)
    return out


def glyph(ch: str, x: float, base_y: float, size: float, rng: np.random.Generator, amount: float):
    """Strokes of one character placed with its left edge at x; returns (strokes, width)."""
    if ch not in GLYPHS:
        raise InkmathError(f"No synthetic glyph for {ch!r}; available: {''.join(GLYPHS)}")
    kind, width, strokes = GLYPHS[ch]
    top, scale = _PLACE[kind]
    strokes = _jitter(strokes, rng, amount)
    if kind in ("small", "desc"):
        scale = 0.6
    placed = [np.column_stack([x + p[:, 0] * size * scale, base_y + (top + p[:, 1] * (scale if kind in ("small", "desc") else 1)) * size])
              for p in strokes]
    if kind in ("op",):
        placed = [np.column_stack([x + p[:, 0] * size, base_y + (top + p[:, 1]) * size]) for p in strokes]
    return placed, width * size * (scale if kind in ("small", "desc") else 1)


def write(text: str, seed: int = 0, x: float = 0.0, base_y: float = 0.0, size: float = 100.0,
          amount: float = 1.0) -> list[np.ndarray]:
    """Strokes for a one-line expression; ``^`` raises the next character as an exponent."""
    rng = np.random.default_rng(seed)
    strokes: list[np.ndarray] = []
    raise_next = False
    for ch in text:
        if ch == " ":
            x += 0.3 * size
            continue
        if ch == "^":
            raise_next = True
            continue
        if raise_next:
            s, w = glyph(ch, x - 0.05 * size, base_y - 0.6 * size, 0.6 * size, rng, amount)
            raise_next = False
        else:
            s, w = glyph(ch, x, base_y, size, rng, amount)
        strokes += s
        x += w + (0.22 + rng.uniform(-0.04, 0.06)) * size
    return strokes


def write_lines(lines: list[str], seed: int = 0, size: float = 100.0, line_gap: float = 1.9) -> list[np.ndarray]:
    """Several lines, one under another (a system of equations)."""
    out: list[np.ndarray] = []
    for i, line in enumerate(lines):
        out += write(line, seed=seed + i, base_y=i * line_gap * size, size=size)
    return out
