"""benchmarks/page_losses.py: what a page reading lost against the same expression read alone."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import page_losses  # noqa: E402


def test_symbols_are_the_ink_not_the_structure():
    assert page_losses.symbols(r"\frac{a}{b}") == ["\\frac", "a", "b"]
    assert page_losses.symbols(r"\sqrt[3]{a}") == ["\\sqrt", "3", "a"]
    assert page_losses.symbols(r"x^{2}_{i}") == ["x", "i", "2"]
    assert page_losses.symbols(r"[a]") == ["[", "a", "]"]


def test_loss_kinds():
    assert page_losses.loss_kind(None, "x+1") == "not found"
    assert page_losses.loss_kind(r"\sqrt{a}", r"\sqrt[3]{a}") == "fewer symbols"  # the index lost
    assert page_losses.loss_kind(r"\tan .x", r"\tan x") == "more symbols"  # a stray dot
    assert page_losses.loss_kind("S=o", "S=0") == "symbol misread"
    assert page_losses.loss_kind("x2", "x^{2}") == "layout"


def _row(file, blur, truths, preds):
    return {"file": file, "info": {"blur": blur, "ink": "blue", "paper": "plain"},
            "truth": [{"id": i, "latex": t, "box": [0, 40 * k, 100, 40 * k + 30]} for k, (i, t) in enumerate(truths)],
            "preds": [{"latex": p, "box": [0, 40 * k, 100, 40 * k + 30]} for k, p in enumerate(preds)]}


def test_losses_by_condition_and_kind(tmp_path, capsys):
    rows = [_row("a.jpg", 1.0, [("e1", "x+1"), ("e2", "S=0")], ["x+1", "S=o"]),
            _row("b.jpg", 0.2, [("e3", r"\sqrt[3]{a}"), ("e4", "y")], [r"\sqrt{a}", "y"])]
    alone = {"e1": "x+1", "e2": "S=0", "e3": r"\sqrt[3]{a}", "e4": "z"}
    res = page_losses.losses(rows, alone)
    assert res["conditions"]["all"] == {"expressions": 4, "page": 0.5, "alone": 0.75, "ratio": 0.6667}
    assert res["conditions"]["blurred"]["page"] == 0.5 and res["conditions"]["sharp"]["alone"] == 0.5
    assert res["lost"]["symbol misread"] == {"blurred": 1, "sharp": 0}
    assert res["lost"]["fewer symbols"] == {"blurred": 0, "sharp": 1}
    assert res["gained"] == 1  # "y": right on the page, wrong alone
    other = [_row("a.jpg", 1.0, [("e1", "x+1"), ("e2", "S=0")], ["x+1", "S=0"])]
    assert page_losses.versus(rows, other) == (0, 1)
    d, a = tmp_path / "d.jsonl", tmp_path / "alone.json"
    d.write_text("".join(json.dumps(r) + "\n" for r in rows))
    a.write_text(json.dumps(alone))
    assert page_losses.main(["--details", str(d), "--alone", str(a)]) == 0
    out = capsys.readouterr().out
    assert "wrong on the page, right alone: 2" in out and "symbol misread     1  (blurred 1, sharp 0)" in out
