"""The bounds on how much ink one reading takes (``inkmath.limits``): the Python API and ``inkmath recognize`` refuse
more at once with one line naming the bound and what to do, as the HTTP API does (they read 1,000 strokes for about
40 s). Every test here is refused before any model loads, so each takes milliseconds."""

from __future__ import annotations

import json

import pytest

import inkmath
from inkmath import InkmathError
from inkmath.cli import main
from inkmath.limits import MAX_POINTS, MAX_POINTS_PER_STROKE, MAX_STROKES

TOO_MUCH = {  # ink one over each bound, and the start of what the error says
    "strokes": ([[(k, 0), (k, 5)] for k in range(MAX_STROKES + 1)], f"too many strokes ({MAX_STROKES + 1:,}; "),
    "points in a stroke": ([[(k % 50, k // 50) for k in range(MAX_POINTS_PER_STROKE + 1)]],
                           f"too many points in stroke 1 ({MAX_POINTS_PER_STROKE + 1:,}; "),
    "points in all": ([[(k % 50, j + k / 1e4) for k in range(MAX_POINTS_PER_STROKE)]
                       for j in range(MAX_POINTS // MAX_POINTS_PER_STROKE + 1)],
                      f"too many points ({(MAX_POINTS // MAX_POINTS_PER_STROKE + 1) * MAX_POINTS_PER_STROKE:,}; "),
}


def inkml(strokes) -> str:
    traces = "".join("<trace>" + ", ".join(f"{x} {y}" for x, y in s) + "</trace>" for s in strokes)
    return f'<ink xmlns="http://www.w3.org/2003/InkML">{traces}</ink>'


@pytest.mark.parametrize("kind", list(TOO_MUCH))
def test_the_python_api_refuses_ink_over_a_bound_in_one_line(kind):
    strokes, start = TOO_MUCH[kind]
    with pytest.raises(InkmathError) as e:
        inkmath.recognize(strokes)
    message = str(e.value)
    assert message.startswith(start[0].upper() + start[1:]), message
    assert "\n" not in message and ("split" in message or "resample" in message), message


def test_the_python_api_refuses_an_inkml_file_over_a_bound(tmp_path):
    path = tmp_path / "scribble.inkml"
    path.write_text(inkml(TOO_MUCH["strokes"][0]))
    with pytest.raises(InkmathError) as e:
        inkmath.recognize(path)
    assert str(e.value).startswith(f"{path}: {TOO_MUCH['strokes'][1]}"), str(e.value)


@pytest.mark.parametrize("kind", list(TOO_MUCH))
def test_recognize_gives_an_inkml_file_over_a_bound_one_line_not_a_traceback(kind, tmp_path, capsys):
    strokes, start = TOO_MUCH[kind]
    path = tmp_path / "scribble.inkml"
    path.write_text(inkml(strokes))
    assert main(["recognize", str(path), "--no-solve"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{path}: {start}"), lines
    assert "Traceback" not in captured.err and captured.out == ""
    assert main(["recognize", str(path), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["file"] == str(path) and out["error"].startswith(start), out


def test_the_web_api_takes_its_bounds_from_the_library():
    """One place for the bounds: the web schemas import them from ``inkmath.limits`` (never the other way)."""
    import inspect
    import re

    from inkmath import limits
    from inkmath.web import schemas

    assert (schemas.MAX_STROKES, schemas.MAX_POINTS_PER_STROKE, schemas.MAX_POINTS) == \
        (MAX_STROKES, MAX_POINTS_PER_STROKE, MAX_POINTS)
    source = inspect.getsource(schemas)
    assert "from inkmath.limits import" in source
    assert not re.search(r"^MAX_(STROKES|POINTS|POINTS_PER_STROKE)\s*=", source, re.M)  # not defined again there
    assert "inkmath.web" not in inspect.getsource(limits).split('"""', 2)[2]   # the library never imports the web


def test_ink_within_the_bounds_is_not_refused():
    from inkmath.limits import ink_size_problem

    at_the_bounds = [[(0, 0)] * MAX_POINTS_PER_STROKE] * (MAX_POINTS // MAX_POINTS_PER_STROKE)
    assert ink_size_problem(at_the_bounds) is None
    assert ink_size_problem([[(0, 0)]] * MAX_STROKES) is None
