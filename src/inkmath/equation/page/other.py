"""What on a page is not maths: lines of words, question numbers standing alone, crossed-out ink.

    kinds = page_kinds(read, found, page)    # read: [(InkGroup, PageExpression | None)] once every group is read
    kinds[i]                                 # "maths", "text", "label" or "crossed_out"

Every group of ink the page's grouping finds is read as an expression (``page.read``). A line of words ("Resolva a
equacao") reads as letters, a question number written apart from its line ("3)") as a short expression, a line
struck through as an unsure jumble; reported as maths they hide the page's real expressions among wrong ones. Once
every group is read, cut and joined, each one is scored by a small perceptron (``page-other``, trained by ``python
-m inkmath.training.recipes.page_other`` on groups read from real-looking photos generated from the CROHME
*training* ink, ``synth.real_photos``) on what its reading and its ink show (``group_features``): how surely it reads,
how many of its symbols read as latin letters and how long their longest run is, its digits, operators and
structure (a fraction, an exponent), its ink's density, holes (the loops a scribble or a line struck through
leaves) and longest stroke, its size against the page's other groups, and whether it starts a line with more
writing to its right. A group is set apart when the model gives maths under ``MATHS_BELOW``, as the likeliest of
the other kinds; ``read_page`` lists it in ``PageReading.other`` with its box, not among the expressions.
"""

from __future__ import annotations

import string

import numpy as np

from inkmath.equation.core.mlp import SoftmaxMLP
from inkmath.equation.core.registry import load_model, register

RECIPE = "inkmath.training.recipes.page_other --config configs/page-other.yaml"
KINDS = ("maths", "text", "label", "crossed_out")  # the model's outputs, in order
# a group is set apart when the model's probability that it is maths is under this. Validation ink
# (benchmarks/page_other_val.py): 80 real-looking crops, text reported as maths 75.8 % -> 54.5 / 53.0 / 51.5 % at
# 0.2 / 0.3 / 0.5, lines read exactly 20.7 % at each; 30 worksheet pages of maths alone (bench_page.py): none set
# apart at 0.2, 2 / 4 at 0.3 / 0.5 (docs/decisions/page-reading.md)
MATHS_BELOW = 0.2
LETTERS = set(string.ascii_letters)
DIGITS = set(string.digits)
OPERATORS = {"+", "-", "=", "\\times", "\\div", "\\pm", "<", ">", "\\leq", "\\geq", "\\neq", "\\lt", "\\gt",
             "\\rightarrow", "/", "\\cdot"}
STRUCTURE = ("\\frac", "^", "_", "\\sqrt", "\\sum", "\\int", "\\lim")
SAME_LINE = 0.5  # two groups share a line when their heights overlap by this share of the smaller one
FEATURES = ("confidence", "symbols", "letters", "letter_run", "letter_run_share", "digits", "operators",
            "structure", "mean_prob", "min_prob", "labelled", "width", "height", "aspect", "density", "pieces",
            "holes", "longest", "line_groups", "first_on_line", "gap_right", "indent", "height_vs_page",
            "width_vs_page")
N_FEATURES = len(FEATURES)


@register("page-other", what="Page other-ink model", recipe=RECIPE)
class PageOtherModel(SoftmaxMLP):
    """p(maths, text, label, crossed_out) of a page's group from ``group_features``."""


def load_page_other_model(path: str | None = None) -> PageOtherModel:
    """The shipped page-other model, or the weights at ``path`` (``registry.load_model``)."""
    return load_model(path, PageOtherModel.KIND)


def _longest_run(flags: list[bool]) -> int:
    best = run = 0
    for f in flags:
        run = run + 1 if f else 0
        best = max(best, run)
    return best


def _holes(found, g) -> int:
    """The loops the group's ink closes (a scribble's, a struck-through line's many; an 8's two)."""
    import cv2

    x0, y0, x1, y1 = (int(round(v)) for v in (g.box.x0, g.box.y0, g.box.x1, g.box.y1))
    lab = found.labels[max(y0, 0):y1 + 1, max(x0, 0):x1 + 1]
    mask = np.isin(lab, g.components).astype(np.uint8)
    if not mask.any():
        return 0
    _, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    return 0 if hierarchy is None else int((hierarchy[0][:, 3] >= 0).sum())


def _line_context(groups: list, k: int, unit: float) -> tuple[int, bool, float]:
    """(groups on group k's line, whether it is the line's first, the gap to the next one on its right in units)."""
    a = groups[k].box
    same = [h.box for j, h in enumerate(groups) if j != k
            and min(a.y1, h.box.y1) - max(a.y0, h.box.y0) >= SAME_LINE * min(a.h, h.box.h)]
    first = not any(b.x1 <= a.x0 + 0.5 * a.w for b in same)
    right = [b.x0 - a.x1 for b in same if b.x0 >= a.x0 + 0.5 * a.w]
    return len(same) + 1, first, (min(right) / unit if right else 10.0)


def group_features(groups: list, k: int, e, found) -> np.ndarray:
    """float32 (N_FEATURES,) of group ``k`` of ``groups`` (the page's groups as read) read as ``e`` (a
    ``PageExpression``; None: nothing readable), on the page ``found`` (``photo.find.FoundExpressions``): see
    ``FEATURES`` and the module's docstring. Sizes are in typical symbols (``found.unit``)."""
    g, u = groups[k], max(found.unit, 1e-6)
    tokens = [s["label"] for s in e.symbols] if e is not None else []
    n = max(len(tokens), 1)
    letters = [t in LETTERS for t in tokens]
    run = _longest_run(letters)
    probs = [float(s.get("prob", 0.0)) for s in e.symbols] if e is not None and e.symbols else [0.0]
    latex = e.latex if e is not None else ""
    st = found.stats[g.components] if found.stats is not None else np.zeros((1, 5))
    w, h = max(g.box.w, 1.0), max(g.box.h, 1.0)
    lines, first, gap = _line_context(groups, k, u)
    lefts = [x.box.x0 for x in groups]
    hs = [x.box.h for x in groups]
    ws = [x.box.w for x in groups]
    lg = lambda v: float(np.log(max(v, 1e-3)))  # noqa: E731
    f = [float(e.confidence or 0.0) if e is not None else 0.0, float(np.log1p(len(tokens))),
         sum(letters) / n, float(np.log1p(run)), run / n,
         sum(t in DIGITS for t in tokens) / n, sum(t in OPERATORS for t in tokens) / n,
         float(np.log1p(sum(latex.count(s) for s in STRUCTURE))),
         float(np.mean(probs)), float(np.min(probs)), float(e is not None and e.label is not None),
         lg(w / u), lg(h / u), lg(w / h), float(st[:, 4].sum()) / (w * h), len(g.components) / (w / u),
         _holes(found, g) / max(w / u, 1.0), float(st[:, 2].max()) / w,
         float(np.log(lines)), float(first), gap, (g.box.x0 - min(lefts)) / u,
         lg(h / float(np.median(hs))), lg(w / float(np.median(ws)))]
    return np.clip(np.asarray(f, np.float32), -10, 10)


def page_features(read: list, found) -> np.ndarray:
    """(groups, N_FEATURES): ``group_features`` of each group of ``read`` ([(group, expression)])."""
    groups = [g for g, _ in read]
    if not groups:
        return np.zeros((0, N_FEATURES), np.float32)
    return np.stack([group_features(groups, k, e, found) for k, (_, e) in enumerate(read)])


def kinds_of(probs: np.ndarray, maths_below: float = MATHS_BELOW) -> list[str]:
    """Each row's kind: "maths" unless its maths probability is under ``maths_below``, else the likeliest other."""
    out = []
    for p in np.atleast_2d(probs):
        out.append(KINDS[0] if p[0] >= maths_below else KINDS[1 + int(np.argmax(p[1:]))])
    return out


def page_kinds(read: list, found, page=None) -> list[str]:
    """The kind of each group of ``read`` ([(group, expression)], the page's groups once read, cut and joined) by
    the ``page-other`` model: "maths", "text", "label" or "crossed_out". A group read as nothing is "maths" (the
    reader leaves it out anyway). ``page``: the clean page (unused here; a recipe's recorder maps boxes with it)."""
    if not read:
        return []
    kinds = kinds_of(load_page_other_model().probs(page_features(read, found)))
    return [k if e is not None else KINDS[0] for k, (_, e) in zip(kinds, read)]
