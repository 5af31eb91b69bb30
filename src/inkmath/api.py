"""The short Python API: ``inkmath.recognize(anything)``, ``inkmath.predict(anything)`` and ``inkmath.check(lines)``.

    import inkmath
    rec = inkmath.recognize("photo.png")          # or an array, a PIL image, bytes, strokes, an .inkml path
    rec.latex, rec.answer.get("text")
    top = inkmath.predict("digit.png")           # [Prediction(label, latex, prob), ...] best first
    res = inkmath.check(["2x+3=11", "2x=14", "x=7"])   # or a .txt path, an .inkml drawing, a photo, strokes
    res.first_wrong, res.lines[1].reason

The first two load their model once per process and reuse it; ``import inkmath`` itself imports none of this.
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


# what `check` reads from a file as typed LaTeX, one step a line (images are read as photos, .inkml as drawn ink)
SOLUTION_TEXT_SUFFIXES = (".txt", ".tex", ".md", "")


def solution_lines(path: str | os.PathLike) -> list:
    """The lines of a worked solution in a file: a text file with one LaTeX step a line (blank lines skipped); an
    ``.inkml`` drawing of the written lines, cut into lines and each read by the stroke reader (``ink_lines``); or
    a photo or image of the written lines, read by the page reader (``photo_lines``). Ink and photos give one
    ``LineReading`` a line, top to bottom, with the reader's confidence, its other readings and its box. Every
    failure names the file once (``FileError``)."""
    from inkmath.imageio import IMAGE_SUFFIXES, FileError, read_file

    name = str(path)
    suffix = Path(path).suffix.lower()
    if suffix == ".inkml":
        return inkml_lines(path)
    if suffix in IMAGE_SUFFIXES:
        return photo_lines(path)
    if suffix not in SOLUTION_TEXT_SUFFIXES:
        raise FileError(name, f"unsupported file type {suffix!r}; give a .txt file with one LaTeX step a line, an "
                              ".inkml drawing or a photo of the lines")
    data = read_file(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileError(name, "not UTF-8 text; give a text file with one LaTeX step a line") from None
    if "\x00" in text:
        raise FileError(name, "a binary file, not text; give a text file with one LaTeX step a line")
    return [line.strip() for line in text.splitlines() if line.strip()]


def inkml_lines(path: str | os.PathLike) -> list:
    """The written lines of an ``.inkml`` drawing as the checker reads them (``ink_lines``); failures name the file."""
    from inkmath.data.crohme import read_inkml
    from inkmath.imageio import FileError, read_file

    name = str(path)
    read_file(path)  # a missing path or a folder is said as such first
    try:
        strokes = read_inkml(Path(path)).strokes
        return ink_lines(strokes)
    except FileError:
        raise
    except InkmathError as e:
        message = str(e).removeprefix(f"{name}: ")
        if not any(word in message for word in ("give", "write", "draw", "split", "resample")):
            message += "; give an InkML file with the traces of the written lines"
        raise FileError(name, message) from None


def ink_lines(strokes, *, weights: str | None = None, predictor=None) -> list:
    """Ink of several written lines (strokes: (x, y) points, y down) as the checker reads it: the ink cut into lines
    (``equation.strokes.lines``), each read by the stroke reader into a ``LineReading`` with the reader's confidence,
    its other readings [(latex, confidence)] and its box in the ink's coordinates, top to bottom. A drawing of one
    line is one line. ``InkmathError`` for no ink, ink that is no strokes, or a line over the bounds of
    ``inkmath.limits``."""
    from inkmath.equation.ink_lines import read_ink_lines
    from inkmath.equation.recognize import get_predictor
    from inkmath.equation.solve.check import MAX_LINES, LineReading

    if not isinstance(strokes, (list, tuple)) or (strokes and not _is_strokes(strokes)):
        raise InkmathError("ink must be strokes: each stroke a list or array of (x, y) points")
    lines = read_ink_lines(strokes, predictor or get_predictor(weights), max_lines=MAX_LINES)
    return [LineReading(line.latex, line.confidence, line.alternatives, line.box) for line in lines]


def photo_lines(path, *, name: str | None = None, predictor=None, max_pixels: int | None = None) -> list:
    """The expressions of a photo of worked lines (a path, or the photo's bytes named ``name``) as the checker reads
    them: one ``LineReading`` each, in reading order (the page reader's), with its confidence, its other readings
    [(latex, confidence)] and its box in the photo's pixels."""
    from inkmath.equation.page.read import read_page
    from inkmath.equation.solve.check import LineReading

    reading = read_page(path, predictor, solve=False, name=name or str(path), max_pixels=max_pixels)
    out = []
    for e in reading.expressions:
        others = [(a["latex"], float(a.get("confidence") or 0.0)) for a in e.alternatives if a["latex"] != e.latex]
        out.append(LineReading(e.latex, float(e.confidence or 0.0), others, list(e.box)))
    return out


def check(source, *, timeout: float | None = None):
    """Check a worked solution line by line -> ``CheckResult`` (``.lines``: a verdict and reason per line,
    ``.first_wrong``, ``.answer_right``, ``.next_step``; ``.to_dict()`` for JSON).

    ``source``: a list of lines (typed LaTeX strings, or ``LineReading``s from a reader, with confidence and
    alternative readings), the first the problem; strokes of the written lines (``ink_lines``); or the path of a
    text file with one step a line, of an ``.inkml`` drawing of the lines, or of a photo or image of the written
    lines (read by the page reader). See
    ``inkmath.equation.solve.check``. ``InkmathError`` when there is nothing to check (no lines, only the problem,
    a first line that is no problem) or the file cannot be read."""
    from inkmath.equation.solve.check import CHECK_TIMEOUT, check_lines

    limit = CHECK_TIMEOUT if timeout is None else timeout
    if isinstance(source, (str, os.PathLike)):
        from inkmath.imageio import FileError

        lines = solution_lines(source)
        try:
            return check_lines(lines, limit)
        except FileError:
            raise
        except InkmathError as e:
            raise FileError(str(source), str(e)) from None
    if isinstance(source, (list, tuple)):
        if _is_strokes(source):
            source = ink_lines(source)
        return check_lines(list(source), limit)
    raise InkmathError(f"check takes a list of lines, strokes or the path of a text file, drawing or photo, not "
                       f"{type(source).__name__}")
