"""inkmath: read handwritten mathematics.

    import inkmath
    inkmath.recognize("photo.png").latex     # an expression: path, array, PIL image, bytes or strokes
    inkmath.predict("digit.png")[0].label    # one symbol: top-k readings
    inkmath.check(["2x+3=11", "2x=14", "x=7"]).first_wrong   # a worked solution checked line by line: 1

The core imports light: heavy parts (torch models, the web app, plots) load where they are used.
"""

from inkmath.errors import InkmathError, __version__  # noqa: F401 (the public names)


def recognize(source, **options):
    """Read a handwritten expression from a path, an array, a PIL image, bytes or strokes (``inkmath.api.recognize``)."""
    from inkmath.api import recognize as _recognize

    return _recognize(source, **options)


def check(source, **options):
    """Check a worked solution line by line: a list of lines or a text file (``inkmath.api.check``)."""
    from inkmath.api import check as _check

    return _check(source, **options)


_LAZY = {
    "recognize_strokes": "inkmath.equation.recognize",
    "recognize_image": "inkmath.equation.recognize",
    "Recognition": "inkmath.equation.recognize",
    "Predictor": "inkmath.predict",
    "Prediction": "inkmath.predict",
    "CheckResult": "inkmath.equation.solve.check",
    "LineReading": "inkmath.equation.solve.check",
}


def __getattr__(name: str):
    """``inkmath.Predictor``, ``inkmath.recognize_image``, ...: imported on first use, so ``import inkmath`` stays light.

    ``inkmath.predict`` is the module ``inkmath/predict.py``, made callable: ``inkmath.predict("digit.png")`` runs
    ``inkmath.api.predict`` (a function of that name here would be replaced by the module as soon as it is imported).
    """
    if name == "predict":
        import importlib

        return importlib.import_module("inkmath.predict")
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inkmath' has no attribute {name!r}")
