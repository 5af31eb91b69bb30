"""The short Python API: ``inkmath.recognize(anything)`` and ``inkmath.predict(anything)``.

    import inkmath
    rec = inkmath.recognize("photo.png")          # or an array, a PIL image, bytes, strokes, an .inkml path
    rec.latex, rec.answer.get("text")
    top = inkmath.predict("digit.png")           # [Prediction(label, latex, prob), ...] best first

Both load their model once per process and reuse it; ``import inkmath`` itself imports none of this.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError

def predictor(weights: str | None = None, engine: str = "torch"):
    """A ``Predictor`` loaded once per (weights, engine) in this process (``inkmath.predict.load_predictor``)."""
    from inkmath.predict import default_predict_weights, load_predictor

    return load_predictor(weights or default_predict_weights(), engine)


def _is_strokes(obj) -> bool:
    """A list of strokes: each a sequence of (x, y[, t]) points."""
    if not isinstance(obj, (list, tuple)) or not obj:
        return False
    for s in obj:
        try:
            a = np.asarray(s, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if a.ndim != 2 or a.shape[1] < 2:
            return False
    return True


def recognize(source, *, weights: str | None = None, solve: bool = True):
    """Read a handwritten expression -> ``Recognition`` (``.latex``, ``.mathml``, ``.answer``, ``.symbols``).

    ``source``: a file path (an image, or an ``.inkml`` file: CROHME, MathWriting or any W3C InkML), image bytes,
    a PIL image, a NumPy image array, or strokes (a list of (P, 2) point arrays or lists, x right and y down, in
    writing order). Strokes, given or in an ``.inkml`` file, are read up to the bounds of ``inkmath.limits``
    (``MAX_STROKES``, ``MAX_POINTS_PER_STROKE``, ``MAX_POINTS``); more is an ``InkmathError`` saying so.
    """
    from inkmath.equation.recognize import recognize_image, recognize_strokes

    if isinstance(source, (str, os.PathLike)):
        from inkmath.equation.inputs import recognize_file

        return recognize_file(Path(source), weights=weights, solve=solve)
    if isinstance(source, (list, tuple)):
        if not _is_strokes(source):
            raise InkmathError("A list given to recognize must be strokes: each stroke a list or array of (x, y) "
                               "points; for an image give a path, a PIL image or a NumPy array")
        from inkmath.limits import check_ink_size

        check_ink_size(source)  # as the CLI and the HTTP API: refused at once rather than read for minutes
        return recognize_strokes([np.asarray(s, dtype=np.float64) for s in source], weights=weights, solve=solve)
    return recognize_image(source, weights=weights, solve=solve)  # arrays, bytes, PIL images; others: clear error


def predict(source, *, weights: str | None = None, top: int = 5, ink: str = "auto", engine: str = "torch"):
    """Top-``top`` symbol readings of one image -> [Prediction(label, latex, prob), ...], best first.

    ``source``: a file path, image bytes, a PIL image or a NumPy image array; a list of these gives one list of
    predictions per image. ``weights``: a shipped name or a path (default ``inkmath.predict.PREDICT_WEIGHTS``).
    """
    from inkmath.predict import predict_source

    return predict_source(source, weights=weights, top=top, ink=ink, engine=engine)
