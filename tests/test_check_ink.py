"""Worked solutions drawn as ink of several lines: the ink cut into lines (inkmath.equation.strokes.lines), each line
read by the stroke reader (inkmath.equation.ink_lines) and checked (`inkmath.check(strokes | .inkml)`,
`inkmath check FILE.inkml`)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import inkmath
from inkmath.cli import main
from inkmath.equation.strokes.lines import cut_lines
from inkmath.errors import InkmathError
from inkmath.synth import write, write_lines


def inkml(strokes) -> str:
    traces = "".join("<trace>" + ", ".join(f"{x:.2f} {y:.2f}" for x, y in np.asarray(s)[:, :2]) + "</trace>"
                     for s in strokes)
    return f'<ink xmlns="http://www.w3.org/2003/InkML">{traces}</ink>'


def _bar(x0: float, x1: float, y: float) -> np.ndarray:
    return np.column_stack([np.linspace(x0, x1, 20), np.full(20, y)])


# ---------------------------------------------------------------- cutting ink into lines


def test_lines_are_cut_top_to_bottom_with_strokes_in_writing_order():
    strokes = write_lines(["2x+3=11", "2x=8", "x=4"])
    lines = cut_lines(strokes)
    assert len(lines) == 3
    assert [i for line in lines for i in line] == list(range(len(strokes)))
    assert cut_lines(write("3x+5=11")) == [list(range(len(write("3x+5=11"))))]  # one line is one line
    assert cut_lines([]) == [] and cut_lines([np.zeros((0, 2))]) == []


def test_a_fraction_and_a_superscript_stay_in_their_line():
    """x^2 (raised, overlapping its base) and a fraction drawn as numerator, bar and denominator, each a little
    apart: one line, not three; the line under it is another."""
    size = 100.0  # write() puts text between base_y - size and base_y
    num = write("3", seed=1, x=0, base_y=0, size=size)           # numerator: -100 .. 0
    bar = [_bar(-10, 70, 25)]                                    # the bar, 25 below it (0.3 symbols)
    den = write("x", seed=2, x=0, base_y=110, size=size)         # denominator (50 .. 110), 25 under the bar
    rest = write("=x^2", seed=3, x=120, base_y=70, size=size)    # = x^2 beside the fraction, about the bar
    under = write("x=1", seed=4, x=0, base_y=320, size=size)     # the next line, 1.3 symbols under
    strokes = num + bar + den + rest + under
    lines = cut_lines(strokes)
    first = len(num + bar + den + rest)
    assert lines == [list(range(first)), list(range(first, len(strokes)))]


def test_a_loose_bar_joins_the_nearer_line():
    strokes = write("12", x=0, base_y=0) + [_bar(0, 100, 60)] + write("4", x=0, base_y=220)
    # the bar lies 0.6 symbols from the ink above and below it: alone it would be a line of its own
    assert cut_lines(strokes, gap=0.3) == [[0, 1, 2], [3, 4]]


# ---------------------------------------------------------------- checking drawn lines


def test_a_drawn_solution_is_checked_line_by_line():
    result = inkmath.check(write_lines(["2x+3=11", "2x=14", "x=7"]))
    assert [line.latex for line in result.lines] == ["2x+3=11", "2x=14", "x=7"]
    assert result.first_wrong == 1 and "sign" in result.lines[1].reason
    boxes = [line.box for line in result.lines]
    assert all(len(b) == 4 for b in boxes) and boxes[0][3] < boxes[1][1] < boxes[1][3] < boxes[2][1]
    assert all(0 < line.confidence <= 1 for line in result.lines)


def test_an_inkml_drawing_is_checked_by_the_api_and_the_command(tmp_path, capsys):
    path = tmp_path / "solution.inkml"
    path.write_text(inkml(write_lines(["x^2-5x+6=0", "(x-2)(x-3)=0", "x=2"])), encoding="utf-8")
    result = inkmath.check(path)
    assert [line.verdict for line in result.lines] == ["given", "ok", "wrong"]
    assert main(["check", str(path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["file"] == str(path) and row["first_wrong"] == 2 and row["answer_right"] is False
    assert all(len(s["box"]) == 4 for s in row["steps"])


def test_a_one_line_drawing_is_one_line(tmp_path):
    path = tmp_path / "one.inkml"
    path.write_text(inkml(write("2x+3=11")), encoding="utf-8")
    with pytest.raises(InkmathError, match="one.inkml: only the problem"):
        inkmath.check(path)


@pytest.mark.parametrize("text, message", [
    ('<ink xmlns="http://www.w3.org/2003/InkML"></ink>', "no ink|no traces"),
    ("not xml", "one.inkml"),
])
def test_a_drawing_without_ink_is_one_clear_error(tmp_path, text, message):
    path = tmp_path / "one.inkml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InkmathError, match=message) as e:
        inkmath.check(path)
    assert "\n" not in str(e.value) and str(e.value).count("one.inkml") == 1


# ---------------------------------------------------------------- drawn chains (the benchmark's generator)


@pytest.fixture(scope="module")
def val_bank():
    from inkmath.data import data_dir
    from inkmath.equation.synth.chain_ink import BANK_ARCHIVES, chain_bank

    if not (data_dir() / "crohme" / BANK_ARCHIVES["val"]).is_file():
        pytest.skip("the CROHME 2011-2013 test archive is not under INKMATH_DATA")
    return chain_bank("val", data_dir())


def test_drawn_chains_are_seeded_and_cut_into_their_lines(val_bank):
    from inkmath.equation.synth.chain_ink import drawable_line, drawn_chains, inkml_text
    from inkmath.data.crohme import read_inkml

    drawn, left = drawn_chains("val", 12, val_bank)
    again, _ = drawn_chains("val", 12, val_bank)
    assert drawn and len(drawn) + len(left) == 12
    for d, e in zip(drawn, again):
        assert len(d.strokes) == len(e.strokes) and all(np.array_equal(a, b) for a, b in zip(d.strokes, e.strokes))
        assert cut_lines(d.strokes) == d.line_strokes and len(d.line_strokes) == len(d.lines)
    read = read_inkml(inkml_text(drawn[0].strokes, drawn[0].lines).encode())
    assert len(read.strokes) == len(drawn[0].strokes)
    assert drawable_line("\\therefore x = -5 \\quad\\text{or}\\quad x = 2") == "x = -5 , x = 2"
    assert drawable_line("\\boxed{x = 4}") == "x = 4"


# ---------------------------------------------------------------- bad input, from the command


def test_every_kind_of_bad_input_is_one_line_naming_the_file_and_what_to_do(tmp_path):
    """Empty, one line, words, 500 lines, LaTeX that does not parse, binary, an empty drawing: one line each on
    stderr, never a traceback; a line that does not parse after the problem is a verdict (?), not an error."""
    import subprocess
    import sys

    files = {"empty.txt": "", "one.txt": "2x+3=11\n", "words.txt": "I think this is right\nx=4\n",
             "long.txt": "x+1=2\n" + "x=1\n" * 499, "badfirst.txt": "2x+=\nx=4\n",
             "badlater.txt": "2x+3=11\n2x=\\frac{8\nx=4\n",
             "blank.inkml": '<ink xmlns="http://www.w3.org/2003/InkML"></ink>'}
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01binary")
    paths = [str(tmp_path / name) for name in [*files, "bin.txt"]]
    r = subprocess.run([sys.executable, "-m", "inkmath", "check", *paths], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    errors = r.stderr.strip().splitlines()
    assert len(errors) == len(paths) - 1, r.stderr  # every file but badlater.txt
    expected = {"empty.txt": "nothing to check", "one.txt": "only the problem", "words.txt": "words",
                "long.txt": "at most 200 lines", "badfirst.txt": "correct the problem", "bin.txt": "binary",
                "blank.inkml": "no <trace>"}
    for name, words in expected.items():
        (line,) = [e for e in errors if e.startswith(str(tmp_path / name) + ":")]
        assert words in line and any(w in line for w in ("write", "give", "correct")), line  # what to do
    assert "? " in r.stdout and "never closed" in r.stdout and "✓" in r.stdout
