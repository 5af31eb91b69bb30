"""Many typed problems in one run: `solve_many` and `inkmath solve LATEX... | - | --file F` (one JSON line per
problem, a malformed one reported in its place), and the start-up of a one-problem `inkmath solve` (no NumPy, no
SymPy in the calling process, the worker launched first)."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

import pytest

from inkmath.cli import COMMAND_MODULES, COMMANDS, main
from inkmath.equation.solve import pool as solver_pool
from inkmath.equation.solve.typed import solve_latex, solve_many


def _without_time(answer: dict) -> dict:
    return {k: v for k, v in answer.items() if k != "elapsed_s"}


def test_solve_many_keeps_order_and_reports_malformed_in_place():
    problems = ["2x+1=7", r"\frac{1}{", "x^2-5x+6=0", "2x+1<7", "x+y=3 \\\\ x-y=1"]
    solved = list(solve_many(problems, steps=True))
    assert [s.index for s in solved] == list(range(5)) and [s.latex for s in solved] == problems
    assert solved[1].result is None and "position" in solved[1].error
    assert solved[1].to_dict() == {"latex": r"\frac{1}{", "error": solved[1].error}
    texts = [s.result["answer"]["text"] for s in solved if s.error is None]
    assert texts == ["x = 3", "x = 2 or x = 3", "x ∈ (-∞, 3)", "x = 2, y = 1"]
    for s in solved:  # the same answers as one call each
        if s.error is None:
            alone = solve_latex(s.latex, steps=True)
            assert _without_time(s.result["answer"]) == _without_time(alone["answer"])


def test_solve_many_survives_a_hostile_problem():
    solved = list(solve_many(["x^{x^{x^{x}}}=2", "2x+1=9"], steps=True, timeout=1.0, in_process=False))
    assert solved[0].result["answer"]["kind"] == "none" and "did not finish" in solved[0].result["answer"]["reason"]
    assert solved[1].result["answer"]["text"] == "x = 4"  # a fresh worker answers the next one


def test_in_worker_gives_the_same_answer_as_in_process():
    for latex in ["2x+1=7", "2x+1<7", r"\sin x = \frac{1}{2}", r"\frac{x^2-1}{x-1}", "3+"]:
        try:
            here = solve_latex(latex, steps=True)
        except Exception as exc:  # malformed: the same error both ways
            with pytest.raises(type(exc)):
                solve_latex(latex, steps=True, in_process=False)
            continue
        there = solve_latex(latex, steps=True, in_process=False)
        assert _without_time(there["answer"]) == _without_time(here["answer"])


def test_a_worker_started_without_matplotlib_still_draws_a_graph():
    solver_pool.stop_workers()
    solver_pool.launch_workers(1, plotting=False)
    first = solve_latex("2x+1<7", steps=True, in_process=False)  # served by that worker, no graph
    assert "plot" not in first["answer"]
    drawn = solve_latex("2x+1<7", plot=True)  # the same worker imports matplotlib first, outside the time limit
    assert drawn["answer"]["plot"].lstrip().startswith("<?xml"), drawn["answer"].get("plot_reason")


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_command_several_arguments_json(capsys):
    assert main(["solve", "--json", "--steps", "2x+1=7", r"\frac{1}{", "x^2=4"]) == 1  # one was malformed
    captured = capsys.readouterr()
    lines = _json_lines(captured.out)
    assert len(lines) == 3
    assert lines[0]["answer"]["text"] == "x = 3" and lines[0]["answer"]["steps"]
    assert set(lines[1]) == {"latex", "error"} and lines[1]["latex"] == r"\frac{1}{" and "position" in lines[1]["error"]
    assert lines[2]["answer"]["text"] == "x = -2 or x = 2"
    assert captured.err.strip().splitlines() == [f"\\frac{{1}}{{: {lines[1]['error']}"]


def test_command_reads_stdin_and_files_with_line_numbers(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO("2x+1=7\n\n  x-1=\\frac{\n3+4\n"))
    problems = tmp_path / "problems.txt"
    problems.write_text("x^2=9\n\n\n5x=10\n", encoding="utf-8")
    assert main(["solve", "--json", "2+2", "-", "--file", str(problems)]) == 1
    captured = capsys.readouterr()
    lines = _json_lines(captured.out)
    assert [line.get("answer", {}).get("text") for line in lines] == ["4", "x = 3", None, "7", "x = -3 or x = 3", "x = 2"]
    assert lines[2]["latex"] == "x-1=\\frac{" and "error" in lines[2]
    assert captured.err.startswith("stdin:3: ")  # the blank line counted: the place a person finds in the file
    assert main(["solve", "--file", str(problems)]) == 0
    text = capsys.readouterr().out
    assert "x = -3 or x = 3" in text and "x = 2" in text


def test_command_usage_errors(tmp_path, monkeypatch, capsys):
    assert main(["solve"]) == 2 and "nothing to solve" in capsys.readouterr().err
    assert main(["solve", "--json", "--file", str(tmp_path / "missing.txt")]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "missing.txt: no such file" in captured.err
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n\n"))
    assert main(["solve", "-"]) == 2 and "only blank lines" in capsys.readouterr().err
    assert main(["solve", "--file", str(tmp_path)]) == 2  # it said "no such file" of a folder
    assert f"{tmp_path}: is a folder; --file takes a text file" in capsys.readouterr().err


def test_an_empty_argument_is_named_in_its_error_line(capsys):
    """`inkmath solve "" 2x=4`: the error line began with ": " (the place of an argument is its LaTeX, here none)."""
    assert main(["solve", "", "2x=4"]) == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == ['"": the LaTeX is empty; type an expression such as 2x+1=7']
    assert "x = 2" in captured.out


def test_command_numbers_the_graphs_of_several_problems(tmp_path, capsys):
    svg = tmp_path / "graph.svg"
    assert main(["solve", "--json", "--plot", str(svg), "2x+1=7", "x^2=4"]) == 0
    lines = _json_lines(capsys.readouterr().out)
    assert [line["answer"]["plot_file"] for line in lines] == [str(tmp_path / "graph-1.svg"),
                                                                str(tmp_path / "graph-2.svg")]
    assert (tmp_path / "graph-2.svg").read_text().lstrip().startswith("<?xml") and not svg.exists()


def test_one_problem_from_a_file_gets_a_numbered_graph_as_the_help_says(tmp_path, capsys):
    """A problem read from - or --file is solved as it is read, before the command knows whether more follow: its
    graph is FILE-1.svg even when it is the only one. The help and the README said so only of several problems."""
    import argparse

    problems = tmp_path / "one.txt"
    problems.write_text("x^2=4\n", encoding="utf-8")
    svg = tmp_path / "graph.svg"
    assert main(["solve", "--file", str(problems), "--plot", str(svg)]) == 0
    assert "graph written to" in capsys.readouterr().out
    assert (tmp_path / "graph-1.svg").exists() and not svg.exists()
    parser = argparse.ArgumentParser()
    from inkmath.cli import recognize as recognize_cli

    recognize_cli.register(parser.add_subparsers())
    solve = parser._subparsers._group_actions[0].choices["solve"]
    plot = next(a for a in solve._actions if "--plot" in a.option_strings)
    assert "with several problems, or with - or --file, FILE-1.svg" in plot.help


def test_every_command_is_mapped_to_the_module_that_registers_it():
    found = {}
    for module in COMMAND_MODULES:
        sub = argparse.ArgumentParser().add_subparsers()
        __import__(module, fromlist=["register"]).register(sub)
        found.update({name: module for name in sub.choices})
    assert found == COMMANDS


@pytest.mark.parametrize("latex", ["2x+1=7", "2x+1<7"])
def test_one_problem_command_leaves_numpy_and_sympy_to_the_worker(latex):
    code = ("import sys, json; from inkmath.cli import main; code = main(['solve', '--json', '--steps', '--', "
            f"{latex!r}]); print(json.dumps(sorted(m for m in ('numpy', 'sympy', 'yaml', 'torch', 'matplotlib') "
            "if m in sys.modules))); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer_line, modules_line = done.stdout.strip().splitlines()
    assert json.loads(answer_line)["answer"]["steps"] and json.loads(modules_line) == []
