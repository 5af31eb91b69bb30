"""``inkmath report``: every figure is in the HTML, and its tables agree with ``inkmath eval --json``."""

from __future__ import annotations

import base64
import html as htmllib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from inkmath import InkmathError
from inkmath.cli import main as cli_main

from conftest import SHARED_DATA, has_shared, shapes

FIG_RE = re.compile(r'<img id="fig-([a-z_]+)" alt="[^"]*" src="data:image/png;base64,([A-Za-z0-9+/=]+)">')
ROW_RE = re.compile(r'<tr data-class="([^"]*)">(.*?)</tr>')
CELL_RE = re.compile(r"<td[^>]*>(.*?)</td>")


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> tuple[Path, str]:
    """A seed-cnn trained for two epochs on a four-class folder set the test writes; (run folder, test spec)."""
    from inkmath.training.config import make_config
    from inkmath.training.loop import fit

    base = tmp_path_factory.mktemp("report")
    root = base / "symbols"
    x, y = shapes(30, size=40, seed=3)
    for i, (im, c) in enumerate(zip(x, y)):
        (root / ["bar", "minus", "o", "times"][c]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(255 - im).save(root / ["bar", "minus", "o", "times"][c] / f"{i:04d}.png")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("INKMATH_CACHE", str(base / "cache"))
        cfg = make_config(None, {"dataset": f"folder:{root}:split=train", "val": f"folder:{root}:split=val",
                                 "model": "seed-cnn", "epochs": 2, "batch_size": 16, "lr": 3e-3, "threads": 1,
                                 "checkpoint_seconds": 0, "log_every": 1, "out": str(base / "run")})
        fit(cfg, progress=False)
    return base / "run", f"folder:{root}:split=test"


def _figures(html: str) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in FIG_RE.findall(html)}


def _eval_json(capsys, weights: str, spec: str) -> dict:
    capsys.readouterr()
    assert cli_main(["eval", weights, spec, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def _check_tables(html: str, ev: dict) -> None:
    rows = {htmllib.unescape(name): CELL_RE.findall(body) for name, body in ROW_RE.findall(html)}  # class "<" is &lt;
    assert len(rows) == len(ev["per_class"])
    for c in ev["per_class"]:
        cells = rows[c["class"]]
        assert cells[2:] == [f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", str(c["support"])]
    topk = re.search(r'<table id="topk">.*?<tbody><tr>(.*?)</tr>', html, re.S).group(1)
    assert CELL_RE.findall(topk)[:3] == [f"{ev['top1']:.4f}", f"{ev['top3']:.4f}", f"{ev['top5']:.4f}"]


def test_report_of_a_tiny_run_matches_eval(tiny_run, tmp_path, capsys, monkeypatch):
    from inkmath.models.summary import layer_table
    from inkmath.evaluation.report import FIGURES
    from inkmath.weights import load_model

    run, spec = tiny_run
    monkeypatch.setenv("INKMATH_CACHE", str(run.parent / "cache"))
    out = tmp_path / "rep"
    assert cli_main(["report", str(run), "--dataset", spec, "--out", str(out), "--json"]) == 0
    line = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    html = (out / "report.html").read_text()
    figs = _figures(html)
    assert set(figs) == {k for k, _ in FIGURES}  # every figure, none missing
    for key, png in figs.items():
        assert png.startswith(b"\x89PNG"), key
        assert (out / f"{key}.png").read_bytes() == png  # the PNGs on disk are the ones embedded
    assert "src=\"http" not in html and "<script" not in html  # opens offline
    ev = _eval_json(capsys, str(run), spec)
    assert line["top1"] == ev["top1"] and line["n"] == ev["n"] == 12
    _check_tables(html, ev)
    model, card = load_model(run)
    layers = re.search(r'<table id="layers">(.*?)</table>', html, re.S).group(1)
    assert layers.count("<tr>") == len(layer_table(model, card["in_size"])) + 2  # header + rows + total
    history = re.search(r'<table id="history">(.*?)</table>', html, re.S).group(1)
    assert history.count("<tr>") == 1 + 2  # two epochs from metrics.csv
    assert (out / "graph.dot").read_text().startswith("digraph")


def test_report_without_training_logs_or_test_spec(tiny_run, tmp_path, monkeypatch):
    from inkmath.evaluation.report import build_report

    run, spec = tiny_run
    monkeypatch.setenv("INKMATH_CACHE", str(run.parent / "cache"))
    bare = tmp_path / "bare"
    bare.mkdir()
    for name in ("weights.safetensors", "weights.json"):
        shutil.copy(run / name, bare / name)
    with pytest.raises(InkmathError, match="--dataset"):
        build_report(bare)  # the tiny run's card names no test data
    result = build_report(bare, dataset=spec, out=tmp_path / "rep")
    html = Path(result["html"]).read_text()
    assert 'id="missing-loss_batches"' in html and 'id="missing-epochs"' in html
    assert "fig-confusion" in html and "fig-filters" in html


def test_plotting_stays_out_of_import_inkmath():
    code = ("import sys, inkmath, inkmath.cli; inkmath.cli.build_parser(); "
            "print(sorted(m for m in ('matplotlib', 'optuna', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "matplotlib" not in out and "optuna" not in out


@pytest.mark.slow
@pytest.mark.skipif(not has_shared("mnist", "t10k-images-idx3-ubyte.gz"), reason="MNIST data not available")
def test_report_of_shipped_mnist(tmp_path, capsys, monkeypatch):
    """`inkmath report mnist` needs nothing but the shipped files and the data."""
    from inkmath.evaluation.report import FIGURES

    monkeypatch.setenv("INKMATH_DATA", str(SHARED_DATA))
    out = tmp_path / "mnist"
    assert cli_main(["report", "mnist", "--out", str(out)]) == 0
    html = (out / "report.html").read_text()
    assert set(_figures(html)) == {k for k, _ in FIGURES}
    assert "mnist:test" in html  # the card's test spec is the default
    _check_tables(html, _eval_json(capsys, "mnist", "mnist:test"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["hasy", "crohme"])
def test_committed_report_matches_eval(name, capsys, monkeypatch):
    """The reports committed under docs/reports (rebuilt by the commands in its README) still agree with
    `inkmath eval NAME SPEC --json` on the shipped weights: the tables, the top-k and report.json."""
    folder = Path(__file__).resolve().parents[1] / "docs" / "reports" / name
    saved = json.loads((folder / "report.json").read_text())
    spec = saved["dataset"]
    if not has_shared("hasyv2" if name == "hasy" else "crohme"):
        pytest.skip(f"{spec} needs the shared data")
    monkeypatch.setenv("INKMATH_DATA", str(SHARED_DATA))
    ev = _eval_json(capsys, name, spec)
    html = (folder / "report.html").read_text()
    _check_tables(html, ev)
    assert {k: saved["eval"][k] for k in ("top1", "top3", "top5", "n")} == {k: ev[k] for k in ("top1", "top3", "top5", "n")}
