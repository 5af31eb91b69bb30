"""Read an expression from a file: an image (png, jpg, ...) or a CROHME ``.inkml`` file (``inkmath recognize``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from inkmath import InkmathError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"}


def load_input(path: Path):
    """(kind, data): ("strokes", list of arrays) for .inkml, ("image", uint8 array) for pictures."""
    if not path.is_file():
        raise InkmathError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".inkml":
        from inkmath.data.crohme import read_inkml

        expr = read_inkml(path)
        if not expr.strokes:
            raise InkmathError(f"{path}: the InkML file has no traces")
        return "strokes", expr.strokes
    if suffix in IMAGE_SUFFIXES:
        from PIL import Image, UnidentifiedImageError

        try:
            with Image.open(path) as im:
                return "image", np.asarray(im.convert("RGB") if im.mode not in ("L", "RGB") else im)
        except (UnidentifiedImageError, OSError) as e:
            raise InkmathError(f"{path}: not a readable image ({e})") from None
    raise InkmathError(f"{path}: unsupported file type {suffix!r}; give an image (png, jpg, bmp) or an .inkml file")


def recognize_file(path: Path, weights: str | None = None, solve: bool = True, steps: bool = False,
                   plot: bool = False):
    """Read a file and answer it; `steps` / `plot` add a worked solution and a graph to the answer."""
    from inkmath.equation.recognize import recognize_image, recognize_strokes

    kind, data = load_input(path)
    if kind == "strokes":
        return recognize_strokes(data, weights=weights, solve=solve, steps=steps, plot=plot)
    return recognize_image(data, weights=weights, solve=solve, steps=steps, plot=plot)
