"""The README's Python API section runs as written (doctest), and the API's errors say what to give instead."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

from inkmath.weights import list_shipped

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.skipif(not {"mnist", "crohme"} <= set(list_shipped()), reason="needs the shipped weights")
def test_readme_python_api_example_runs():
    text = README.read_text(encoding="utf-8")
    section = re.search(r"\n## Python API\n(.*?)\n## ", text, re.S)
    assert section, "README.md has no Python API section"
    source = "\n".join(re.findall(r"```python\n(.*?)```", section.group(1), re.S))
    test = doctest.DocTestParser().get_doctest(source, {}, "README.md: Python API", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.tries >= 10 and runner.failures == 0, f"{runner.failures} of {runner.tries} examples failed"
    for name in ("inkmath.recognize(", "inkmath.predict(", "recognize_strokes(", "recognize_image(", "Predictor."):
        assert name in source, name


def test_api_says_what_to_give_instead():
    import numpy as np

    import inkmath

    for bad, words in ((42, "Cannot read an image from a int"), ({"a": 1}, "Cannot read an image from a dict"),
                       ([1, 2, 3], "must be strokes"), ("/nonexistent/eq.png", "no such file")):
        with pytest.raises(inkmath.InkmathError, match=words):
            inkmath.recognize(bad)
    from inkmath.predict import Predictor

    fake = Predictor.__new__(Predictor)  # the argument check comes before any model runs
    for bad in ("x.png", np.zeros((28, 28), np.uint8)):
        with pytest.raises(inkmath.InkmathError, match="wrap one image in a list"):
            fake.predict(bad)


def test_import_inkmath_loads_no_model_code():
    import subprocess
    import sys

    code = ("import sys, inkmath; assert callable(inkmath.recognize); "
            "print(sorted(m for m in ('torch', 'numpy', 'PIL', 'inkmath.predict') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stderr


def test_predict_top_below_one_is_an_error_not_a_silent_list():
    """inkmath.predict(..., top=0) returned [] and top=-1 every reading but the last, without a word."""
    from types import SimpleNamespace

    import numpy as np

    import inkmath
    from inkmath.predict import Predictor

    fake = Predictor.__new__(Predictor)
    fake.vocab = SimpleNamespace(names=["a", "b", "c"], latex=["a", "b", "c"])
    logits = np.array([[0.0, 2.0, 1.0]])
    for bad in (0, -1, 2.5, True, None):
        with pytest.raises(inkmath.InkmathError, match="top must be a whole number of readings from 1"):
            fake.top_predictions(logits, bad)
    assert [p.label for p in fake.top_predictions(logits, 2)[0]] == ["b", "c"]
    assert [p.label for p in fake.top_predictions(logits, np.int64(9))[0]] == ["b", "c", "a"]  # more than C: all


@pytest.mark.skipif(not {"crohme-m"} <= set(list_shipped()), reason="needs the shipped weights")
def test_a_boolean_image_array_is_read_as_black_and_white():
    """inkmath.recognize(grey > 128) said "No ink found in the image: it is blank"."""
    from importlib.resources import files

    import numpy as np
    from PIL import Image

    import inkmath

    grey = np.asarray(Image.open(files("inkmath.examples") / "equation_linear.png").convert("L"))
    assert inkmath.recognize(grey > 128, solve=False).latex == "3x+5=11"


def test_readme_serve_examples_name_a_shipped_classifier_other_than_the_default():
    """`inkmath serve --expression-weights NAME` in the README offers another classifier than the one served anyway
    (it offered crohme-m as "the larger" one after crohme-m had become the default)."""
    from inkmath.equation.recognize import DEFAULT_WEIGHTS

    names = re.findall(r"inkmath serve --expression-weights (\S+)", README.read_text(encoding="utf-8"))
    assert names, "README.md has no serve --expression-weights example"
    for name in names:
        assert name in list_shipped() and name != DEFAULT_WEIGHTS, name

