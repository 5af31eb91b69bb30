"""The recognition pipeline: strokes or an image -> symbols -> expression tree -> LaTeX, MathML and an answer.

    rec = recognize_strokes(strokes)            # list of (P, 2) arrays, y down (canvas, InkML)
    rec = recognize_image(np.asarray(Image.open("photo.jpg")))
    rec.latex, rec.answer["text"], rec.symbols[2].candidates
    rec2 = recognize_with_corrections(strokes, {2: "\\times"})   # the user picked another reading for symbol 2
    to_json(rec, file="photo.jpg")

The classifier loads once per process (``get_predictor``); callers with their own ``Predictor`` pass it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from inkmath import InkmathError
from inkmath.equation.tree import Candidate, Node, SymbolHyp

DEFAULT_WEIGHTS = "crohme"
_PREDICTORS: dict[str, Any] = {}


@dataclass
class Recognition:
    latex: str
    mathml: str
    answer: dict
    symbols: list[SymbolHyp]
    tree: Node
    tokens: list[str] = field(default_factory=list)  # the reading chosen per symbol (after context fixes)
    confidence: float = 0.0  # estimated probability that ``latex`` is the right reading
    alternatives: list[dict] = field(default_factory=list)  # up to 5 {"latex", "confidence"}, best first


def get_predictor(weights: str | None = None):
    """The symbol classifier, loaded once per weights name (module-level cache: the web app calls this per request)."""
    from inkmath.predict import Predictor

    name = weights or DEFAULT_WEIGHTS
    if name not in _PREDICTORS:
        _PREDICTORS[name] = Predictor.load(name)
    return _PREDICTORS[name]


def _finish(symbols: list[SymbolHyp], corrections: dict[int, str] | None, solve: bool, steps: bool = False,
            plot: bool = False) -> Recognition:
    from inkmath.equation.latex import to_latex, to_mathml
    from inkmath.equation.parse import choose_tokens, parse

    tokens = choose_tokens(symbols)
    if corrections:
        for k, tok in corrections.items():
            if not 0 <= int(k) < len(symbols):
                raise InkmathError(f"Correction for symbol {k}, but there are only {len(symbols)} symbols (0-based)")
            tokens[int(k)] = str(tok)
            h = symbols[int(k)]
            # the corrected reading becomes the symbol's first candidate, so the JSON and a re-read agree
            rest = [c for c in h.candidates if c.token != tok]
            h.candidates = [Candidate(str(tok), 1.0)] + rest
    tree = parse(symbols, tokens)
    latex = to_latex(tree)
    mathml = to_mathml(tree)
    ans: dict = {}
    if solve:
        from inkmath.equation.solve import answer

        ans = answer(tree, steps=steps, plot=plot)
    # until the decoder scores whole readings: the chosen readings' probabilities together, one alternative
    conf = float(np.prod([_prob_of(h, t) for h, t in zip(symbols, tokens)])) if symbols else 0.0
    return Recognition(latex, mathml, ans, symbols, tree, tokens, conf, [{"latex": latex, "confidence": conf}])


def _prob_of(h: SymbolHyp, token: str) -> float:
    return next((c.prob for c in h.candidates if c.token == token), 0.0)


def recognize_strokes(strokes: Sequence, predictor=None, *, solve: bool = True, weights: str | None = None,
                      corrections: dict[int, str] | None = None, steps: bool = False,
                      plot: bool = False) -> Recognition:
    """Read online ink: a list of strokes, each an array (P, 2+) of x, y points in writing order (y down).
    `steps` / `plot` add a worked solution and a graph (SVG) to the answer (see `inkmath.equation.solve.answer`)."""
    from inkmath.equation.segment import segment_strokes

    if strokes is None or len(strokes) == 0:
        raise InkmathError("No strokes to recognise: the drawing is empty")
    predictor = predictor or get_predictor(weights)
    symbols = segment_strokes(strokes, predictor)
    return _finish(symbols, corrections, solve, steps, plot)


def recognize_image(image: np.ndarray, predictor=None, *, solve: bool = True, weights: str | None = None,
                    corrections: dict[int, str] | None = None, ink: str = "auto", steps: bool = False,
                    plot: bool = False) -> Recognition:
    """Read an image: white ink on black (WAP, rendered strokes) or dark ink on light paper (photos, scans)."""
    from inkmath.equation.segment import segment_image

    img = np.asarray(image)
    if img.ndim not in (2, 3) or img.size == 0:
        raise InkmathError(f"Expected a grey or colour image, got an array of shape {img.shape}")
    predictor = predictor or get_predictor(weights)
    symbols = segment_image(img, predictor, ink=ink)
    return _finish(symbols, corrections, solve, steps, plot)


def recognize_with_corrections(strokes_or_image, corrections: dict[int, str], predictor=None, *,
                               solve: bool = True, weights: str | None = None) -> Recognition:
    """Read again after the user chose another reading for some symbols ({symbol index: token}).

    Segmentation is repeated (it is deterministic, so symbol indices stay the same), then the chosen tokens replace
    the classifier's and the layout is parsed again.
    """
    if isinstance(strokes_or_image, np.ndarray) and strokes_or_image.ndim in (2, 3) and strokes_or_image.dtype == np.uint8:
        return recognize_image(strokes_or_image, predictor, solve=solve, weights=weights, corrections=corrections)
    return recognize_strokes(strokes_or_image, predictor, solve=solve, weights=weights, corrections=corrections)


def _round_box(box) -> list[float]:
    return [round(float(v), 2) for v in box.as_list()]


def to_dict(rec: Recognition, file: str | None = None) -> dict:
    """The JSON form the CLI and the web page use."""
    from inkmath.equation.latex import to_latex
    from inkmath.equation.tree import Symbol

    syms = []
    for h, tok in zip(rec.symbols, rec.tokens or [h.token for h in rec.symbols]):
        syms.append({
            "label": tok,
            "latex": to_latex(Symbol(tok)),
            "box": _round_box(h.box),
            "prob": round(float(h.prob), 4),
            "strokes": list(h.strokes),
            "alternatives": [{"label": c.token, "prob": round(float(c.prob), 4)} for c in h.candidates],
        })
    alts = [{"latex": a["latex"], "confidence": round(float(a["confidence"]), 4)} for a in rec.alternatives[:5]]
    return {"file": file, "latex": rec.latex, "mathml": rec.mathml, "answer": rec.answer, "symbols": syms,
            "confidence": round(float(rec.confidence), 4), "alternatives": alts}


def to_json(rec: Recognition, file: str | None = None) -> str:
    import json

    return json.dumps(to_dict(rec, file), ensure_ascii=False, default=str)
