"""Read a photographed worksheet page: find every expression, read each, answer each.

    exprs = recognize_page("page.jpg")                  # path, bytes or an RGB/grey array
    exprs[0].latex, exprs[0].box, exprs[0].answer["text"], exprs[0].label   # label: a question number "1)" or None
    reading = read_page("page.jpg", debug_dir="dbg/")   # PageReading: width, height, expressions, the clean page

page photo -> ``page_clean.clean_page`` (sheet, flattened, lines removed: an ink image) -> ``page_find`` (one group
of ink per written expression, reading order) -> each group's ink alone -> ``recognize.recognize_image`` (the one
expression reader) -> boxes mapped back to the photo's pixels (the photo as shown, EXIF orientation applied). The
groups are then cut and joined by what their readings say (``page_regroup``): a group holding two expressions is cut
in two, and pieces of one expression left apart are joined.

Question numbers: once every line is read, each line's first one to four symbols are scored as its question number
("1)", "a.") by the ``page-label`` model, with what the page's other lines show (``page_label``); the one kept is
returned as ``label`` (text) and the rest is read again without it.
"""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.photo import find as page_find
from inkmath.equation.photo import orient as page_orient
from inkmath.equation.photo.clean import CleanPage, clean_page, load_photo, map_box, turn
from inkmath.equation.photo.find import FoundExpressions, InkGroup, find_expressions, group_image
from inkmath.equation.photo.ink_net import load_ink_extractor
from inkmath.equation.page.other import page_kinds
from inkmath.equation.page.regroup import Regrouping, not_writing, regroup
from inkmath.equation.photo import views
from inkmath.equation.photo.views import (PageCrop, clean_at_writing_size, group_crop, ink_pieces, measure_narrowing,
                                          ridge_width)
from inkmath.equation.core.tree import Box

# Question numbers: the ``page-label`` model (page_label.py). Each group's crop (``photo.views.group_crop``) is read
# again from its darkness smoothed (sigma READ_SMOOTH crop px), the surer reading kept (docs/decisions/page-reading.md)
READ_SMOOTH = 1.0
# ... only when the first reading's calibrated confidence is under READ_SMOOTH_BELOW (a sure first reading is kept:
# the second reading rarely wins then; chosen on validation pages, docs/decisions/page-reading.md)
READ_SMOOTH_BELOW = 0.5
# ... and a group still under READ_COARSE_BELOW is read a third time, sharp, at READ_COARSE_UPSCALE, the surer reading
# kept: +5 -0 on seeds 15 + 16, +5 -1 on seed 17 (docs/decisions/page-reading.md)
READ_COARSE_BELOW = 0.5
READ_COARSE_UPSCALE = 1
# a fine pen's page is cleaned again with this stroke floor in place of ``page_clean.INK_HIGH_MIN``, unless its ink
# then breaks into over FAINTER_PIECES times the components (a pencil's grain) (docs/decisions/page-reading.md)
FINE_INK_FLOOR = 45.0
FAINTER_PIECES = 1.2
# the page's ink: the learned extractor (a shipped name) or None, the clean-up's thresholds. The extractor: 60
# real-looking validation crops 32 of 217 lines exact against 29, 41 % of the sure expressions right against 38 %; 20
# generated validation pages 90 of 148 against 95 (seed 0), 84 of 136 either way (seed 18); retrained with 360
# worksheets it finds all of both page sets in order (docs/decisions/page-clean-up.md)
PAGE_INK = "ink-extractor"
# the engine a page's classifiers run on (None: the caller's); ONNX Runtime's 8-bit crohme-m on one thread takes
# about 0.7x the CPU of PyTorch's float (docs/decisions/page-reading.md)
PAGE_ENGINE: str | None = "onnx"


@dataclass
class PageExpression:
    latex: str
    mathml: str
    box: list[float]  # x0, y0, x1, y1 in the photo's pixels (as shown)
    answer: dict
    symbols: list[dict]  # as in ``recognize.to_dict``, each box in the photo's pixels
    label: str | None = None  # a question number written before the expression ("1)", "a."), as text
    label_box: list[float] | None = None
    confidence: float | None = None  # the reader's calibrated probability that ``latex`` is right
    # up to 5 {"latex", "confidence", "same_symbols", "symbols"}, best first (as in ``recognize.to_dict``, each box in
    # the photo's pixels)
    alternatives: list[dict] = field(default_factory=list)
    order: int = 0
    tree: Any = field(default=None, repr=False, compare=False)  # the reading's tree (``recognize.Recognition.tree``)
    # a reading whose question number is not chosen yet: its candidates and how to read its rest again
    pending: Any = field(default=None, repr=False, compare=False)
    crop: PageCrop | None = field(default=None, repr=False, compare=False)  # what it was read from
    # what ``confidence`` was calibrated from (``calibrate.page_confidence``): the reader's confidence and the photo's
    confidence_features: dict | None = field(default=None, repr=False, compare=False)

    def crop_dict(self) -> dict | None:
        """``crop`` for JSON: {"png": base64 PNG of the image, "to_photo": 3x3, "photo_size": [w, h]}; None when
        there is none."""
        if self.crop is None:
            return None
        import base64

        import cv2

        ok, png = cv2.imencode(".png", self.crop.image)
        if not ok:
            return None
        return {"png": base64.b64encode(png.tobytes()).decode("ascii"),
                "to_photo": [[float(v) for v in row] for row in self.crop.to_photo],
                "photo_size": [int(v) for v in self.crop.photo_size]}

    def to_dict(self) -> dict:
        d = {"latex": self.latex, "mathml": self.mathml, "box": self.box, "answer": self.answer,
             "symbols": self.symbols, "confidence": self.confidence, "alternatives": self.alternatives,
             "label": self.label}
        if self.label_box is not None:
            d["label_box"] = self.label_box
        return d


@dataclass
class PageOther:
    """Ink on the page that is not maths (``page.other``): a line of words, a question number standing alone, ink
    crossed out."""

    kind: str  # "text", "label" or "crossed_out"
    box: list[float]  # x0, y0, x1, y1 in the photo's pixels (as shown)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "box": self.box}


@dataclass
class PageReading:
    width: int
    height: int
    expressions: list[PageExpression]
    page: CleanPage | None = None
    found: FoundExpressions | None = None
    notes: list[str] = field(default_factory=list)
    other: list[PageOther] = field(default_factory=list)  # what is not maths, in reading order

    def to_dict(self, file: str | None = None) -> dict:
        d: dict[str, Any] = {"width": self.width, "height": self.height,
                             "expressions": [e.to_dict() for e in self.expressions],
                             "other": [o.to_dict() for o in self.other]}
        if file is not None:
            d = {"file": file, **d}
        return d


def recognize_page(image, predictor=None, *, solve: bool = True, weights: str | None = None) -> list[PageExpression]:
    """The expressions on a page photo (path, bytes or array), in reading order. A blank page gives []."""
    return read_page(image, predictor, solve=solve, weights=weights).expressions


def page_labels(read: list, lines: list):
    """The page's ``PageLabels`` over the first reading's lines (``read``: [(group, expression)]; ``lines``: each
    line's question-number candidates), by the ``page-label`` model."""
    from inkmath.equation.page.label import PageLabels, load_page_label_model

    return PageLabels(load_page_label_model(), lines)


def read_page(image, predictor=None, *, solve: bool = True, weights: str | None = None,
              debug_dir: str | Path | None = None, upright: bool = True, max_pixels: int | None = None,
              name: str | None = None, labels: Callable[[list, list], Any] = page_labels,
              regrouping: Regrouping = Regrouping(), ink_model=PAGE_INK,
              kinds: Callable[[list, FoundExpressions, CleanPage], list[str]] = page_kinds) -> PageReading:
    """``recognize_page`` with the clean page, the groups and notes; ``debug_dir`` gets the intermediate images.
    ``max_pixels`` bounds the photo's size (checked before decoding); ``name`` names it in error messages.
    ``labels``: (the first reading: [(group, expression)], each line's question-number candidates) -> the page's
    ``page_label.PageLabels``, which choose each line's question number (``page_labels``: by the ``page-label``
    model); ``regrouping``: what is made of the cuts and joins read once every group is read
    (``page_regroup.Regrouping``). The page recipes pass their own, which record their training data
    (``synth.page_traces``). ``ink_model``: the learned ink extractor that finds the ink (a model, or a shipped name
    or weights file), or None for the clean-up's thresholds (``photo.clean.ink_mask``); default ``PAGE_INK``.
    ``kinds``: (the groups read, cut and joined: [(group, expression)], the found
    groups, the clean page) -> each one's kind ("maths", "text", "label", "crossed_out"; ``page.other.page_kinds``:
    by the ``page-other`` model); what is not maths goes to ``PageReading.other``, crossed-out ink the grouping
    dropped too."""
    from inkmath.equation.image.segmentation import in_place_of_default
    from inkmath.equation.recognize import DEFAULT_WEIGHTS, get_predictor

    if isinstance(ink_model, (str, Path)):
        ink_model = load_ink_extractor(ink_model)
    photo, shown = load_photo(image, max_pixels=max_pixels, name=name)
    predictor = predictor or get_predictor(weights)
    page, shrink = clean_at_writing_size(photo, shown, ink_model=ink_model)
    notes = list(page.notes)
    if upright:
        page = page_orient.upright(page, in_place_of_default(predictor, DEFAULT_WEIGHTS, PAGE_ENGINE))
    predictor = page_predictor(predictor)
    found = find_expressions(page.ink)
    width = measure_narrowing(page, found)
    if not found.narrow and FINE_INK_FLOOR:  # a fine pen: its faint strokes looked for from a lower floor
        fainter = turn(clean_page(photo, shown, shrink=shrink, floor=FINE_INK_FLOOR), page.rotation // 90)
        if ink_pieces(fainter.ink) <= FAINTER_PIECES * ink_pieces(page.ink):
            page, found = fainter, find_expressions(fainter.ink)
            found.narrow, found.core_width = False, width
    with _Answers(solve) as answers:  # each reading is solved beside the reading of the next groups
        # question numbers are chosen once every line is read: what the other lines show counts
        read = [(g, _read_group(page, found, g, predictor, pending=True)) for g in found.groups]
        chosen = labels(read, [e.pending.candidates if e is not None else [] for _, e in read])
        read = [(g, answers.start(_apply_label(predictor, e, chosen, i))) for i, (g, e) in enumerate(read)]
        token = _PAGE_LABELS.set(chosen)
        try:
            read = regroup(found, read, lambda g: _read_group(page, found, g, predictor), regrouping)
        finally:
            _PAGE_LABELS.reset(token)
        kept = [(g, e) for g, e in read if not not_writing(g, e, found.unit)]
        marks, other = len(read) - len(kept), []
        read = []
        for (g, e), kind in zip(kept, kinds(kept, found, page)):
            if kind == "maths":
                read.append((g, e))
            else:
                other += other_ink(page, g, e, kind)
        found.groups = [g for g, _ in read]
        exprs = []
        for k, (g, e) in enumerate(read):
            g.order = k
            if e is not None:
                e.order = len(exprs)
                exprs.append(e)
        answers.fill(exprs)
    calibrate_on_page(exprs, page)
    if found.dropped.get("scribbles"):
        notes.append(f"{len(found.dropped['scribbles'])} crossed-out part(s) ignored")
        other += [PageOther("crossed_out", page.box_to_photo(b)) for b in found.dropped["scribbles"]]
    if marks:
        notes.append(f"{marks} mark(s) that are not writing ignored (a lone dot, a piece of a paper line)")
    reading = PageReading(shown[0], shown[1], exprs, page, found, notes + [n for n in page.notes if n not in notes],
                          sorted(other, key=lambda o: (o.box[1], o.box[0])))
    if debug_dir is not None:
        write_debug(reading, Path(debug_dir))
    return reading


def calibrate_on_page(exprs: list[PageExpression], page: CleanPage) -> None:
    """Each expression's ``confidence`` (and its alternatives') made the probability that it is right on this photo
    (``calibrate.page_confidence``: the reader's confidence weighed with the paper's lines, the ink's darkness, the
    reading's symbols and its weakest one), its features kept in ``confidence_features``."""
    from inkmath.equation.reader.calibrate import page_confidence

    ink = page.dark[page.ink > 0] if page.dark is not None else np.zeros(0)
    shared = {"paper_lines": float(np.log1p(page.lines_removed)),
              "ink_darkness": float(np.median(ink)) / 255 if ink.size else 1.0}
    for e in exprs:
        if e.confidence is None:
            continue
        probs = [min(max(float(s.get("prob") or 0.0), 1e-4), 1 - 1e-4) for s in e.symbols]
        worst = min(probs) if probs else 0.5
        feats = {**shared, "symbols": float(np.log1p(len(e.symbols))),
                 "min_symbol_logit": float(np.log(worst / (1 - worst))), "widest_gap": widest_gap(e.symbols)}
        e.confidence_features = {"confidence": float(e.confidence), **feats}
        e.confidence = round(page_confidence(e.confidence_features), 4)
        for a in e.alternatives:
            if a.get("confidence") is not None:
                a["confidence"] = round(page_confidence({**feats, "confidence": float(a["confidence"])}), 4)


GAP_MOST = 10.0  # symbol heights: ``widest_gap``'s ceiling


def widest_gap(symbols: list[dict]) -> float:
    """The widest empty vertical band between a reading's symbols (their boxes), in median symbol heights (at most
    ``GAP_MOST``; 0.0 for fewer than two symbols)."""
    boxes = sorted((s["box"] for s in symbols if s.get("box")), key=lambda b: b[0])
    if len(boxes) < 2:
        return 0.0
    unit = max(1.0, float(np.median([b[3] - b[1] for b in boxes])))
    end, widest = boxes[0][2], 0.0
    for b in boxes[1:]:
        widest = max(widest, b[0] - end)
        end = max(end, b[2])
    return min(GAP_MOST, widest / unit)


def other_ink(page: CleanPage, g: InkGroup, e: PageExpression | None, kind: str) -> list[PageOther]:
    """Group ``g`` (read as ``e``) as ink that is not maths, of ``kind``, its box in the photo's pixels; a line's
    question number split off its reading is listed apart, as a "label"."""
    if e is None:
        return [PageOther(kind, page.box_to_photo((g.box.x0, g.box.y0, g.box.x1, g.box.y1)))]
    out = [PageOther(kind, list(e.box))]
    if e.label_box is not None:
        out.insert(0, PageOther("label", list(e.label_box)))
    return out


class _Answers:
    """Readings solved in threads (``solve.answer``, which hands most of them to its worker processes) while the page
    reads on: ``start`` a reading as soon as it is read, ``fill`` the answers of the readings kept (those not started
    yet are started then). Nothing is solved when ``solve`` is False; leaving the block waits for what is running."""

    def __init__(self, solve: bool):
        self.pool = None
        if solve:
            from concurrent.futures import ThreadPoolExecutor

            from inkmath.equation.solve.pool import SOLVE_WORKERS

            self.pool = ThreadPoolExecutor(SOLVE_WORKERS, thread_name_prefix="page-answer")
        self.started: dict[int, tuple] = {}  # id(expression) -> (the expression, kept alive; its future)

    def __enter__(self) -> "_Answers":
        return self

    def __exit__(self, *exc) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def start(self, e: PageExpression | None) -> PageExpression | None:
        if self.pool is not None and e is not None and id(e) not in self.started:
            from inkmath.equation.solve.answer import answer

            self.started[id(e)] = (e, self.pool.submit(answer, e.tree))
        return e

    def fill(self, exprs: list[PageExpression]) -> None:
        for e in exprs:
            if self.start(e) is not None and self.pool is not None:
                e.answer = self.started[id(e)][1].result()


_PAGE_LABELS: ContextVar = ContextVar("page_labels", default=None)  # the page's PageLabels while read_page joins


@dataclass
class _Pending:
    """A reading whose question number is not chosen yet: its candidates and what reading its rest again needs."""

    candidates: list
    crop: PageCrop


def _apply_label(predictor, e: PageExpression | None, labels, i: int | None) -> PageExpression | None:
    """``e`` with the question number ``labels`` keep for it split off (its rest read again), else ``e`` as read."""
    if e is None:
        return e
    pend, e.pending = e.pending, None
    chosen = labels.choose(i, pend.candidates)
    if chosen is None:
        return e
    rest = pend.crop.image.copy()
    rest[:, :int(chosen.cut_x)] = 0
    crop = PageCrop(rest, pend.crop.to_photo, pend.crop.photo_size)
    try:
        rec = _read_crop(crop.image, predictor)
    except InkmathError:
        return None
    if not rec.symbols:
        return None
    out = _expression(rec, crop, None)
    out.label, out.label_box = chosen.text, crop.box(*chosen.box)
    return out


def _read_crop(image: np.ndarray, predictor, *, corrections: dict[int, str] | None = None, solve: bool = False):
    """The expression reader's reading of a page crop (white on black), with the page's decoder."""
    from inkmath.equation.recognize import recognize_image

    return recognize_image(image, predictor, solve=solve, ink="white", decoder=page_decoder(),
                           corrections=corrections)


@lru_cache(maxsize=1)
def page_decoder():
    """The reader's page decoder (``recognize.default_decoder("page")``) with its language model reading a line that
    may begin with a question number (``page_label.LabelledLineLM``)."""
    from inkmath.equation.page.label import LabelledLineLM
    from inkmath.equation.recognize import default_decoder

    decoder = default_decoder("page")
    return dataclasses.replace(decoder, lm=LabelledLineLM(decoder.lm))


def page_predictor(predictor):
    """The predictor a page's groups are read with: ``predictor``, its classifier on the page's engine when it
    is the reader's default (``PAGE_ENGINE``)."""
    from inkmath.equation.image.segmentation import in_place_of_default
    from inkmath.equation.recognize import DEFAULT_WEIGHTS

    return in_place_of_default(predictor, DEFAULT_WEIGHTS, PAGE_ENGINE)


def read_again(crop: PageCrop, corrections: dict[int, str] | None = None, predictor=None, *,
               solve: bool = True, weights: str | None = None) -> PageExpression:
    """A page expression read again from its crop (``PageExpression.crop``), with ``corrections`` {symbol index:
    label} (indices as in its ``symbols``): the rest is decoded again in their light, as a drawn expression's is.
    Boxes are in the photo's pixels; the question number, if any, was cut off the crop already."""
    from inkmath.equation.recognize import get_predictor

    predictor = page_predictor(predictor or get_predictor(weights))
    rec = _read_crop(crop.image, predictor, corrections=corrections, solve=solve)
    if not rec.symbols:
        raise InkmathError("Nothing readable in this crop; send the crop a page reading returned")
    return _expression(rec, crop, None)


def _read_group(page: CleanPage, found: FoundExpressions, g: InkGroup, predictor,
                pending: bool = False) -> PageExpression | None:
    """The group's expression, unsolved (``read_page`` solves the readings it keeps), or None: nothing readable.
    ``pending``: its question number not chosen yet (``_apply_label`` chooses it); else chosen now, by the page's
    labels while ``read_page`` joins groups, or as a page of this one line."""
    from inkmath.equation.page.label import PageLabels, label_candidates, load_page_label_model

    rec, img, ox, oy, f = None, None, 0, 0, 1.0
    reads = [(views.READ_UPSCALE, 0.0, None)]  # (enlarged, smoothed, read only when the surest reading so far is under)
    if found.narrow and READ_SMOOTH:
        reads.append((views.READ_UPSCALE, READ_SMOOTH, READ_SMOOTH_BELOW))
    if found.narrow and READ_COARSE_UPSCALE != views.READ_UPSCALE:
        reads.append((READ_COARSE_UPSCALE, 0.0, READ_COARSE_BELOW))
    for upscale, smooth, below in reads:
        if below is not None and rec is not None and rec.confidence >= below:
            continue
        crop, (cx, cy), cf = group_crop(page, found, g, smooth, upscale)
        try:
            r = _read_crop(crop, predictor)
        except InkmathError:
            continue  # nothing readable in this crop (an isolated mark)
        if rec is None or r.confidence > rec.confidence:
            rec, img, ox, oy, f = r, crop, cx, cy, cf
    if rec is None:
        return None

    to_page = np.array([[1.0 / f, 0.0, ox], [0.0, 1.0 / f, oy], [0.0, 0.0, 1.0]])  # crop pixels -> the page's
    crop = PageCrop(img, page.to_photo @ to_page, page.photo_size)
    cands = label_candidates(rec, found.unit * f)
    e = _expression(rec, crop, g, page)
    e.pending = _Pending(cands, crop)
    if pending:
        return e
    labels = _PAGE_LABELS.get()
    return _apply_label(predictor, e, labels if labels is not None else PageLabels(load_page_label_model(), []), None)


def _expression(rec, crop: PageCrop, g: InkGroup | None, page: CleanPage | None = None) -> PageExpression:
    """The reading of ``crop`` as a page expression, its boxes mapped to the photo's pixels."""
    from inkmath.equation.recognize import to_dict

    d = to_dict(rec)
    for s in d["symbols"] + [s for a in d["alternatives"] for s in a.get("symbols", ())]:
        s["box"] = crop.box(*s["box"])
    # the union of the symbols' boxes mapped one by one: the page's box mapped whole grows with the photo's turn
    # (a line written uphill on a sheet photographed turned the other way is level in the photo, its sheet box not)
    boxes = [crop.box(h.box.x0, h.box.y0, h.box.x1, h.box.y1) for h in rec.symbols]
    if boxes:
        box = [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]
    else:
        box = page.box_to_photo((g.box.x0, g.box.y0, g.box.x1, g.box.y1))
    return PageExpression(rec.latex, rec.mathml, box, rec.answer, d["symbols"], None, None,
                          d["confidence"], d["alternatives"], tree=rec.tree, crop=crop)


def write_debug(reading: PageReading, out: Path) -> None:
    """The sheet, the flattened page, the ink and the boxes as PNGs in ``out``."""
    import cv2

    out.mkdir(parents=True, exist_ok=True)
    page = reading.page
    if page is None:
        return
    cv2.imwrite(str(out / "1-sheet.png"), cv2.cvtColor(page.sheet, cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(out / "2-flat.png"), page.flat)
    cv2.imwrite(str(out / "3-ink.png"), 255 - page.ink)
    boxes = cv2.cvtColor(255 - page.ink, cv2.COLOR_GRAY2BGR)
    if reading.found is not None:
        for g in reading.found.groups:
            b = g.box
            cv2.rectangle(boxes, (int(b.x0), int(b.y0)), (int(b.x1), int(b.y1)), (0, 140, 255), 2)
            cv2.putText(boxes, str(g.order + 1), (int(b.x0), max(12, int(b.y0) - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.8,
                        (0, 0, 255), 2)
        for s in reading.found.dropped.get("scribbles", []):
            cv2.rectangle(boxes, (int(s[0]), int(s[1])), (int(s[2]), int(s[3])), (128, 128, 128), 1)
    cv2.imwrite(str(out / "4-boxes.png"), boxes)
