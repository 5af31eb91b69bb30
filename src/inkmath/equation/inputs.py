"""Read an expression from a file (``inkmath recognize``): an image (png, jpg, ...) or an ``.inkml`` file (CROHME,
MathWriting, any W3C InkML)."""

from __future__ import annotations

import os
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.imageio import IMAGE_SUFFIXES, FileError, decode_image, read_file
from inkmath.limits import ink_size_problem
from inkmath.equation.recognize import recognize_image, recognize_strokes


def load_input(path: str | os.PathLike):
    """(kind, data): ("strokes", list of arrays) for .inkml, ("image", uint8 array) for pictures.

    Every failure is a ``FileError`` ``"PATH: what is wrong; what to do"`` naming the path once; ink over the bounds
    of ``inkmath.limits`` is one too.
    """
    name = str(path)
    data = read_file(path)  # a missing path or a folder fails here, the same way for every kind
    suffix = Path(path).suffix.lower()
    if suffix == ".inkml":
        from inkmath.data.crohme import read_inkml

        try:
            expr = read_inkml(Path(path))
        except InkmathError as e:
            raise FileError(name, str(e).removeprefix(f"{name}: ")) from None  # the FileError names the file once
        if not expr.strokes:
            raise FileError(name, "the InkML file has no traces; give a file with ink in it")
        problem = ink_size_problem(expr.strokes)
        if problem is not None:  # refused at once rather than read for minutes (inkmath.limits)
            raise FileError(name, problem)
        return "strokes", expr.strokes
    if suffix in IMAGE_SUFFIXES:
        return "image", decode_image(data, name)
    raise FileError(name, f"unsupported file type {suffix or '(none)'!r}; give an image "
                          f"({', '.join(s.lstrip('.') for s in IMAGE_SUFFIXES[:4])}, ...) or an .inkml file")


def recognize_file(path: str | os.PathLike, weights: str | None = None, solve: bool = True, predictor=None,
                   steps: bool = False, plot: bool = False):
    """Read a file and answer it; `steps` / `plot` add a worked solution and a graph to the answer."""
    kind, data = load_input(path)
    if kind == "strokes":
        return recognize_strokes(data, predictor, weights=weights, solve=solve, steps=steps, plot=plot)
    return recognize_image(data, predictor, weights=weights, solve=solve, steps=steps, plot=plot)
