"""Handwriting as a phone sees it on school paper: ballpoint pens and pencil drawn from ink strokes, and the words,
question numbers, boxes, underlines, crossings-out and teacher's marks that surround a student's maths.

    bank = glyph_bank(training_exprs)                    # letters, digits and marks cut from CROHME training ink
    strokes = write_text("Resposta", bank, rng, unit)    # a word at a symbol height of ``unit`` px
    pen = draw_pen(rng)                                  # a ballpoint or a pencil, with its colour and width
    cover, deposit = render_ink(shape, strokes, pen, rng, unit)

``cover`` is where the pen passed (0-1, antialiased): the truth an ink extractor learns. ``deposit`` is how much of
the pen's colour each pixel took (0-1): a pencil's graphite varies with pressure along a stroke, catches on the
paper's tooth and breaks into dots where it is faint; a ballpoint is dark and nearly even. Everything is in the
sheet's pixels; the camera (``real_photos``) turns reflectances into a photo.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import cv2
import numpy as np

from inkmath import ink as _ink
from inkmath.equation.synth.pages import symbol_bank

# The pens: (name, reflectance RGB of a full deposit, width in symbol heights (uniform range), share of writers).
# Widths: real crops show strokes 1.9-3.8 px wide for symbols 10-25 px tall (../shared/tools/photo_stats.py), a
# pen's width of 0.08-0.2 symbol heights.
PENS = (
    ("ballpoint-blue", (0.1, 0.15, 0.45), (0.08, 0.18), 0.4),
    ("ballpoint-black", (0.08, 0.08, 0.1), (0.08, 0.18), 0.25),
    ("pencil", (0.22, 0.22, 0.24), (0.09, 0.18), 0.35),
)
RED_PEN = (0.82, 0.16, 0.16)  # a teacher's marks: red, never the student's ink
PENCIL_PRESSURE = (0.45, 1.0)  # a pencil stroke's mean darkness, a share of a full deposit (uniform per stroke)
PENCIL_FAINT = 0.25  # ... a writer's whole first problem written this much lighter on some pages (``faint``)
PENCIL_TOOTH = 0.55  # relative darkness noise from the paper's tooth (graphite skips the grain's valleys)
BALLPOINT_PRESSURE = (0.8, 1.0)
CHUNK = 6  # points drawn with one pressure and width (a stroke's pressure changes along it every few points)
SUPERSAMPLE = 3  # strokes are drawn at this many times the sheet's resolution, then averaged down
DESCENDERS = set("gjpqy")  # letters whose body stands on the line and whose tail goes below it
WORDS = ("Resposta", "Resolva", "Calcule", "logo", "Solve", "Find", "answer", "then", "so", "check", "Simplify",
         "value", "the", "of", "and", "equation", "Prove", "Let", "root", "area", "Sol", "R")
LABEL_STYLES = ("n)", "n.", "(n)", "circled")
TEXT_CHARS = set("abcdefghijklmnopqrstuvwxyzRSCFLPAE0123456789().,:") | {"-"}


@dataclass
class Pen:
    name: str
    colour: np.ndarray  # reflectance RGB of a full deposit
    width: float  # symbol heights
    pencil: bool


def glyph_bank(exprs) -> dict[str, list[list[np.ndarray]]]:
    """Letters, digits and marks for words and question numbers, from the truth symbols of ``exprs`` (training ink;
    ``pages.symbol_bank``'s units: the writer's mean symbol height, top-left at 0)."""
    return symbol_bank(exprs, TEXT_CHARS)


BANK_EXPRESSIONS = 3000  # training expressions whose letters and digits write the words and question numbers
TRAIN_ARCHIVE = "crohme2014_train_inkml.tar.xz"  # the CROHME training ink (never validation or test ink)


@functools.lru_cache(maxsize=2)
def training_glyph_bank(n: int = BANK_EXPRESSIONS) -> dict[str, list[list[np.ndarray]]]:
    """``glyph_bank`` of the first ``n`` expressions of the CROHME training ink (``$INKMATH_DATA``), read once a
    process (callers only read it)."""
    import itertools

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    return glyph_bank(itertools.islice(iter_inkml(data_dir() / "crohme" / TRAIN_ARCHIVE), n))


def draw_pen(rng: np.random.Generator, name: str | None = None) -> Pen:
    names = [p[0] for p in PENS]
    k = names.index(name) if name else int(rng.choice(len(PENS), p=[p[3] for p in PENS]))
    _, colour, width, _ = PENS[k]
    c = np.clip(np.array(colour) + rng.normal(0, 0.025, 3), 0.02, 0.9)
    return Pen(PENS[k][0], c.astype(np.float32), float(rng.uniform(*width)), PENS[k][0] == "pencil")


def write_text(text: str, bank, rng: np.random.Generator, unit: float) -> list[np.ndarray]:
    """``text`` written from the bank's glyphs on one baseline (y = 0 at the baseline, x from 0), symbol height
    ``unit`` px; characters the bank lacks are left out ("" when none is there)."""
    out, x = [], 0.0
    for ch in text:
        if ch == " ":
            x += rng.uniform(0.5, 0.8) * unit
            continue
        if not bank.get(ch):
            continue
        g = bank[ch][int(rng.integers(len(bank[ch])))]
        size = unit * float(np.exp(rng.normal(0, 0.08)))
        if ch.islower() and ch not in "bdfhklt":
            size *= 0.7  # an x-height letter
        if ch in ".,":
            size *= 0.3
        pts = [p * size for p in g]
        x0, y0, x1, y1 = _ink.bbox(pts)
        drop = 0.4 * (y1 - y0) if ch in DESCENDERS or ch == "," else 0.0
        dx = x - x0 + (rng.uniform(0.05, 0.2) * unit if out else 0.0)
        out += [p + (dx, -y1 + drop + rng.normal(0, 0.03) * unit) for p in pts]
        x = x1 + dx
    return out


def question_number(n: int, style: str, bank, rng: np.random.Generator, unit: float) -> list[np.ndarray]:
    """A question number "3)", "3.", "(3)" or a circled 3, baseline at y = 0."""
    text = {"n)": f"{n})", "n.": f"{n}.", "(n)": f"({n})"}.get(style, str(n))
    strokes = write_text(text, bank, rng, unit)
    if style == "circled" and strokes:
        x0, y0, x1, y1 = _ink.bbox(strokes)
        strokes.append(ellipse((x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2 + 0.35 * unit, (y1 - y0) / 2 + 0.3 * unit,
                               rng))
    return strokes


def ellipse(cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator) -> np.ndarray:
    """A hand-drawn loop round a centre: a little more than one turn, slightly wobbly."""
    start = rng.uniform(0, 2 * np.pi)
    t = np.linspace(start, start + 2 * np.pi * rng.uniform(1.02, 1.15), 48)
    wob = 1 + np.cumsum(rng.normal(0, 0.01, len(t)))
    return np.stack([cx + rx * wob * np.cos(t), cy + ry * wob * np.sin(t)], axis=1)


def box_round(box, rng: np.random.Generator, unit: float) -> list[np.ndarray]:
    """A hand-drawn rectangle round a box (a boxed answer): four strokes, corners overshooting a little."""
    x0, y0, x1, y1 = box
    m = rng.uniform(0.25, 0.5) * unit
    x0, y0, x1, y1 = x0 - m, y0 - m, x1 + m, y1 + m
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
    out = []
    for (ax, ay), (bx, by) in zip(corners[:-1], corners[1:]):
        t = np.linspace(0, 1, 12)[:, None]
        seg = np.array([ax, ay]) * (1 - t) + np.array([bx, by]) * t
        out.append(seg + rng.normal(0, 0.04 * unit, seg.shape).cumsum(0) * 0.3)
    return out


def underline(box, rng: np.random.Generator, unit: float) -> list[np.ndarray]:
    x0, _, x1, y1 = box
    y = y1 + rng.uniform(0.2, 0.45) * unit
    t = np.linspace(0, 1, 16)[:, None]
    line = np.concatenate([x0 - 0.2 * unit + t * (x1 - x0 + 0.4 * unit), y + 0 * t], axis=1)
    return [line + np.cumsum(rng.normal(0, 0.02 * unit, line.shape), 0)]


def cross_out(box, rng: np.random.Generator, unit: float) -> list[np.ndarray]:
    """Strokes that cross out the ink in ``box``: a zigzag scribble, one or two lines through it, or an X."""
    x0, y0, x1, y1 = box
    kind = int(rng.integers(3))
    if kind == 0:  # scribble back and forth
        n = max(4, int((x1 - x0) / (0.35 * unit)))
        xs = np.linspace(x0, x1, n)
        ys = np.where(np.arange(n) % 2 == 0, y0 + 0.15 * (y1 - y0), y1 - 0.15 * (y1 - y0))
        return [np.stack([xs, ys + rng.normal(0, 0.05 * unit, n)], axis=1)]
    if kind == 1:  # one or two lines through it
        out = []
        for k in range(int(rng.integers(1, 3))):
            y = y0 + (0.4 + 0.2 * k) * (y1 - y0)
            out.append(np.array([[x0 - 0.2 * unit, y + rng.normal(0, 0.1 * unit)],
                                 [x1 + 0.2 * unit, y + rng.normal(0, 0.1 * unit)]]))
        return out
    return [np.array([[x0, y0], [x1, y1]]), np.array([[x0, y1], [x1, y0]])]


def tick(x: float, y: float, rng: np.random.Generator, unit: float) -> list[np.ndarray]:
    """A teacher's tick (or a cross) about ``unit`` px tall with its foot near (x, y)."""
    s = unit * rng.uniform(0.8, 1.6)
    if rng.random() < 0.7:
        return [np.array([[x - 0.3 * s, y - 0.4 * s], [x, y], [x + 0.6 * s, y - 1.0 * s]])]
    return [np.array([[x - 0.4 * s, y - 0.8 * s], [x + 0.4 * s, y]]), np.array([[x + 0.4 * s, y - 0.8 * s], [x - 0.4 * s, y]])]


def resampled(stroke: np.ndarray, step: float) -> np.ndarray:
    """The stroke's points about ``step`` px apart along it (pressure changes along the length, not per point)."""
    p = np.asarray(stroke, float)
    if len(p) < 2:
        return p
    seg = np.hypot(*np.diff(p, axis=0).T)
    s = np.concatenate([[0.0], np.cumsum(seg)])
    if s[-1] <= 0:
        return p[:1]
    t = np.linspace(0, s[-1], max(2, int(np.ceil(s[-1] / step)) + 1))
    return np.stack([np.interp(t, s, p[:, 0]), np.interp(t, s, p[:, 1])], axis=1)


def render_ink(shape: tuple[int, int], strokes, pen: Pen, rng: np.random.Generator, unit: float,
               pressure_scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(cover, deposit): float32 (H, W) images of the strokes (sheet px) drawn with ``pen`` at a symbol height of
    ``unit`` px. ``pressure_scale`` darkens or lightens the whole writing (a pencil problem written lightly)."""
    h, w = shape
    ss = SUPERSAMPLE
    cover = np.zeros((h * ss, w * ss), np.float32)
    press = np.zeros((h * ss, w * ss), np.float32)
    base_w = pen.width * unit * ss
    lo, hi = PENCIL_PRESSURE if pen.pencil else BALLPOINT_PRESSURE
    for st in strokes:
        pts = resampled(st, max(1.0, 0.15 * unit))
        if not len(pts):
            continue
        level = rng.uniform(lo, hi) * pressure_scale
        walk = np.cumsum(rng.normal(0, 0.08 if pen.pencil else 0.02, len(pts)))
        q = np.rint(pts * ss * 16).astype(np.int32)
        if len(q) == 1:
            r = max(1, int(round(base_w / 2 * 16)))
            cv2.circle(cover, (int(q[0, 0]), int(q[0, 1])), r, 1.0, -1, cv2.LINE_AA, 4)
            cv2.circle(press, (int(q[0, 0]), int(q[0, 1])), r, float(np.clip(level, 0.05, 1)), -1, cv2.LINE_AA, 4)
            continue
        for a in range(0, len(q) - 1, CHUNK):
            part = q[a:a + CHUNK + 1]
            p = float(np.clip(level + walk[a], 0.05, 1.0))
            thick = max(1, int(round(base_w * (0.75 + 0.35 * p if pen.pencil else 1.0))))
            cv2.polylines(cover, [part.reshape(-1, 1, 2)], False, 1.0, thick, cv2.LINE_AA, 4)
            cv2.polylines(press, [part.reshape(-1, 1, 2)], False, p, thick, cv2.LINE_AA, 4)
    cover = np.clip(cv2.resize(cover, (w, h), interpolation=cv2.INTER_AREA), 0, 1)
    press = cv2.resize(press, (w, h), interpolation=cv2.INTER_AREA)
    level = np.where(cover > 1e-3, press / np.maximum(cover, 1e-3), 0).astype(np.float32)
    deposit = cover * np.clip(level, 0, 1)
    if pen.pencil:  # graphite catches on the paper's tooth: fine grain, and faint strokes break into dots
        tooth = cv2.GaussianBlur(rng.normal(0, 1, (h, w)).astype(np.float32), (0, 0), 0.6)
        tooth /= float(tooth.std()) or 1.0
        deposit = deposit * np.clip(1 + PENCIL_TOOTH * tooth - 0.5 * (1 - level), 0, 1.2)
    return cover, np.clip(deposit, 0, 1).astype(np.float32)


def red_marks(shape: tuple[int, int], strokes, rng: np.random.Generator, unit: float) -> np.ndarray:
    """The deposit (0-1) of a teacher's red pen over the page."""
    pen = Pen("red", np.array(RED_PEN, np.float32), float(rng.uniform(0.08, 0.14)), False)
    _, dep = render_ink(shape, strokes, pen, rng, unit)
    return dep
