"""Typed LaTeX everywhere: the Python API, `inkmath solve` (same JSON as recognition's answer), `recognize
--steps`, and `POST /api/solve` (422 with the position for malformed LaTeX)."""

from __future__ import annotations

import json
import warnings

import pytest

from inkmath import InkmathError
from inkmath.cli import main
from inkmath.equation.solve.typed import solve_latex
from inkmath.equation.core.latex_parse import parse_latex
from inkmath.equation.solve.answer import answer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_python_api_answers_like_recognition():
    result = solve_latex("2(x-1)=x+4", steps=True)
    assert set(result) == {"latex", "mathml", "answer"}
    assert result["latex"] == "2(x-1)=x+4" and "<math" in result["mathml"]
    plain = answer(parse_latex("2(x-1)=x+4"))
    assert {k: v for k, v in result["answer"].items() if not k.startswith("steps") and k != "elapsed_s"} == \
        {k: v for k, v in plain.items() if k != "elapsed_s"}
    assert result["answer"]["steps"][-1]["latex"] == "x = 6"
    with pytest.raises(InkmathError, match="position 3"):
        solve_latex("2x+}=7")


def test_solve_command_json_and_plot_file(tmp_path, capsys):
    svg = tmp_path / "graph.svg"
    assert main(["solve", "2x+1=9", "--steps", "--plot", str(svg), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["answer"]["text"] == "x = 4" and out["answer"]["plot_file"] == str(svg)
    assert [s["reason"] for s in out["answer"]["steps"]][1:] == ["subtract $1$ from both sides",
                                                                 "divide both sides by $2$"]
    assert svg.read_text().lstrip().startswith("<?xml")


def test_solve_command_text_and_errors(capsys):
    assert main(["solve", r"x+y=5 \\ x-y=1", "--steps"]) == 0
    text = capsys.readouterr().out
    assert "x = 3, y = 2" in text and "eliminate" in text
    assert main(["solve", "--", "-x=3"]) == 0 and "x = -3" in capsys.readouterr().out
    assert main(["solve", r"\frac{1}{"]) != 0
    assert "position" in capsys.readouterr().err


def test_recognize_accepts_steps_and_plot(capsys):
    import argparse

    from inkmath.cli.recognize import register

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    register(sub)
    args = parser.parse_args(["recognize", "a.inkml", "--steps", "--plot", "g.svg"])
    assert args.steps and str(args.plot) == "g.svg"


@pytest.fixture(scope="module")
def client():
    from inkmath.web.app import create_app

    return TestClient(create_app(symbol_weights="mnist", expression_weights="mnist"))


def test_api_solve(client):
    r = client.post("/api/solve", json={"latex": "2x+1=9", "steps": True, "plot": True})
    assert r.status_code == 200
    body = r.json()
    assert body["latex"] == "2x+1=9" and body["answer"]["text"] == "x = 4"
    assert body["answer"]["steps"][-1]["latex"] == "x = 4" and body["answer"]["plot"].lstrip().startswith("<?xml")
    r = client.post("/api/solve", json={"latex": "2x+1=9"})
    assert "steps" not in r.json()["answer"] and "plot" not in r.json()["answer"]


@pytest.mark.parametrize("body, status, fragment", [
    ({"latex": "2x+}=9"}, 422, "position 3"),
    ({"latex": ""}, 422, "empty"),
    ({"latex": "x" * 3000}, 422, "latex"),
    ({"latex": "x", "extra": 1}, 422, "extra"),
    ({"latex": r"\begin{cases}"}, 422, "position 0"),
])
def test_api_solve_malformed(client, body, status, fragment):
    r = client.post("/api/solve", json=body)
    assert r.status_code == status and fragment in r.json()["detail"]


def test_api_solve_wrong_content_type(client):
    r = client.post("/api/solve", content=b"latex=x", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and "application/json" in r.json()["detail"]


def test_api_expression_steps_flag(client):
    strokes = [[[8, 8], [92, 8], [35, 158]]]  # a seven, read by the mnist weights
    r = client.post("/api/expression", json={"strokes": strokes, "steps": True, "plot": True})
    assert r.status_code == 200
    ans = r.json()["answer"]
    assert "steps" in ans and "steps_reason" in ans and "plot" in ans and "plot_reason" in ans


def test_a_limit_approaching_its_own_variable_is_cannot_not_a_traceback():
    # read from a 2014 test file: SymPy raises NotImplementedError for z -> z
    from inkmath.equation.solve.typed import solve_latex

    answer = solve_latex(r"\lim_{z\rightarrow z} z")["answer"]
    assert answer["kind"] == "none" and "cannot evaluate this limit" in answer["text"]


def test_solve_command_text_shows_the_answers_notes(capsys):
    # The notes qualify the answer (JSON and the Python API have them); the text output dropped them.
    assert main(["solve", r"\sin x = a", "x^2=-4"]) == 0
    text = capsys.readouterr().out
    assert "  note: periodic solutions are given by their principal values only" in text
    assert "  note: no real solution; the solutions are complex" in text
