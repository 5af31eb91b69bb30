"""Worked solutions drawn in real handwriting: the seeded chains (``synth.chains``) written line under line with
symbols cut from CROHME ink, to measure the checker on drawn lines.

    bank = chain_bank("test")                       # CROHME 2014 test ink; "val": the 2011-2013 tests
    drawn = drawn_chains("test", 600, bank)         # [DrawnChain(chain, lines, strokes, line_strokes), ...]
    inkml_text(drawn[0].strokes)                    # the drawing as an InkML file

A chain's lines are first written as a student writes them by hand (``drawable_line``: "or" between roots as a
comma, ∴ and a box around the answer left out, \\cdot as \\times); a chain with a line that CROHME's 101 symbols or
this layout cannot draw (systems of several rows, words, roots, sums) is left out, and ``drawn_chains`` says how
many. Each line is its expression tree (``core.latex_parse``) laid out left to right: every symbol one written
sample of its label (``pages.symbol_bank``, in units of its writer's mean symbol height) at a random size near 1,
sitting on the baseline (descenders under it, operators and brackets about the middle); scripts smaller, raised
or lowered beside their base; a fraction as numerator over a bar (a drawn minus stretched) over denominator.
Lines go one under the other with ``LINE_SPACE`` symbol heights of paper between them and a small indent. Each
chain is drawn by its own generator seeded by the chain's seed, so a chain can be drawn alone again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.crohme import SPLITS, iter_inkml, normalize_label
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.core.tree import Frac, Node, Row, Sub, SubSup, Sup, Symbol
from inkmath.equation.synth.chains import Chain, worked_chains
from inkmath.equation.synth.pages import symbol_bank

UNIT = 40.0  # ink units (a canvas's pixels) a mean symbol height
SYMBOL_SCALE = (0.85, 1.15)  # a symbol's size against its writer's mean (uniform)
SYMBOL_GAP = (0.12, 0.35)  # paper between two symbols of a row, symbol heights (uniform)
LINE_SPACE = (0.8, 2.0)  # paper between two lines, symbol heights (uniform)
INDENT = (0.0, 0.8)  # a line's start, symbol heights from the left (uniform)
SCRIPT = 0.6  # a script's size against its base's row
SUP_RISE = (0.15, 0.35)  # a superscript's baseline this share of its base's height below the base's top (uniform)
FRACTION_GAP = (0.1, 0.25)  # paper between a fraction's bar and its parts, symbol heights (uniform)
LONGEST = 1.3  # a sample longer than this (symbol heights) is drawn this long
AXIS = -0.4  # the middle of a row (operators, bars, brackets) against its baseline at 0, y down
MIDDLE = {"+", "-", "=", "\\times", "\\div", "\\pm", "\\neq", "\\lt", "\\gt", "\\leq", "\\geq", "\\rightarrow", "(",
          ")", "[", "]", "|", "\\{", "\\}", "\\infty"}
DESCENDERS = set("gpqyj")
# the ink the symbols are cut from: the CROHME tests never trained on (val tunes, test reports)
BANK_ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": SPLITS["test"][0]}
_OR = re.compile(r"\\quad\s*\\text\{\s*or\s*\}\s*\\quad|\\text\{\s*or\s*\}|\\lor\b|\bor\b")
_BOXED = re.compile(r"\\boxed\{(.*)\}")


class NotDrawable(Exception):
    """A line this layout cannot draw with the bank's symbols."""


@dataclass
class DrawnChain:
    chain: Chain
    lines: tuple[str, ...]  # each line's LaTeX as drawn (``drawable_line``)
    strokes: list[np.ndarray]  # the drawing, (P, 2) each, x right and y down, lines top to bottom
    line_strokes: list[list[int]]  # the strokes of each line (indices into ``strokes``)


@dataclass
class _Piece:
    strokes: list[np.ndarray]
    box: np.ndarray  # x0, y0, x1, y1

    def moved(self, dx: float, dy: float) -> _Piece:
        return _Piece([s + (dx, dy) for s in self.strokes], self.box + (dx, dy, dx, dy))

    def scaled(self, k: float) -> _Piece:  # about the origin (x = 0 on the baseline)
        return _Piece([s * k for s in self.strokes], self.box * k)


def drawable_line(latex: str) -> str:
    """A chain's typed line as a student writes it by hand (``NotDrawable`` when it holds what is not written with
    CROHME's symbols: several rows, words)."""
    s = latex.replace("∴", " ").replace("\\therefore", " ").strip()
    boxed = _BOXED.fullmatch(s)
    if boxed:
        s = boxed.group(1)
    s = _OR.sub(" , ", s).replace("\\cdot", "\\times").replace("\\left", "").replace("\\right", "")
    s = re.sub(r"\s+", " ", s).strip()
    if "\\\\" in s or "\\text" in s or "\\mathbb" in s or not s:
        raise NotDrawable(latex)
    return s


def _tree(latex: str) -> Node:
    try:
        return parse_latex(latex)
    except InkmathError:
        raise NotDrawable(latex) from None


def _symbol(token: str, bank: dict, rng: np.random.Generator) -> _Piece:
    label = normalize_label(token)
    samples = bank.get(label) if label else None
    if not samples:
        raise NotDrawable(token)
    strokes = samples[int(rng.integers(len(samples)))]
    longest = max(max(float(s[:, 0].max()), float(s[:, 1].max())) for s in strokes)
    # a bracket or a bar cut from around a fraction is drawn at a symbol's size
    k = rng.uniform(*SYMBOL_SCALE) * (min(1.0, LONGEST / longest) if longest > 0 else 1.0)
    pts = [s * k for s in strokes]
    w = max(float(s[:, 0].max()) for s in pts)
    h = max(float(s[:, 1].max()) for s in pts)
    if label in MIDDLE:
        top = AXIS - h / 2
    elif label in DESCENDERS:
        top = AXIS - 0.3
    elif label == ",":
        top = -0.15
    else:
        top = -h
    top += rng.normal(0, 0.04)
    return _Piece([p + (0.0, top) for p in pts], np.array([0.0, top, w, top + h]))


def _row(pieces: list[_Piece], rng: np.random.Generator) -> _Piece:
    strokes, x, box = [], 0.0, None
    for p in pieces:
        q = p.moved(x - p.box[0], 0.0)
        strokes += q.strokes
        box = q.box.copy() if box is None else np.array([min(box[0], q.box[0]), min(box[1], q.box[1]),
                                                         max(box[2], q.box[2]), max(box[3], q.box[3])])
        x = q.box[2] + rng.uniform(*SYMBOL_GAP)
    if box is None:
        raise NotDrawable("an empty row")
    return _Piece(strokes, box)


def _joined(*pieces: _Piece) -> _Piece:
    boxes = np.array([p.box for p in pieces])
    return _Piece([s for p in pieces for s in p.strokes],
                  np.array([boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()]))


def _fraction(node: Frac, bank: dict, rng: np.random.Generator) -> _Piece:
    num, den = _lay(node.num, bank, rng), _lay(node.den, bank, rng)
    width = max(num.box[2] - num.box[0], den.box[2] - den.box[0]) + rng.uniform(0.1, 0.4)
    bar = _symbol("-", bank, rng)
    stretch = width / max(bar.box[2] - bar.box[0], 1e-6)
    bar = _Piece([np.column_stack([(s[:, 0] - bar.box[0]) * stretch, s[:, 1]]) for s in bar.strokes],
                 np.array([0.0, bar.box[1], width, bar.box[3]]))
    num = num.moved((width - (num.box[2] - num.box[0])) / 2 - num.box[0],
                    bar.box[1] - rng.uniform(*FRACTION_GAP) - num.box[3])
    den = den.moved((width - (den.box[2] - den.box[0])) / 2 - den.box[0],
                    bar.box[3] + rng.uniform(*FRACTION_GAP) - den.box[1])
    return _joined(num, bar, den)


def _lay(node: Node, bank: dict, rng: np.random.Generator) -> _Piece:
    """The ink of ``node`` with its baseline at y = 0 and its left edge near x = 0, in symbol heights."""
    if isinstance(node, Symbol):
        return _symbol(node.token, bank, rng)
    if isinstance(node, Row):
        return _row([_lay(n, bank, rng) for n in node.items], rng)
    if isinstance(node, Frac):
        return _fraction(node, bank, rng)
    if isinstance(node, (Sup, Sub, SubSup)):
        base = _lay(node.base, bank, rng)
        h = base.box[3] - base.box[1]
        parts = [base]
        if isinstance(node, (Sup, SubSup)):
            sup = _lay(node.sup, bank, rng).scaled(SCRIPT)  # its baseline at y = 0: put it SUP_RISE down the base
            parts.append(sup.moved(base.box[2] + rng.uniform(0.02, 0.12) - sup.box[0],
                                   base.box[1] + rng.uniform(*SUP_RISE) * h))
        if isinstance(node, (Sub, SubSup)):
            sub = _lay(node.sub, bank, rng).scaled(SCRIPT)  # its top 0.6 down the base
            parts.append(sub.moved(base.box[2] + rng.uniform(0.02, 0.12) - sub.box[0],
                                   base.box[1] + 0.6 * h - sub.box[1]))
        return _joined(*parts)
    raise NotDrawable(type(node).__name__)


def draw_line(latex: str, bank: dict, rng: np.random.Generator) -> list[np.ndarray]:
    """The strokes of one line of LaTeX in symbol heights, baseline at y = 0 (``NotDrawable`` when it cannot)."""
    return _lay(_tree(latex), bank, rng).strokes


def draw_chain(chain: Chain, bank: dict) -> DrawnChain:
    """``chain`` drawn line under line (``NotDrawable`` when a line cannot be), from a generator seeded by its seed."""
    rng = np.random.default_rng(chain.seed)
    lines = tuple(drawable_line(line) for line in chain.lines)
    strokes: list[np.ndarray] = []
    groups: list[list[int]] = []
    bottom = 0.0
    for k, latex in enumerate(lines):
        piece = _lay(_tree(latex), bank, rng)
        dy = (bottom + rng.uniform(*LINE_SPACE) if k else 0.0) - piece.box[1]
        piece = piece.moved(rng.uniform(*INDENT) - piece.box[0], dy)
        bottom = piece.box[3]
        groups.append(list(range(len(strokes), len(strokes) + len(piece.strokes))))
        strokes += [s * UNIT for s in piece.strokes]
    return DrawnChain(chain, lines, strokes, groups)


def chain_bank(split: str, data_dir: Path) -> dict:
    """The symbol bank the chains of ``split`` are drawn with: every CROHME class cut from ``BANK_ARCHIVES[split]``
    under ``data_dir`` (or ``data_dir``/crohme)."""
    if split not in BANK_ARCHIVES:
        raise InkmathError(f"Unknown split {split!r}; choose one of: {', '.join(BANK_ARCHIVES)}")
    name = BANK_ARCHIVES[split]
    for path in (Path(data_dir) / "crohme" / name, Path(data_dir) / name):
        if path.is_file():
            return symbol_bank(iter_inkml(path), "all")
    raise InkmathError(f"CROHME archive {name} not found under {data_dir}/crohme; set INKMATH_DATA to the folder "
                       "that holds crohme/")


def drawn_chains(split: str, count: int, bank: dict) -> tuple[list[DrawnChain], list[Chain]]:
    """The first ``count`` chains of ``split`` (``synth.chains.worked_chains``): those drawn, and those left out
    because a line cannot be drawn."""
    drawn, left = [], []
    for chain in worked_chains(split, count):
        try:
            drawn.append(draw_chain(chain, bank))
        except NotDrawable:
            left.append(chain)
    return drawn, left


def inkml_text(strokes: list[np.ndarray], lines: tuple[str, ...] = ()) -> str:
    """The drawing as a W3C InkML file (the lines' LaTeX, when given, as a truth annotation, one a line)."""
    traces = "\n".join(f'<trace id="{i}">' + ", ".join(f"{x:.2f} {y:.2f}" for x, y in np.asarray(s)[:, :2])
                       + "</trace>" for i, s in enumerate(strokes))
    truth = "" if not lines else ('<annotation type="truth">' + " \\\\ ".join(lines).replace("&", "&amp;")
                                  .replace("<", "&lt;") + "</annotation>\n")
    return f'<ink xmlns="http://www.w3.org/2003/InkML">\n{truth}{traces}\n</ink>\n'
