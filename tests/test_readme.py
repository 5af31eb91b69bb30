"""The README's Python API section is an example that runs (doctest)."""

import doctest
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_python_api_example_runs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"\n## Python API\n(.*?)\n## ", text, re.S)
    assert section, "README.md has no Python API section"
    source = "\n".join(re.findall(r"```python\n(.*?)```", section.group(1), re.S))
    test = doctest.DocTestParser().get_doctest(source, {}, "README.md: Python API", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.tries >= 10 and runner.failures == 0, f"{runner.failures} of {runner.tries} examples failed"
    names = {"recognize_strokes", "recognize_image", "Predictor"}
    assert all(name in source for name in names)
