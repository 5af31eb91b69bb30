"""The results page is generated from result files only, the same bytes every time; the committed page is current."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import results_page  # noqa: E402
from common import markdown_tables  # noqa: E402

from inkmath.evaluation.results import (  # noqa: E402
    expressions_row, head_commit, source_commit, symbols_row, write_result,
)
from inkmath.weights import list_shipped_models  # noqa: E402


def test_result_file_has_the_agreed_fields(tmp_path):
    card = list_shipped_models()["mnist"]
    report = {"weights": "mnist", "dataset": "mnist:test", "n": 10000, "engine": "torch", "top1": 0.99641,
              "top3": 0.99995, "top5": 1.0, "macro_f1": 0.9963}
    path = write_result(tmp_path / "symbols-mnist.json", "symbols", "Symbol recognition",
                        "inkmath eval mnist mnist:test", "how", [symbols_row(report, card)])
    record = json.loads(path.read_text())
    assert {"table", "title", "command", "machine", "commit", "date", "how", "rows"} <= set(record)
    row = record["rows"][0]
    assert row["top-1"] == 0.9964 and row["parameters"] == card["parameters"] and 1 < row["MFLOPs"] < 1000
    assert record["machine"] and record["commit"]


def test_commits_name_the_checkout_and_mark_changed_sources(tmp_path):
    repo = tmp_path / "tree"
    (repo / "src" / "inkmath").mkdir(parents=True)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    (repo / "src" / "inkmath" / "a.py").write_text("x = 1\n")
    subprocess.run(git + ["add", "."], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "one"], check=True)
    head = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    (repo / "src" / "inkmath" / "a.py").write_text("x = 2\n")  # a tree's own changes are not marked by head_commit
    assert head_commit(repo / "src") == head
    assert head_commit(tmp_path) == "unknown"  # not a checkout
    assert source_commit().split("+")[0] == head_commit(Path(__file__).parent)


def test_expressions_row_names_the_set_and_input():
    res = {"expressions": 986, "exprate": 0.4615, "within1": 0.604, "within2": 0.693, "seg_precision": 0.937,
           "seg_recall": 0.957, "symbol_rec_rate": 0.89, "symbol_accuracy_gt_seg": 0.9209}
    row = expressions_row(res, "test")
    assert row["test set"] == "CROHME 2014 test" and row["input"] == "strokes" and row["read right"] == 455
    assert expressions_row({"expressions": 986, "exprate": 0.3631}, "wap")["input"] == "WAP offline images"


def test_markdown_tables_become_rows():
    text = "Intro\n\n| engine | requests/s | p99 ms |\n|---|---:|---:|\n| onnx | 69.4 | 1,204 |\n\nafter\n"
    assert markdown_tables(text) == [[{"engine": "onnx", "requests/s": 69.4, "p99 ms": 1204}]]


def make_results(folder: Path) -> None:
    rec = {"machine": "CPU X", "commit": "abc1234", "date": "2026-11-23T00:00:00Z", "how": "measured so"}
    files = {
        "expressions-3-test.json": {"table": "expressions", "title": "E", "command": "inkmath crohme-eval test",
                                    "rows": [{"test set": "CROHME 2014 test", "input": "strokes", "ExpRate": 0.4615}]},
        "symbols-mnist.json": {"table": "symbols", "title": "S", "command": "inkmath eval mnist mnist:test",
                               "rows": [{"weights": "mnist", "test set": "mnist:test", "top-1": 0.9964}]},
        "steps.json": {"table": "steps", "title": "Worked steps", "command": "python benchmarks/x.py",
                       "rows": [{"case": "3x+5=11", "steps": 3, "right": True}]},
    }
    for name, body in files.items():
        (folder / name).write_text(json.dumps({**rec, **body}))


def test_page_is_deterministic_and_renders_known_and_new_tables(tmp_path):
    make_results(tmp_path)
    records = results_page.load_results(tmp_path)
    cards = results_page.load_cards()
    first, second = results_page.page(records, cards), results_page.page(results_page.load_results(tmp_path), cards)
    assert first == second
    assert first.index("## Symbols") < first.index("## Expressions") < first.index("## Steps")
    assert "46.15 %" in first
    assert "| mnist | mnist:test | 0.9964 | `inkmath eval mnist mnist:test` | CPU X | `abc1234` |" in first
    assert "| 3x+5=11 | 3 | yes |" in first and "How it is measured: measured so" in first
    assert "## Speed" in first and "Not measured yet" in first
    block = results_page.headline(records)
    assert "ExpRate 46.15 %" in block and "top-1 0.9964" in block


def test_check_fails_on_a_stale_page_and_the_generator_writes_the_same_bytes_twice(tmp_path):
    make_results(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{results_page.BEGIN}\nold\n{results_page.END}\n\nrest\n")
    args = ["--results", str(tmp_path), "--out", str(tmp_path / "results.md"), "--readme", str(readme)]
    assert results_page.main(args + ["--check"]) == 1
    assert results_page.main(args) == 0
    page, text = (tmp_path / "results.md").read_bytes(), readme.read_bytes()
    assert results_page.main(args) == 0 and results_page.main(args + ["--check"]) == 0
    assert (tmp_path / "results.md").read_bytes() == page and readme.read_bytes() == text
    assert text.endswith(b"\n\nrest\n") and b"old" not in text


def test_committed_page_is_current():
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "results_page.py"), "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr + " (result files changed: run `python benchmarks/results_page.py`)"


def test_a_result_files_plot_is_shown_under_its_table(tmp_path):
    write_result(tmp_path / "growth.json", "speed", "Time against size", "python b.py", "how", [{"n": 1, "s": 0.5}],
                 plot="growth.png")
    text = results_page.page(results_page.load_results(tmp_path), [])
    table_end = text.index("| 1 | 0.5 |")
    assert text.index("![Time against size](../benchmarks/results/growth.png)") > table_end
