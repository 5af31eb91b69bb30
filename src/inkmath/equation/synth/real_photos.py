"""Generated photos that look like what students really photograph: worked solutions in pencil or ballpoint on grey,
ruled school paper, with words, question numbers, boxed answers, crossings-out and a teacher's red marks, taken by a
phone and sent through a messaging app. Each comes with its truth: the maths lines (LaTeX and box), what is not
maths (``other``: text, question numbers, crossed-out ink, with boxes), and the ink mask (where the student's pen
passed), for training an ink extractor.

    bank = glyph_bank(training_exprs)                 # words and numbers are written with training ink's glyphs
    p = make_crop(exprs, bank, seed=7)                # one answer, about 240x600 px, symbols 10-25 px tall
    p = make_page(exprs, bank, seed=7)                # a whole A4 page of problems, 719x1280 to 3024x4032 px
    p.photo (RGB uint8, decoded from p.jpeg_bytes), p.ink (uint8 0/255), p.truth, p.other, p.info

The maths is CROHME ink (``exprs``, with a LaTeX truth): training ink for training, the 2011-2013 test ink for
choosing, the 2014 test ink for reporting. A seed fixes every byte. Rows of writing sit on the ruled lines and are
written close together (a line gap of a fraction of a symbol), as students write. The figures the camera is drawn
to match are in ``real_camera``; ``benchmarks/real_photo_stats.py`` measures them against the real set's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from inkmath import ink as _ink
from inkmath.equation.synth import real_camera as cam
from inkmath.equation.synth.pages import mean_symbol_height, usable
from inkmath.equation.synth.real_ink import (LABEL_STYLES, RED_PEN, WORDS, Pen, box_round, cross_out, draw_pen, question_number,
                                             red_marks, render_ink, tick, underline, write_text)

CROP_SYMBOL = (16.0, 0.35, 9.0, 30.0)  # a crop's symbol height in photo px: median, log-sd, clipped range
SHEET_OVERSAMPLE = 2.0
CROP_SHADOW = (0.08, 0.25)  # a crop's shadow takes this much light (uniform): a close-up's shadow is softer  # a crop's sheet is drawn at this many times the photo's resolution
INK_COVER = 0.4  # the ink mask: pixels the pen covers at least this share of
CROP_MAX_WIDTH = 60.0  # symbol heights: wider expressions are not put in a crop
CROP_WIDTH = (560.0, 0.35)  # the photo's width (px) a person frames round an answer: median, log-sd (the real set:
# 356 / 603 / 1023 at the 10th / 50th / 90th percentile)
PAPERS = (("ruled", 0.65), ("squared", 0.15), ("plain", 0.2))
RULE_PITCH = (1.9, 2.6)  # ruled lines this many symbol heights apart (uniform) ...
GRID_PITCH = (1.0, 1.4)  # ... squares this size
ROW_GAP = (0.25, 0.9)
ROWS_MEAN = 3.5  # maths lines of a worked problem (1 + Poisson)  # symbol heights of paper between one row's ink and the next (students write close)
PAGE_SIZES = (((719, 1280), 0.4), ((1152, 2048), 0.45), ((3024, 4032), 0.15))  # whole-page photos (w, h)
PAGE_SYMBOL_MM = (4.2, 0.2)  # handwriting's symbol height on A4 (mm): median, log-sd
PAGE_MAX_SHEET = 2000  # px: a page's sheet is drawn at most this wide (a 12 MP photo enlarges it)
# what a crop or page holds, each a share of answers (or problems)
P_TEXT_ROW = 0.3  # an instruction written above the maths
P_LABEL = 0.45  # a question number before the first line
P_ANSWER_WORD = 0.2  # "Resposta:" before the last line
P_CROSSED = 0.15  # a crossed-out line among the steps
P_BOX, P_UNDERLINE = 0.15, 0.12  # the last line boxed, or underlined
P_TWO = 0.2  # two expressions side by side on one row
P_RED = 0.15  # a teacher's red tick or cross
P_FAINT = 0.35  # a pencil page whose first problem is written lightly ...
FAINT_PRESSURE = 0.45  # ... this much as dark


@dataclass
class Item:
    kind: str  # "maths", "text", "label", "crossed_out"
    strokes: list[np.ndarray]  # sheet px
    latex: str | None = None
    id: str | None = None
    text: str | None = None
    extra: list[np.ndarray] = field(default_factory=list)  # the box or underline drawn round a maths line
    problem: int = 0
    row: int = 0  # the row's place in reading order


@dataclass
class RealPhoto:
    photo: np.ndarray  # RGB uint8, decoded from ``jpeg_bytes``
    ink: np.ndarray  # uint8 (H, W): 255 where the student's pen passed
    truth: list[dict]  # maths lines in reading order: {"id", "latex", "box", "label"?, "label_box"?}
    other: list[dict]  # {"kind": "text" | "label" | "crossed_out", "box", "text"?}
    info: dict
    jpeg_bytes: bytes = b""
    items: list[Item] = field(default_factory=list)  # what was written, in the sheet's px (crops only)
    to_photo: np.ndarray | None = None  # 3x3: the sheet's px -> the photo's (crops only)


class _Pool:
    """The expressions in the given order, each used once."""

    def __init__(self, exprs):
        self.exprs = [e for e in exprs if usable(e)]
        self.used: list[str] = []

    def take(self, fits) -> object | None:
        for k, e in enumerate(self.exprs):
            if fits(e):
                self.used.append(e.id)
                return self.exprs.pop(k)
        return None


def expression_strokes(expr, unit: float, rng: np.random.Generator) -> list[np.ndarray]:
    """The expression's ink at a mean symbol height of ``unit`` px, top-left at 0."""
    strokes = [np.asarray(s, float)[:, :2] for s in expr.strokes if len(s)]
    s = unit / mean_symbol_height(expr) * float(np.exp(rng.normal(0, 0.06)))
    x0, y0, _, _ = _ink.bbox(strokes)
    return [(p - (x0, y0)) * s for p in strokes]


def _size(strokes) -> tuple[float, float]:
    x0, y0, x1, y1 = _ink.bbox(strokes)
    return x1 - x0, y1 - y0


def _moved(strokes, dx: float, dy: float) -> list[np.ndarray]:
    return [p + (dx, dy) for p in strokes]


def _row(parts: list[tuple[Item, list[np.ndarray]]], rng, unit: float) -> list[Item]:
    """Items side by side on one row, top at 0, each part's middle at the row's middle, a gap before each."""
    h = max(_size(s)[1] for _, s in parts)
    x, out = 0.0, []
    for k, (item, strokes) in enumerate(parts):
        x0, y0, x1, y1 = _ink.bbox(strokes)
        dx = x - x0 + (rng.uniform(0.6, 1.5) * unit if k else 0.0)
        if item.kind == "maths" and k and parts[k - 1][0].kind == "maths":
            dx += rng.uniform(1.5, 3.5) * unit  # two expressions on one row stand well apart
        dy = h / 2 - (y0 + y1) / 2
        item.strokes = _moved(strokes, dx, dy)
        out.append(item)
        x = x1 + dx
    return out


def _word_line(bank, rng, unit: float) -> str:
    return " ".join(str(rng.choice(WORDS)) for _ in range(int(rng.integers(1, 5))))


def _problem_rows(pool: _Pool, bank, rng, unit: float, max_width: float, number: int | None, problem: int,
                  max_rows: int) -> list[list[Item]]:
    """The rows of one worked problem: maybe an instruction, then 1-``max_rows`` maths lines (a question number
    before the first, a crossed-out line among them, "Resposta" before the last, the last boxed or underlined)."""
    rows: list[list[Item]] = []
    if rng.random() < P_TEXT_ROW:
        text = _word_line(bank, rng, unit)
        s = write_text(text, bank, rng, unit)
        if s and _size(s)[0] < max_width:
            rows.append(_row([(Item("text", s, text=text, problem=problem), s)], rng, unit))
    n = min(max_rows, 1 + int(rng.poisson(ROWS_MEAN - 1)))
    crossed_at = int(rng.integers(1, n + 1)) if rng.random() < P_CROSSED and n > 1 else -1
    for k in range(n):
        parts: list[tuple[Item, list[np.ndarray]]] = []
        if k == 0 and number is not None:
            s = question_number(number, str(rng.choice(LABEL_STYLES)), bank, rng, unit)
            if s:
                parts.append((Item("label", s, text=str(number), problem=problem), s))
        last = k == n - 1
        if last and n > 1 and rng.random() < P_ANSWER_WORD:
            word = str(rng.choice(["Resposta:", "R:", "Answer:", "Sol:"]))
            s = write_text(word, bank, rng, unit)
            if s:
                parts.append((Item("text", s, text=word, problem=problem), s))
        room = max_width - sum(_size(s)[0] + 1.5 * unit for _, s in parts)
        want = 2 if rng.random() < P_TWO else 1
        for _ in range(want):
            e = pool.take(lambda e: _fits(e, unit, room))
            if e is None:
                break
            s = expression_strokes(e, unit, rng)
            room -= _size(s)[0] + 4 * unit
            parts.append((Item("maths", s, latex=e.latex_truth, id=e.id, problem=problem), s))
        if not any(i.kind == "maths" for i, _ in parts):
            break
        row = _row(parts, rng, unit)
        maths = [i for i in row if i.kind == "maths"]
        if last and len(maths) == 1 and rng.random() < P_BOX + P_UNDERLINE:
            box = _ink.bbox(maths[0].strokes)
            maths[0].extra = box_round(box, rng, unit) if rng.random() < P_BOX / (P_BOX + P_UNDERLINE) \
                else underline(box, rng, unit)
        if k == crossed_at:
            e = pool.take(lambda e: _fits(e, unit, max_width))
            if e is not None:
                s = expression_strokes(e, unit, rng)
                item = Item("crossed_out", s, id=e.id, problem=problem)
                item.extra = cross_out(_ink.bbox(s), rng, unit)
                rows.append(_row([(item, s)], rng, unit))
        rows.append(row)
    return rows


def _fits(e, unit: float, room: float) -> bool:
    strokes = [np.asarray(s, float)[:, :2] for s in e.strokes if len(s)]
    w, h = _size(strokes)
    s = unit / mean_symbol_height(e)
    return w * s <= room and h * s <= 5 * unit


def _stack(rows: list[list[Item]], rng, unit: float, top: float, left: float, pitch: float | None,
           first_rule: float, bottom: float | None = None, gap_before: dict | None = None) -> tuple[list[Item], float]:
    """Rows placed one under another from ``top`` at ``left`` (each row's ink bottom on a ruled line when ``pitch``),
    stopping before ``bottom``; (items placed, the y after the last)."""
    placed, y = [], top
    placed_rows: list = []
    for k, row in enumerate(rows):
        strokes = [p for i in row for p in i.strokes + i.extra]
        _, y0, _, y1 = _ink.bbox(strokes)
        h = y1 - y0
        y += (gap_before or {}).get(k, 0.0)
        end = y + h
        if pitch:
            end = first_rule + np.ceil((end - first_rule) / pitch) * pitch - rng.uniform(0.0, 0.2) * unit
        if bottom is not None and end > bottom:
            break
        dx = left + rng.uniform(0, 0.8) * unit
        for i in row:
            i.row = len(placed_rows)
            i.strokes = _moved(i.strokes, dx, end - h - y0)
            i.extra = _moved(i.extra, dx, end - h - y0)
            placed.append(i)
        placed_rows.append(row)
        y = end + rng.uniform(*ROW_GAP) * unit
    return placed, y


def _ink_layers(shape, items: list[Item], pen: Pen, rng, unit: float, faint_problem: int | None):
    strokes = [p for i in items if i.problem != faint_problem for p in i.strokes + i.extra]
    cover, dep = render_ink(shape, strokes, pen, rng, unit)
    if faint_problem is not None:
        light = [p for i in items if i.problem == faint_problem for p in i.strokes + i.extra]
        c2, d2 = render_ink(shape, light, pen, rng, unit, FAINT_PRESSURE)
        cover, dep = np.maximum(cover, c2), np.maximum(dep, d2)
    return cover, dep


def _write(refl: np.ndarray, items: list[Item], rng, unit: float, info: dict) -> np.ndarray:
    """The student's ink (one pen; a pencil's first problem sometimes written lightly) and a teacher's red marks
    written on the paper ``refl`` (in place); returns where the pen passed (cover, 0-1)."""
    pen = draw_pen(rng)
    faint = 0 if pen.pencil and rng.random() < P_FAINT else None
    cover, dep = _ink_layers(refl.shape[:2], items, pen, rng, unit, faint)
    refl *= 1 - dep[:, :, None] * (1 - pen.colour)
    _red(refl, items, rng, unit)
    info.update(pen=pen.name, pen_width=round(pen.width, 3))
    return cover


def _truth(items: list[Item], to_photo, size) -> tuple[list[dict], list[dict]]:
    """(maths lines in reading order with their question numbers, the other ink) with boxes in photo px."""
    def box(strokes):
        q = cv2.perspectiveTransform(np.concatenate(strokes)[None].astype(np.float64), to_photo)[0]
        b = [q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max()]
        b = [min(max(v, 0.0), size[k % 2]) for k, v in enumerate(b)]
        return [round(float(v), 1) for v in b]

    truth, other = [], []
    order = sorted(items, key=lambda i: (i.row, _ink.bbox(i.strokes)[0]))
    labels = {i.problem: i for i in items if i.kind == "label"}
    for i in order:
        if i.kind == "maths":
            t = {"id": i.id, "latex": i.latex, "box": box(i.strokes)}
            lab = labels.get(i.problem)
            if lab is not None and abs(_ink.bbox(lab.strokes)[3] - _ink.bbox(i.strokes)[3]) < 3 * _size(lab.strokes)[1]:
                if not any(t.get("label") for t in truth if t.get("problem") == i.problem):
                    t.update(label=lab.text, label_box=box(lab.strokes))
            t["problem"] = i.problem
            truth.append(t)
        else:
            o = {"kind": i.kind, "box": box(i.strokes + i.extra)}
            if i.text:
                o["text"] = i.text
            other.append(o)
    for t in truth:
        t.pop("problem")
    return truth, other


def _paper_kind(rng) -> str:
    return str(rng.choice([p for p, _ in PAPERS], p=[w for _, w in PAPERS]))


def make_crop(exprs, bank, seed: int) -> RealPhoto:
    """A photo of one student's answer, cropped round it as a messaging app's crop is: 1-4 lines of worked maths
    (the expressions of ``exprs`` taken in order) with what surrounds them. ``bank``: ``real_ink.glyph_bank``."""
    rng = np.random.default_rng([seed, 78])
    med, sd, lo, hi = CROP_SYMBOL
    u_photo = float(np.clip(med * np.exp(rng.normal(0, sd)), lo, hi))
    unit = u_photo * SHEET_OVERSAMPLE
    pool = _Pool(exprs)
    kind = _paper_kind(rng)
    pitch = unit * rng.uniform(*(GRID_PITCH if kind == "squared" else RULE_PITCH))
    number = int(rng.integers(1, 13)) if rng.random() < P_LABEL else None
    rows = _problem_rows(pool, bank, rng, unit, CROP_MAX_WIDTH * unit, number, 0, 4)
    first_rule = rng.uniform(0, pitch)
    items, _ = _stack(rows, rng, unit, 0.0, 0.0, pitch if kind == "ruled" else None, first_rule)
    if not any(i.kind == "maths" for i in items):
        raise ValueError("no expression fits a crop")
    x0, y0, x1, y1 = _ink.bbox([p for i in items for p in i.strokes + i.extra])
    m = rng.uniform([0.4, 0.4, 0.8, 0.4], [3.0, 3.5, 16.0, 3.5]) * unit
    ox, oy = x0 - m[0], y0 - m[1]
    w, h = int(np.ceil(x1 - ox + m[2])), int(np.ceil(y1 - oy + m[3]))
    framed = CROP_WIDTH[0] * np.exp(rng.normal(0, CROP_WIDTH[1])) * SHEET_OVERSAMPLE
    w = max(w, int(min(framed, w + CROP_MAX_WIDTH * unit)))  # the frame's width: paper beside a short answer
    for i in items:
        i.strokes, i.extra = _moved(i.strokes, -ox, -oy), _moved(i.extra, -ox, -oy)
    info = {"seed": seed, "kind": "crop", "symbol_px": round(u_photo, 1)}
    refl = cam.paper((h, w), rng)
    info.update(cam.rule(refl, kind, rng, pitch, (rng.uniform(0, pitch), first_rule - oy),
                         rng.uniform(0.8, 1.6) * SHEET_OVERSAMPLE))
    if kind == "ruled" and rng.random() < 0.2 and m[0] > 0.8 * unit:
        cam.margin_line(refl, m[0] - 0.5 * unit, 1.5 * SHEET_OVERSAMPLE)
    cover = _write(refl, items, rng, unit, info)
    # the camera: down to the photo's resolution, a small turn and tilt
    pw, ph = max(16, round(w / SHEET_OVERSAMPLE)), max(16, round(h / SHEET_OVERSAMPLE))
    small = cv2.resize(refl, (pw, ph), interpolation=cv2.INTER_AREA)
    cover_small = cv2.resize(cover, (pw, ph), interpolation=cv2.INTER_AREA)
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], np.float32)
    ang = np.radians(rng.normal(0, 1.2))
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = (src - (pw / 2, ph / 2)) @ rot.T + (pw / 2, ph / 2) + rng.normal(0, 0.006 * max(pw, ph), (4, 2))
    warp = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    small = cv2.warpPerspective(small, warp, (pw, ph), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    cover_small = cv2.warpPerspective(cover_small, warp, (pw, ph), flags=cv2.INTER_LINEAR)
    to_photo = warp.astype(np.float64) @ np.diag([1 / SHEET_OVERSAMPLE, 1 / SHEET_OVERSAMPLE, 1.0])
    light = cam.light_field((ph, pw), rng, info, shadow=0.25, depth=CROP_SHADOW)
    grey = cam.expose(small, light, rng, info, float(np.mean(cam.PAPER)))
    photo, data = cam.jpeg(grey, rng, info)
    truth, other = _truth(items, to_photo, (pw, ph))
    return RealPhoto(photo, ((cover_small >= INK_COVER) * 255).astype(np.uint8), truth, other, info, data, items,
                     to_photo)


def _red(refl: np.ndarray, items: list[Item], rng, unit: float) -> None:
    if rng.random() >= P_RED:
        return
    maths = [i for i in items if i.kind == "maths"]
    target = maths[int(rng.integers(len(maths)))]
    _, _, x1, y1 = _ink.bbox(target.strokes)
    strokes = tick(min(x1 + rng.uniform(0.5, 2.0) * unit, refl.shape[1] - 2 * unit), y1, rng, unit)
    dep = red_marks(refl.shape[:2], strokes, rng, unit)
    refl *= 1 - dep[:, :, None] * (1 - np.array(RED_PEN, np.float32))


def make_page(exprs, bank, seed: int) -> RealPhoto:
    """A phone photo of a whole A4 page of worked problems (question numbers, instructions, 1-4 lines each) on a
    desk: 719x1280, 1152x2048 or 3024x4032 px, the sheet under perspective, sometimes a printed header row of boxes
    or a spiral's holes down the margin."""
    rng = np.random.default_rng([seed, 781])
    sizes = [s for s, _ in PAGE_SIZES]
    pw, ph = sizes[int(rng.choice(len(sizes), p=[p for _, p in PAGE_SIZES]))]
    fill = rng.uniform(0.78, 0.97)
    sheet_w = int(min(PAGE_MAX_SHEET, 1.3 * fill * ph / 1.414))
    sheet_h = int(round(sheet_w * 1.414))
    mm = sheet_w / 210.0
    unit = PAGE_SYMBOL_MM[0] * float(np.exp(rng.normal(0, PAGE_SYMBOL_MM[1]))) * mm
    kind = _paper_kind(rng)
    pitch = (8.0 if kind == "ruled" else 5.0) * mm * rng.uniform(0.9, 1.1)
    first_rule = rng.uniform(25, 35) * mm
    left, right = rng.uniform(12, 28) * mm, rng.uniform(8, 15) * mm
    info = {"seed": seed, "kind": "page", "size": [pw, ph], "symbol_px": round(unit * fill * ph / sheet_h, 1)}
    refl = cam.paper((sheet_h, sheet_w), rng)
    info.update(cam.rule(refl, kind, rng, pitch, (rng.uniform(0, pitch), first_rule), rng.uniform(0.15, 0.3) * mm))
    top = first_rule - pitch
    if kind == "ruled" and rng.random() < 0.5:
        cam.margin_line(refl, left - 3 * mm, 0.3 * mm)
    if rng.random() < 0.35:
        _, _, _, y1 = cam.header_boxes(refl, rng, 10 * mm, rng.uniform(9, 14) * mm, left, sheet_w - right, 0.25 * mm)
        top = max(top, y1 + 4 * mm)
        info["header"] = True
    if rng.random() < 0.2:
        cam.spiral_holes(refl, rng, 6 * mm, rng.uniform(8, 10) * mm, 2.2 * mm)
        info["spiral"] = True
    pool = _Pool(exprs)
    rows, gaps, n = [], {}, int(rng.integers(1, 20))
    for p in range(8):
        prob = _problem_rows(pool, bank, rng, unit, sheet_w - left - right - 2 * unit, n + p, p, 4)
        if not prob:
            break
        gaps[len(rows)] = rng.uniform(1.0, 3.0) * unit if rows else 0.0
        rows += prob
    items, _ = _stack(rows, rng, unit, top, left, pitch if kind == "ruled" else None, first_rule,
                      bottom=sheet_h - 15 * mm, gap_before=gaps)
    if not any(i.kind == "maths" for i in items):
        raise ValueError("no expression fits a page")
    cover = _write(refl, items, rng, unit, info)
    to_photo = _sheet_in_frame((sheet_w, sheet_h), (pw, ph), fill, rng)
    back, info["table"] = cam.table((ph, pw), rng)
    inside = cv2.warpPerspective(np.ones((sheet_h, sheet_w), np.float32), to_photo, (pw, ph), flags=cv2.INTER_LINEAR)
    warped = cv2.warpPerspective(refl, to_photo, (pw, ph), flags=cv2.INTER_LINEAR)
    photo_refl = back * (1 - inside[:, :, None]) + warped * inside[:, :, None]
    cover_photo = cv2.warpPerspective(cover, to_photo, (pw, ph), flags=cv2.INTER_LINEAR)
    light = cam.light_field((ph, pw), rng, info, shadow=0.5)
    grey = cam.expose(photo_refl, light, rng, info, float(np.mean(cam.PAPER)))
    photo, data = cam.jpeg(grey, rng, info)
    truth, other = _truth(items, to_photo, (pw, ph))
    return RealPhoto(photo, ((cover_photo >= INK_COVER) * 255).astype(np.uint8), truth, other, info, data)


def _sheet_in_frame(sheet: tuple[int, int], frame: tuple[int, int], fill: float, rng) -> np.ndarray:
    """Homography from the sheet's pixels into the photo: the sheet fills ``fill`` of the frame's height, turned a
    little, each corner moved by the perspective, sometimes running off one side of the frame."""
    (sw, sh), (pw, ph) = sheet, frame
    scale = min(fill * ph / sh, 0.98 * pw / sw)
    ang = np.radians(rng.normal(0, 3))
    corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float64) - (sw / 2, sh / 2)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = (corners * scale) @ rot.T + (pw / 2, ph / 2) + rng.uniform(-0.03, 0.03, 2) * (pw, ph)
    dst += rng.uniform(-0.03, 0.03, (4, 2)) * (pw, ph)
    if rng.random() < 0.2:  # the sheet runs out of the frame on one side
        dst[:, int(rng.integers(2))] += rng.choice([-1, 1]) * 0.06 * (pw, ph)[int(rng.integers(2))]
    src = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32)
    return cv2.getPerspectiveTransform(src, dst.astype(np.float32)).astype(np.float64)


def make_photos(exprs, bank, n: int, seed: int = 0, kind: str = "crop"):
    """Up to ``n`` photos (``kind``: "crop" or "page"), photo i from seed ``seed * 100003 + i``; each expression is
    used at most once over all of them (the list's order, shuffled once by ``seed``)."""
    rng = np.random.default_rng(seed)
    pool = [e for e in exprs if usable(e)]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    make = make_crop if kind == "crop" else make_page
    for i in range(n):
        if not pool:
            return
        window = pool[:80]
        try:
            photo = make(window, bank, seed * 100003 + i)
        except ValueError:
            pool = pool[80:]
            continue
        used = {t["id"] for t in photo.truth} | {o.get("id") for o in photo.other}
        pool = [e for e in pool if e.id not in used]
        yield photo
