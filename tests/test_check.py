"""The answer checker: worked solutions checked line by line (inkmath.equation.solve.check), the seeded generator of
chains (inkmath.equation.synth.chains), `inkmath.check` and `inkmath check`."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

import inkmath
from inkmath.cli import main
from inkmath.equation.solve.check import SURE_READING, LineReading, check_lines
from inkmath.equation.solve.check.chain import problem_repairs
from inkmath.equation.solve.check.lines import pieces
from inkmath.errors import InkmathError


def verdicts(lines) -> list[str]:
    return [line.verdict for line in check_lines(lines).lines]


# ---------------------------------------------------------------- right solutions, usual and unusual


@pytest.mark.parametrize("lines", [
    ["2x+3=11", "2x=8", "x=4"],
    ["2x+3=11", "2x=11-3", "x=\\frac{8}{2}=4"],                          # x = 8/2 = 5 on one line
    ["2x+3=11", "2x=8 ; x=4"],                                           # two steps on a line
    ["2x+3=11", "2x=8 \\Rightarrow x=4"],
    ["2x+3=11", "2x=8 => x=4"],
    ["2x+3=11", "3+2x=11", "4x+6=22", "4x=16", "4=x"],                   # reordered, both sides doubled, 4 = x
    ["2x+3=11", "2x=8", "2x=8", "\\boxed{x=4}"],                         # a restated line, a boxed answer
    ["2x+3=11", "2x=8", "\\therefore x=4"],
    ["2x+3=11", "2x=8", "∴ x = 4"],
    ["Solve: 2x+3=11", "2x = 8", "x = 4"],
    ["x^{2}-5x+6=0", "(x-2)(x-3)=0", "x_1=2", "x_2=3"],                  # roots on lines of their own
    ["x^{2}-5x+6=0", "x=\\frac{5 \\pm \\sqrt{25-24}}{2}", "x=2 \\text{ or } x=3"],
    ["x^{2}-5x+6=0", "\\Delta = 25 - 24 = 1", "x = 2, x = 3"],          # a side calculation, roots with a comma
    ["-2x+4 \\geq 10", "-2x \\geq 6", "x \\leq -3", "x \\in (-\\infty, -3]"],
    ["x^{2} < 4", "-2 < x < 2"],
    ["x+y=5 \\\\ x-y=1", "2x = 6", "x = 3", "y = 2"],                    # a system's unknowns one by one
    ["x+y=5 \\\\ x-y=1", "x+y=5 \\\\ 2y=4", "x=3, y=2"],
    ["x+y=5 \\\\ x-y=1", "(x, y) = (3, 2)"],
    ["\\frac{1}{2}+\\frac{1}{3}", "=\\frac{3}{6}+\\frac{2}{6}", "=\\frac{5}{6}"],
    ["Simplify (x+3)^{2}-x^{2}", "(x+3)^{2} = x^{2}+6x+9", "x^{2}+6x+9-x^{2}", "6x+9"],   # an identity aside
    ["\\frac{3}{x-1}=1", "3 = x - 1", "x = 4"],                          # the denominator's domain carried
    ["|2x-1|=5", "2x-1=5 \\text{ or } 2x-1=-5", "x=3 \\text{ or } x=-2"],
    ["3x+8=-10", "\\boxed{3 x = -18 ; x = -6}"],                       # a box around two steps
    ["x^{4}-5x^{2}+4=0", "u^{2}-5u+4=0, u=x^{2}", "(u-1)(u-4)=0", "x^{2}=1 \\text{ or } x^{2}=4",
     "x=\\pm 1 \\text{ or } x=\\pm 2"],                                      # u = x^2 written once, then carried
    ["\\ln x=1", "x=e^{1}", "\\therefore x=e"],                          # a bare e after ln x is Euler's number
])
def test_right_solutions_have_no_wrong_line(lines):
    result = check_lines(lines)
    assert result.first_wrong is None, [(line.latex, line.verdict, line.reason) for line in result.lines]
    assert result.lines[0].verdict == "given"
    assert all(line.verdict == "ok" for line in result.lines[1:])
    assert result.answer_right is True


def test_a_whole_solution_on_one_line():
    result = check_lines(["2x+3>11 \\Rightarrow 2x>8 \\Rightarrow x>4"])
    assert result.lines[0].verdict == "given" and result.first_wrong is None and result.answer_right is True
    assert check_lines(["2x+3>11 \\Rightarrow 2x>14 \\Rightarrow x>7"]).first_wrong == 0


@pytest.mark.parametrize("rejected, verdict", [("x=2 \\text{ is rejected}", "ok"), ("x=2 (extraneous)", "ok"),
                                               ("x=5 \\text{ is not a solution}", "wrong")])
def test_a_value_rejected_in_words(rejected, verdict):
    result = check_lines(["\\sqrt{x-1}=x-3", "x-1=x^{2}-6x+9", "x=2 \\text{ or } x=5", rejected])
    assert result.lines[3].verdict == verdict, result.lines[3].reason


def test_squaring_may_add_a_root_that_the_answer_drops():
    lines = ["\\sqrt{x+3}=x+1", "x+3=x^{2}+2x+1", "(x+2)(x-1)=0", "x=-2 \\text{ or } x=1", "x=1"]
    result = check_lines(lines)
    assert [line.verdict for line in result.lines] == ["given", "ok", "ok", "ok", "ok"]
    assert "squaring" in result.lines[1].reason and "drops" in result.lines[4].reason
    assert result.answer_right is True


# ---------------------------------------------------------------- the usual mistakes


@pytest.mark.parametrize("lines, wrong, mistake", [
    (["2x+3=11", "2x=14", "x=7"], 1, "sign_not_changed"),
    (["-2x+4 \\geq 10", "-2x \\geq 6", "x \\geq -3"], 2, "inequality_not_reversed"),
    (["(x+3)^{2}=25", "x^{2}+9=25", "x=\\pm 4"], 1, "square_of_sum"),
    (["5-(x-3)=2", "5-x-3=2", "x=0"], 1, "minus_bracket"),
    (["2(x+3)=14", "2x+3=14", "2x=11", "x=\\frac{11}{2}"], 1, "distribute_first_only"),
    (["\\frac{x}{3}+\\frac{x}{5}=16", "5x+3x=16", "x=2"], 1, "dropped_denominator"),
    (["2x+3=11", "2x=8", "x=16"], 2, "division"),
    (["2x+3=11", "2x=8", "x=5"], 2, "arithmetic"),
    (["x^{2}-5x+6=0", "(x-2)(x-3)=0", "x=-2 \\text{ or } x=-3"], 2, "wrong_root"),
    (["x^{2}=9", "x=3"], 1, "lost_root"),
    (["\\frac{1}{2}+\\frac{1}{3}", "=\\frac{2}{5}"], 1, "fraction_rule"),
    (["3^{2}\\cdot 3^{3}", "3^{6}"], 1, "exponent_rule"),
    (["\\sqrt{x+3}=x+1", "x+3=x^{2}+2x+1", "(x+2)(x-1)=0", "x=-2 \\text{ or } x=1"], 3, "extraneous_root"),
    (["\\frac{x}{x-2}+1=\\frac{2}{x-2}", "x+x-2=2", "2x=4", "x=2"], 3, "excluded_value"),
    (["x+y=5 \\\\ x-y=1", "x+y=5 \\\\ 2y=6", "y=3, x=2"], 1, "arithmetic"),
])
def test_each_usual_mistake_is_found_and_named(lines, wrong, mistake):
    result = check_lines(lines)
    found = result.lines[wrong]
    assert result.first_wrong == wrong, [(line.latex, line.verdict, line.reason) for line in result.lines]
    assert found.verdict == "wrong" and found.reason and found.mistake == mistake, (found.reason, found.mistake)
    assert result.answer_right is False
    assert result.next_step and result.next_step["latex"] and result.next_step["reason"]


def test_the_next_step_is_the_solvers_own_from_the_line_before():
    result = check_lines(["2x+3=11", "2x=14", "x=7"])
    assert result.next_step["latex"].replace(" ", "") == "2x=8"
    assert "subtract" in result.next_step["reason"]


@pytest.mark.parametrize("lines", [
    ["x^{2}+1 > 0", "x > 3"],             # every number, then an interval: not the same (no end at infinity is near)
    ["x^{2} > 4", "x > 2"],
    ["x+5=3", "x = -2", "x = 2"],
])
def test_a_change_of_solutions_is_never_ok(lines):
    assert check_lines(lines).first_wrong is not None


def test_a_number_written_twice_is_corrected_in_one_place():
    line = check_lines(["x+5=3^{1}", "x+5=5"]).lines[1]
    assert line.mistake == "arithmetic" and "$5$ should be $3$" in line.reason


def test_a_step_after_a_wrong_one_is_judged_against_it():
    """Lines after a mistake follow from the wrong line: only the first wrong line is accused."""
    assert verdicts(["2x+3=11", "2x=14", "x=7"]) == ["given", "wrong", "ok"]


# ---------------------------------------------------------------- readings that are not sure


def test_a_misreading_with_an_alternative_is_unsure_and_names_it():
    low = LineReading("2x=9", confidence=0.55, alternatives=[("2x=8", 0.4)], box=[0, 10, 80, 30])
    result = check_lines(["2x+3=11", low, "x=4"])
    line = result.lines[1]
    assert line.verdict == "unsure" and line.alternative == "2x=8" and "2x=8" in line.reason
    assert line.box == [0.0, 10.0, 80.0, 30.0] and line.confidence == pytest.approx(0.55)
    assert result.first_wrong is None and result.lines[2].verdict == "ok"  # the chain goes on from 2x = 8


def test_a_misread_line_before_makes_the_next_unsure():
    before = LineReading("2x=8", confidence=0.5, alternatives=[("2x=6", 0.45)])
    result = check_lines(["2x+3=9", before, "x=3"])
    assert result.lines[1].verdict == "unsure"  # 2x = 8 does not follow from 2x + 3 = 9; 2x = 6 does
    assert result.lines[2].verdict in ("ok", "unsure") and result.first_wrong is None


def test_a_misread_problem_is_read_the_other_way_for_the_rest():
    problem = LineReading("2x+3=17", confidence=0.5, alternatives=[("2x+3=11", 0.45)])
    result = check_lines([problem, "2x=8", "x=4"])
    assert result.lines[0].verdict == "given" and result.lines[0].alternative == "2x+3=11"
    assert [line.verdict for line in result.lines[1:]] == ["unsure", "ok"]
    assert result.first_wrong is None and result.answer_right is True


def test_roots_on_lines_of_their_own_without_names():
    assert verdicts(["x^{2}-4=0", "x^{2}=4", "x=2", "x=-2"]) == ["given", "ok", "ok", "ok"]
    result = check_lines(["x^{2}-4=0", "x^{2}=4", "x=2"])
    assert result.first_wrong == 2 and result.lines[2].mistake == "lost_root" and "\\pm" in result.lines[2].reason


def test_a_sure_reading_is_accused_and_a_low_one_never():
    sure = LineReading("2x=9", confidence=SURE_READING + 0.1, alternatives=[("2x=8", 0.05)])
    assert check_lines(["2x+3=11", sure]).lines[1].verdict == "wrong"
    unsure = LineReading("2x=9", confidence=SURE_READING - 0.2)
    result = check_lines(["2x+3=11", unsure])
    assert result.lines[1].verdict == "unsure" and result.first_wrong is None


def test_a_step_judged_against_a_problem_nothing_confirmed_is_not_accused():
    """A problem read under SURE_READING is confirmed only by a step that follows from it: a step judged against it
    after lines that could not be read, and an answer that does not solve it, are unsure; read for sure, wrong."""
    doubted = LineReading("2x+3=17", confidence=SURE_READING - 0.2)
    result = check_lines([doubted, "2x=\\frac{8", "x^{2}=16", "x=4"])  # 2x + 3 = 11 misread; line 2 unreadable
    assert [line.verdict for line in result.lines] == ["given", "unsure", "unsure", "unsure"]
    assert result.first_wrong is None and "problem's reading is not sure" in result.lines[2].reason
    assert "no step has confirmed it" in result.lines[3].reason
    sure = LineReading("2x+3=17", confidence=SURE_READING + 0.1)
    assert check_lines([sure, "2x=\\frac{8", "x^{2}=16", "x=4"]).first_wrong == 2
    # the steps follow each other but not the problem as read: the answer is not accused against it
    problem = LineReading("x^{2}-5x+6=0", confidence=SURE_READING - 0.2)
    result = check_lines([problem, "(x-1)(x-4)=0", "x=1,x=4"])
    assert [line.verdict for line in result.lines] == ["given", "unsure", "unsure"] and result.first_wrong is None
    assert "does not solve the original equation" in result.lines[2].reason
    assert check_lines(["x^{2}-5x+6=0", "x^{2}-5x+6=0", "x=1,x=4"]).first_wrong == 2  # typed: sure



def test_a_problem_is_confirmed_by_a_step_that_follows_in_another_reading():
    """A step that follows from the problem only in one of its own other readings (or in one of the problem's)
    still confirms the problem: a wrong answer after it is accused."""
    problem = LineReading("\\frac{x^{2}-25}{x-5}", confidence=SURE_READING - 0.4)
    misread = LineReading("\\frac{(x-5)(x+5)}{n-5}", confidence=SURE_READING - 0.1,
                          alternatives=[("\\frac{(x-5)(x+5)}{x-5}", 0.02)])
    result = check_lines([problem, misread, LineReading("x+6", confidence=0.96)])
    assert [line.verdict for line in result.lines] == ["given", "unsure", "wrong"] and result.first_wrong == 2
    problem = LineReading("8(5+1)-4", confidence=SURE_READING - 0.2, alternatives=[("8(5+7)-4", 0.01)])
    result = check_lines([problem, LineReading("8\\times 12-4", 0.96), LineReading("93", 0.95)])
    assert result.first_wrong == 2 and "8(5+7)-4" in result.lines[0].reason


@pytest.mark.parametrize("problem, later, repaired", [
    ("\\frac{x}{4}+\\frac{x}{b}=-30", ["5x=-30"], ["\\frac{x}{4}+\\frac{x}{6}=-30"]),
    ("X+\\frac{24}{x}=-10", ["x^{2}+24=-10x"], ["x+\\frac{24}{x}=-10"]),
    ("\\frac{7}{5}x\\frac{2}{8}", ["\\frac{14}{40}"], ["\\frac{7}{5}\\times \\frac{2}{8}"]),
    ("2x+3=11", ["2x=8"], []),  # every letter is in a later line
])
def test_a_problems_stray_letters_are_read_as_what_they_look_like(problem, later, repaired):
    read = [LineReading(line, 0.9) for line in later]
    assert problem_repairs(LineReading(problem, SURE_READING - 0.2), read) == repaired
    assert problem_repairs(LineReading(problem, 1.0), read) == []  # typed: as written


def test_a_problem_with_a_stray_letter_is_checked_as_repaired():
    """b for 6 in the problem, no later line with a b: the first step is judged against the problem as repaired,
    and the problem's line says how it was checked."""
    problem = LineReading("\\frac{x}{4}+\\frac{x}{b}=-30", confidence=SURE_READING - 0.15)
    result = check_lines([problem, LineReading("5x=-30", 0.86), LineReading("x=-6", 0.85)])
    assert result.first_wrong == 1 and result.lines[1].mistake is not None
    assert "\\frac{x}{6}" in result.lines[0].reason and "check the reading" in result.lines[0].reason


# ---------------------------------------------------------------- what students write, taken apart


def test_pieces_split_steps_and_marks():
    assert [p.text for p in pieces("2x=10 ; x=5")] == ["2 x = 1 0", "x = 5"]
    assert [p.final for p in pieces("2x=10 \\therefore \\boxed{x=5}")] == [False, True]
    assert [p.text for p in pieces("x=2 or x=3")] == ["x = 2 \\lor x = 3"]
    assert [p.text for p in pieces("\\text{no real solution}")] == ["\\emptyset"]
    assert len(pieces("x^{2}+1 = 0 \\; \\Rightarrow \\; \\text{no solution}")) == 2


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("lines, message", [
    ([], "nothing to check"),
    (["2x+3=11"], "only the problem"),
    (["x+1=2"] + ["x=1"] * 499, "at most"),
    (["I think this is right", "x=4"], "words"),
    (["2x+=", "x=4"], "cannot be checked"),
])
def test_what_cannot_be_checked_is_a_clear_error(lines, message):
    with pytest.raises(InkmathError, match=message):
        check_lines(lines)


def test_lines_that_cannot_be_read_are_unsure_and_the_chain_goes_on():
    result = check_lines(["2x+3=11", "2x=\\frac{8", "hello world again", "x=4"])
    assert [line.verdict for line in result.lines] == ["given", "unsure", "unsure", "ok"]
    assert "never closed" in result.lines[1].reason and "words" in result.lines[2].reason


def test_a_nasty_line_does_not_hang_the_check():
    start = time.monotonic()
    result = check_lines(["x^{2}=4", "\\sin(\\sin(\\sin(x)))+x^{7}e^{x}=\\frac{1}{3}", "x=2"], timeout=3)
    assert time.monotonic() - start < 30
    assert result.lines[1].verdict in ("unsure", "wrong")


def test_a_step_past_the_time_limit_is_unsure_and_the_rest_is_checked():
    """A worker that runs out of time is killed; the check is redone here with that step unsure."""
    start = time.monotonic()
    result = check_lines(["x^{2}=4", "x^{11}+10^{200}x^{3}-7x=1", "x=2 \\text{ or } x=-2"], timeout=1.5)
    assert time.monotonic() - start < 60
    assert result.lines[1].verdict == "unsure" and "time" in result.lines[1].reason
    assert result.lines[2].verdict == "ok" and result.answer_right is True


# ---------------------------------------------------------------- the generator


def test_the_chain_generator_is_seeded_and_records_its_mistakes():
    from inkmath.equation.synth.chains import worked_chains

    first, again = worked_chains("val", 10), worked_chains("val", 10)
    assert first == again
    assert worked_chains("test", 3) != first[:3]
    assert any(c.wrong_line is not None for c in first) and any(c.wrong_line is None for c in first)
    for chain in first:
        assert len(chain.lines) >= 2
        assert (chain.wrong_line is None) == (chain.error is None)
        if chain.wrong_line is not None:
            assert 1 <= chain.wrong_line < len(chain.lines)


# ---------------------------------------------------------------- the API and the command


def test_the_api_checks_a_list_or_a_text_file(tmp_path):
    result = inkmath.check(["2x+3=11", "2x=14", "x=7"])
    assert result.first_wrong == 1 and result.to_dict()["steps"][1]["verdict"] == "wrong"
    path = tmp_path / "solution.txt"
    path.write_text("2x+3=11\n\n2x=8\nx=4\n", encoding="utf-8")
    assert inkmath.check(path).first_wrong is None
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(InkmathError, match="empty.txt: nothing to check"):
        inkmath.check(tmp_path / "empty.txt")
    (tmp_path / "ink.inkml").write_bytes(b"x")  # not InkML: said once, naming the file
    with pytest.raises(InkmathError, match="ink.inkml"):
        inkmath.check(tmp_path / "ink.inkml")
    (tmp_path / "page.png").write_bytes(b"x")  # not an image: said once, naming the file
    with pytest.raises(InkmathError, match="page.png"):
        inkmath.check(tmp_path / "page.png")
    with pytest.raises(InkmathError):
        inkmath.check(42)


def test_check_json_shape(tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text("x^{2}-5x+6=0\n(x-2)(x-3)=0\nx=2 \\text{ or } x=3\n")
    bad = tmp_path / "bad.txt"
    bad.write_text("2x+3=11\n2x=14\nx=7\n")
    one = tmp_path / "one.txt"
    one.write_text("2x+3=11\n")
    assert main(["check", str(good), str(bad), str(one), "--json"]) == 1
    out = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [o["file"] for o in out] == [str(good), str(bad), str(one)]
    assert set(out[0]) >= {"file", "steps", "first_wrong", "answer_right", "next_step"}
    assert set(out[0]["steps"][0]) >= {"latex", "verdict", "reason", "confidence", "box"}
    assert out[0]["first_wrong"] is None and out[0]["answer_right"] is True and out[0]["next_step"] is None
    assert [s["verdict"] for s in out[1]["steps"]] == ["given", "wrong", "ok"]
    assert out[1]["first_wrong"] == 1 and out[1]["answer_right"] is False
    assert set(out[1]["next_step"]) == {"latex", "reason"}
    assert "error" in out[2] and "only the problem" in out[2]["error"]


def test_check_command_without_json_and_bad_files(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("2x+3=11\n2x=14\nx=7\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = subprocess.run([sys.executable, "-m", "inkmath", "check", str(bad), str(empty), str(tmp_path / "no.txt")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1
    assert "✗" in r.stdout and "✓" in r.stdout and "next step" in r.stdout
    assert "Traceback" not in r.stderr
    assert "empty.txt: nothing to check" in r.stderr and "no.txt: no such file" in r.stderr


def test_check_is_a_registered_command():
    from inkmath.cli import COMMANDS, build_parser

    assert COMMANDS["check"] == "inkmath.cli.check"
    args = build_parser("check").parse_args(["check", "a.txt", "--json"])
    assert args.command == "check" and args.json and [str(f) for f in args.files] == ["a.txt"]


def test_a_worker_runs_only_the_solvers_functions():
    from inkmath.equation.solve.pool import WorkerError, run_call_in_worker

    with pytest.raises(WorkerError, match="functions of inkmath.equation.solve"):
        run_call_in_worker("os:system", "true", 10)


@pytest.mark.slow
def test_a_photo_of_worked_lines_is_read_by_the_page_reader_and_checked(tmp_path, capsys):
    """A phone photo of three written lines (the project's synthetic handwriting on a sheet on a table): each line is
    read by the page reader with its confidence and box, and the sign error of line 2 is found; the correct chain
    has no wrong step. The CLI prints the same as JSON."""
    import cv2
    from test_page import _photo, _sheet

    for lines, first_wrong in ((("2x+3=11", "2x=8", "x=4"), None), (("2x+3=11", "2x=14", "x=7"), 1)):
        sheet = _sheet([(text, 120, 250 + 170 * k) for k, text in enumerate(lines)])
        path = tmp_path / f"{lines[1]}.png"
        cv2.imwrite(str(path), cv2.cvtColor(_photo(sheet), cv2.COLOR_RGB2BGR))
        result = inkmath.check(path).to_dict()
        assert [s["latex"] for s in result["steps"]] == list(lines)
        assert all(len(s["box"]) == 4 and 0 < s["confidence"] <= 1 for s in result["steps"])
        assert result["first_wrong"] == first_wrong
        if first_wrong is not None:
            assert result["steps"][1]["verdict"] == "wrong" and "sign" in result["steps"][1]["reason"]
    from inkmath.cli import main

    assert main(["check", str(tmp_path / "2x=14.png"), "--json"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert row["first_wrong"] == 1 and row["file"].endswith("2x=14.png")
