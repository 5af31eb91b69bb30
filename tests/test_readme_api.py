"""The README's "Python API" example runs as written, and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import pytest

from inkmath.weights import list_shipped

README = Path(__file__).resolve().parents[1] / "README.md"


def python_api_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Python API\n", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


@pytest.mark.skipif(not {"mnist", "crohme"} <= set(list_shipped()), reason="needs the shipped weights")
def test_readme_python_api_example_runs_and_prints_its_comments():
    code = python_api_block()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md (Python API)", "exec"), {"__name__": "readme"})
    printed = out.getvalue().splitlines()
    promised = [line.split("#", 1)[1].strip() for line in code.splitlines()
                if line.lstrip().startswith("print(") and "#" in line]
    assert printed == promised


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
