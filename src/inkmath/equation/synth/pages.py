"""Generated worksheet photos with their truth: CROHME ink laid out as a person writes a page, photographed by a phone.

    pages = make_pages(expressions, n=40, seed=0)   # expressions: InkmlExpression with a LaTeX truth
    for page in pages: page.photo (RGB uint8), page.truth -> [{"latex", "box", "id"}, ...] in reading order

A page: plain, ruled (with a red margin line half the time) or squared paper; one or two columns; each expression's
ink drawn at a handwriting size (a typical symbol of ``SYMBOL_HEIGHT`` px on a ``SHEET_WIDTH`` px wide sheet, with a
per-page spread), in black, blue or pencil, sitting on the ruled lines when there are some, with one or more symbol
heights of paper between expressions. The photo: the sheet on a table under a random perspective and a small turn,
uneven light, a soft shadow band half the time, blur, sensor noise, JPEG. The truth box of an expression is the
box of its ink's points mapped into the photo; the reading order is column by column, top to bottom.

Only expressions whose ink fits a column are used. Every page is made from its own seeded generator, so one page
can be rebuilt alone (``make_page(expressions, seed)``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import cv2
import numpy as np

from inkmath import ink as _ink
from inkmath import sizes
from inkmath.data.crohme import normalize_label

SHEET_WIDTH = 1400  # px; an A4 sheet (1 : 1.414)
SYMBOL_HEIGHT = 34.0  # px: mean truth-symbol height, about 5 mm of handwriting on A4 at this width
SYMBOL_SPREAD = 0.15  # log-std of the symbol height between pages
RULE_PITCH = 54  # px between ruled lines (8 mm)
GRID_PITCH = 34  # px between squared lines (5 mm)
PHOTO_SIZE = (1512, 2016)  # (width, height) of the generated photos (3 megapixels, a phone's 4:3)
INKS = {"black": ((25, 25, 30), 0.45), "blue": ((20, 45, 150), 0.35), "pencil": ((85, 85, 90), 0.2)}


LABEL_CHARS = {"number": "0123456789", "letter": "abcdef"}  # question numbers "1)" "2." or "a)" "b." (``make_page``)
LABEL_MARKS = (")", ".")
LABEL_OPEN = "("  # ... or in brackets, "(a)" "(3)", on this share of the pages with ")" ...
LABEL_BRACKETS = 0.3
LABEL_GAP = (0.8, 2.0)  # symbol heights between a question number and its expression (one per page, uniform)
LABEL_FROM_ONE = 0.6  # ... numbered from 1 on this share of the numbered pages, else from 2-12 ("10)" "11.")
PEN = (0.06, 0.1)  # the pen's width in symbol heights, drawn per page (uniform)
LINE_GAP = (1.0, 2.6)  # symbol heights of paper between an expression and the next one under it (uniform)


def symbol_bank(exprs, chars=None) -> dict[str, list[list[np.ndarray]]]:
    """{label: [strokes of one written symbol, in units of its writer's mean symbol height, top-left at 0]} cut from
    the truth symbols of ``exprs``: for the characters question numbers are written with, or those in ``chars``
    (CROHME class names), or every known class with ``chars="all"``. Labels are the CROHME class names
    (``data.crohme.normalize_label``: "<" is "\\lt", "COMMA" is ",")."""
    default = set("".join(LABEL_CHARS.values())) | set(LABEL_MARKS) | {LABEL_OPEN}
    want = default if chars is None else chars if chars == "all" else set(chars)
    bank: dict[str, list[list[np.ndarray]]] = {}
    for e in exprs:
        names = [normalize_label(g.label) for g in e.groups]
        if not any(n is not None and (want == "all" or n in want) for n in names):
            continue
        unit = mean_symbol_height(e)
        for g, name in zip(e.groups, names):
            if name is None or (want != "all" and name not in want):
                continue
            pts = [np.asarray(e.strokes[i], float)[:, :2] for i in g.stroke_ids if i < len(e.strokes)
                   and len(e.strokes[i])]
            if not pts:
                continue
            x0, y0, _, _ = _ink.bbox(pts)
            bank.setdefault(name, []).append([(p - (x0, y0)) / unit for p in pts])
    return bank


@dataclass
class Page:
    photo: np.ndarray  # RGB uint8, JPEG-compressed once
    truth: list[dict]  # reading order: {"id", "latex", "box": [x0, y0, x1, y1] in photo pixels}
    info: dict = field(default_factory=dict)  # paper, ink, columns, symbol height, seed
    ink: np.ndarray | None = None  # uint8 (H, W), 255 where the pen passed (``make_page(..., ink_mask=True)``)

    def jpeg(self, quality: int | None = None) -> bytes:
        from PIL import Image

        buf = io.BytesIO()
        Image.fromarray(self.photo).save(buf, "JPEG", quality=quality or self.info.get("jpeg", 85))
        return buf.getvalue()


def mean_symbol_height(expr) -> float:
    """Mean height of the truth symbols in ink units (``sizes.mean_symbol_height``), else the whole ink's typical
    stroke size, else 1."""
    return sizes.mean_symbol_height(expr) or _ink.symbol_size([np.asarray(s, float)[:, :2] for s in expr.strokes
                                                                if len(s)]) or 1.0


def usable(expr) -> bool:
    return bool(expr.latex_truth) and any(len(s) for s in expr.strokes)


def _paper(rng: np.random.Generator, kind: str, w: int, h: int) -> tuple[np.ndarray, int]:
    """RGB float paper with its lines; returns (image, y of the first ruled line or 0)."""
    tint = np.array([248, 247, 240], np.float32) + rng.uniform(-6, 4, 3)
    img = np.empty((h, w, 3), np.float32)
    img[:] = tint
    first = 0
    if kind == "ruled":
        colour = np.array(rng.choice([(150, 175, 215), (160, 160, 170), (140, 190, 220)]), np.float32)
        first = int(rng.integers(110, 170))
        for y in range(first, h - 40, RULE_PITCH):
            cv2.line(img, (0, y), (w - 1, y), colour.tolist(), int(rng.choice([1, 2])), cv2.LINE_AA)
        if rng.random() < 0.5:
            x = int(0.11 * w)
            cv2.line(img, (x, 0), (x, h - 1), (225, 90, 90), 2, cv2.LINE_AA)
    elif kind == "squared":
        colour = np.array(rng.choice([(160, 180, 210), (175, 175, 180)]), np.float32)
        off = int(rng.integers(5, GRID_PITCH))
        for y in range(off, h, GRID_PITCH):
            cv2.line(img, (0, y), (w - 1, y), colour.tolist(), 1, cv2.LINE_AA)
        for x in range(off, w, GRID_PITCH):
            cv2.line(img, (x, 0), (x, h - 1), colour.tolist(), 1, cv2.LINE_AA)
    return img, first


def _layout(exprs, rng, w: int, h: int, paper: str, first_rule: int, unit: float, columns: int, max_count: int,
            label_room: float = 0.0, line_gap: tuple[float, float] = LINE_GAP):
    """Place expressions: [(expr, strokes in sheet px, box)] in reading order; ``label_room`` px are left free
    before each expression (for its question number), ``line_gap`` symbol heights between one and the next."""
    margin_x0 = int(0.14 * w) if paper == "ruled" else int(rng.integers(70, 110))
    margin_x1 = int(rng.integers(60, 100))
    gutter = int(rng.uniform(3.5, 6.0) * unit)
    col_w = (w - margin_x0 - margin_x1 - gutter * (columns - 1)) // columns
    placed = []
    pool = list(range(len(exprs)))[::-1]  # taken in the given order
    skipped: list[int] = []
    pool_used: list[int] = []
    for c in range(columns):
        x_left = margin_x0 + c * (col_w + gutter)
        y = int(rng.integers(90, 160))
        quota = min(max_count, len(placed) + -(-max_count // columns))
        while pool and len(placed) < quota:
            fitted = None
            for _ in range(12):  # a few tries to find an expression that fits the column
                if not pool:
                    break
                k = pool.pop()
                e = exprs[k]
                strokes = [np.asarray(s, float)[:, :2] for s in e.strokes if len(s)]
                s = unit / mean_symbol_height(e) * float(np.exp(rng.normal(0, 0.06)))
                x0, y0, x1, y1 = _ink.bbox(strokes)
                ew, eh = (x1 - x0) * s, (y1 - y0) * s
                if ew + label_room <= col_w and eh <= 6 * unit:
                    fitted = (e, [(p - (x0, y0)) * s for p in strokes], ew, eh)
                    pool_used.append(k)
                    break
            if fitted is None:
                break
            e, pts, ew, eh = fitted
            top = y
            if paper == "ruled":  # the lowest part of the writing sits near a ruled line
                bottom = top + eh
                line = first_rule + int(np.ceil((bottom - first_rule) / RULE_PITCH)) * RULE_PITCH
                top = line - eh - rng.uniform(-0.1, 0.25) * unit
            if top + eh > h - 90:
                skipped.append(pool_used.pop())  # left for another page
                break
            xoff = x_left + label_room + rng.uniform(0, min(1.5 * unit, max(0.0, col_w - ew - label_room)))
            pts = [p + (xoff, top) for p in pts]
            placed.append((e, pts, (xoff, top, xoff + ew, top + eh)))
            y = int(top + eh + rng.uniform(*line_gap) * unit)
    return placed


def _draw_ink(img: np.ndarray, placed, rng, unit: float, ink: str, pen: tuple[float, float] = PEN) -> np.ndarray:
    colour, _ = INKS[ink]
    colour = np.array(colour, np.float32) + rng.uniform(-10, 10, 3)
    h, w = img.shape[:2]
    thick = max(1, int(round(unit * rng.uniform(*pen))))
    mask = np.zeros((h, w), np.uint8)
    ss = [p for _, pts, _ in placed for p in pts]
    _ink._draw(mask, [np.rint(p * 16).astype(np.int32) for p in ss], thick)
    alpha = mask.astype(np.float32) / 255.0
    if ink == "pencil":
        alpha *= rng.uniform(0.55, 0.75) * np.clip(rng.normal(1.0, 0.2, alpha.shape), 0.4, 1.3).astype(np.float32)
    else:
        alpha *= rng.uniform(0.85, 1.0)
    img *= 1 - alpha[:, :, None]
    img += alpha[:, :, None] * colour
    return mask


def _photo(sheet: np.ndarray, rng, info: dict) -> tuple[np.ndarray, np.ndarray]:
    """(photo RGB uint8 before JPEG, homography sheet -> photo)."""
    pw, ph = PHOTO_SIZE
    sh, sw = sheet.shape[:2]
    fill = rng.uniform(0.72, 0.92)
    scale = fill * ph / sh
    if sw * scale > 0.95 * pw:
        scale = 0.95 * pw / sw
    cx, cy = pw / 2 + rng.uniform(-0.03, 0.03) * pw, ph / 2 + rng.uniform(-0.03, 0.03) * ph
    ang = np.radians(rng.uniform(-6, 6))
    corners = np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32) - (sw / 2, sh / 2)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    dst = (corners * scale) @ rot.T + (cx, cy)
    dst += rng.uniform(-0.035, 0.035, dst.shape) * (pw, ph)  # perspective: each corner moves a little
    dst += np.clip(dst.min(axis=0), None, 8) * -1 + 8  # the whole sheet stays in the frame
    dst -= np.clip(dst.max(axis=0) - (pw - 8, ph - 8), 0, None)
    m = cv2.getPerspectiveTransform(np.array([[0, 0], [sw, 0], [sw, sh], [0, sh]], np.float32), dst.astype(np.float32))
    table = np.array(rng.choice([(95, 70, 50), (60, 60, 65), (120, 100, 80), (40, 45, 50), (150, 140, 125)]), np.float32)
    tex = cv2.GaussianBlur(rng.normal(0, 12, (ph // 8, pw // 8)).astype(np.float32), (0, 0), 2)
    tex = cv2.resize(tex, (pw, ph))
    photo = np.clip(table + tex[:, :, None], 0, 255).astype(np.float32)
    warped = cv2.warpPerspective(sheet, m, (pw, ph), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    inside = cv2.warpPerspective(np.ones((sh, sw), np.float32), m, (pw, ph), flags=cv2.INTER_LINEAR)
    photo = photo * (1 - inside[:, :, None]) + warped * inside[:, :, None]
    # light: a gradient across the frame, a vignette, and half the time a soft shadow band
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    gx, gy = rng.uniform(-0.25, 0.25, 2)
    light = rng.uniform(0.8, 1.02) * (1 + gx * (xx / pw - 0.5) + gy * (yy / ph - 0.5))
    light *= 1 - 0.25 * (((xx - pw / 2) / pw) ** 2 + ((yy - ph / 2) / ph) ** 2)
    if rng.random() < 0.5:
        a = rng.uniform(0, np.pi)
        d = (xx - pw / 2) * np.cos(a) + (yy - ph / 2) * np.sin(a) - rng.uniform(-0.3, 0.3) * ph
        width = rng.uniform(0.08, 0.3) * ph
        soft = rng.uniform(10, 60)
        band = 1 / (1 + np.exp(-(d + width / 2) / soft)) * (1 / (1 + np.exp((d - width / 2) / soft)))
        depth = rng.uniform(0.25, 0.45)
        light *= 1 - depth * band
        info["shadow"] = round(float(depth), 2)
    photo *= light[:, :, None]
    sigma = rng.uniform(0.0, 1.2)
    if sigma > 0.3:
        photo = cv2.GaussianBlur(photo, (0, 0), sigma)
    photo += rng.normal(0, rng.uniform(2, 6), photo.shape).astype(np.float32)
    info["blur"] = round(float(sigma), 2)
    info["corners"] = np.round(dst, 1).tolist()
    return np.clip(photo, 0, 255).astype(np.uint8), m


def _question_numbers(placed, bank, rng, unit: float, gap: float) -> list[tuple[int, str, list[np.ndarray]]]:
    """(index in ``placed``, text, strokes in sheet px) of a question number written ``gap`` px before each placed
    expression, its characters' middle at the expression's middle: "1)" "2)" ..., "a." "b." ..., "(a)" "(b)" ...,
    a numbering that goes on from an earlier page ("10)" "11)"); one style per page."""
    style = str(rng.choice(sorted(LABEL_CHARS)))
    mark = str(rng.choice([m for m in LABEL_MARKS if bank.get(m)]))
    opens = mark == ")" and bool(bank.get(LABEL_OPEN)) and rng.random() < LABEL_BRACKETS
    first = 1 if style == "letter" or rng.random() < LABEL_FROM_ONE else int(rng.integers(2, 13))
    letters = LABEL_CHARS["letter"]
    out = []
    for k, (_, _, box) in enumerate(placed):
        text = str(first + k) if style == "number" else letters[k % len(letters)]
        if not all(bank.get(c) for c in text):
            continue
        size = unit * float(np.exp(rng.normal(0, 0.08)))
        chars = [[p * size for p in bank[c][int(rng.integers(len(bank[c])))]] for c in text]
        bottom = _ink.bbox(chars[0])[3]  # the characters stand on the first one's baseline
        top = min(_ink.bbox(c)[1] + bottom - _ink.bbox(c)[3] for c in chars)
        glyphs = [(LABEL_OPEN, [p * size for p in bank[LABEL_OPEN][int(rng.integers(len(bank[LABEL_OPEN])))]])] \
            if opens else []
        glyphs += list(zip(text, chars))
        glyphs.append((mark, [p * size for p in bank[mark][int(rng.integers(len(bank[mark])))]]))
        pts, x = [], 0.0
        for g, strokes in glyphs:
            gx0, gy0, gx1, gy1 = _ink.bbox(strokes)
            if g in (LABEL_OPEN, ")"):  # as tall as the characters or a little more, around them
                dy = (top + bottom) / 2 - (gy0 + gy1) / 2
            else:  # a character or "." on the baseline
                dy = bottom - gy1
            dx = x - gx0 + (rng.uniform(0.1, 0.3) * unit if pts else 0.0)
            pts += [p + (dx, dy) for p in strokes]
            x = gx1 + dx
        x0, y0, x1, y1 = _ink.bbox(pts)
        dx = box[0] - gap * float(np.exp(rng.normal(0, 0.1))) - x1
        dy = (box[1] + box[3]) / 2 - (y0 + y1) / 2
        label = (LABEL_OPEN if opens else "") + text + mark
        out.append((k, label, [p + (dx, dy) for p in pts]))
    return out


def make_page(exprs, seed: int, *, max_count: int | None = None, paper: str | None = None,
              ink: str | None = None, columns: int | None = None, shuffle: bool = True,
              labels: dict | None = None, line_gap: tuple[float, float] = LINE_GAP,
              pen: tuple[float, float] = PEN, writing: float = SYMBOL_HEIGHT, ink_mask: bool = False) -> Page:
    """One generated page photo from ``exprs`` (each used at most once on the page), fully determined by ``seed``
    (and the list). ``shuffle=False`` takes the expressions in the given order, skipping those too wide.
    ``labels`` (a ``symbol_bank``): each expression gets a question number before it ("1)", "a."), written with
    that ink, returned as its truth's ``label``; its own random stream, so without it a seed makes the same page.
    ``line_gap``: the range of the paper left between an expression and the next (symbol heights; the recipes'
    crowded pages write them closer than ``LINE_GAP``). ``pen``: the range of the pen's width (symbol heights; another
    pen than ``PEN``'s for checking, the same random draws otherwise). ``writing``: the mean symbol height in px
    (smaller or larger writing than ``SYMBOL_HEIGHT``'s, the same random draws otherwise). ``ink_mask``: also
    return where the pen passed, in the photo's pixels (``Page.ink``; the same photo either way)."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    exprs = [e for e in exprs if usable(e)]
    if shuffle:
        exprs = [exprs[i] for i in rng.permutation(len(exprs))]
    paper = paper or str(rng.choice(["plain", "ruled", "squared"]))
    ink = ink or str(rng.choice(list(INKS), p=[p for _, p in INKS.values()]))
    columns = columns or int(rng.choice([1, 2], p=[0.55, 0.45]))
    max_count = max_count or int(rng.integers(4, 11))
    w, h = SHEET_WIDTH, int(round(SHEET_WIDTH * 1.414))
    unit = writing * float(np.exp(rng.normal(0, SYMBOL_SPREAD)))
    sheet, first = _paper(rng, paper, w, h)
    lrng = np.random.default_rng([seed, 1])  # the question numbers' own stream
    gap = lrng.uniform(*LABEL_GAP) * unit  # between a question number and its expression (one writer: one habit)
    room = (3.0 * unit + gap) if labels else 0.0  # "(12)"
    placed = _layout(exprs, rng, w, h, paper, first, unit, columns, max_count, room, line_gap)
    numbers = _question_numbers(placed, labels, lrng, unit, gap) if labels else []
    drawn = _draw_ink(sheet, placed + [(None, pts, None) for _, _, pts in numbers], rng, unit, ink, pen)
    info = {"seed": seed, "paper": paper, "ink": ink, "columns": columns, "symbol_height": round(unit, 1)}
    if labels:
        info["label_gap"] = round(gap / unit, 2)
    if tuple(line_gap) != LINE_GAP:
        info["line_gap"] = list(line_gap)
    if tuple(pen) != PEN:
        info["pen"] = list(pen)
    if writing != SYMBOL_HEIGHT:
        info["writing"] = writing
    photo, m = _photo(sheet, rng, info)
    quality = int(rng.integers(60, 92))
    info["jpeg"] = quality
    buf = io.BytesIO()
    Image.fromarray(photo).save(buf, "JPEG", quality=quality)
    photo = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))
    def photo_box(pts):
        q = cv2.perspectiveTransform(np.concatenate(pts)[None].astype(np.float64), m.astype(np.float64))[0]
        return [round(float(v), 1) for v in (q[:, 0].min(), q[:, 1].min(), q[:, 0].max(), q[:, 1].max())]

    truth = []
    for k, (e, pts, _) in enumerate(placed):
        truth.append({"id": e.id, "latex": e.latex_truth, "box": photo_box(pts)})
    for k, text, pts in numbers:
        truth[k].update(label=text, label_box=photo_box(pts))
    mask = None
    if ink_mask:
        mask = cv2.warpPerspective(drawn, m, (photo.shape[1], photo.shape[0]), flags=cv2.INTER_LINEAR)
        mask = ((mask >= 102) * 255).astype(np.uint8)  # the pen covers at least 0.4 of the pixel
    return Page(photo, truth, info, mask)


def make_pages(exprs, n: int | None = None, seed: int = 0, **kw):
    """Up to ``n`` pages (all the ink when None), page i from seed ``seed * 100003 + i``. The expressions are
    shuffled once and each is written on one page at most (those wider than every column are never used)."""
    rng = np.random.default_rng(seed)
    pool = [e for e in exprs if usable(e)]
    pool = [pool[i] for i in rng.permutation(len(pool))]
    i = 0
    while pool and (n is None or i < n):
        page = make_page(pool[:40], seed * 100003 + i, shuffle=False, **kw)
        if not page.truth:
            break
        used = {t["id"] for t in page.truth}
        pool = [e for e in pool if e.id not in used]
        yield page
        i += 1
