"""The foundation's commands end to end: eval --json, predict (with bad files), submit, models, summary."""

from __future__ import annotations

import json
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inkmath.cli import main
from inkmath.data.mnist import read_idx
from inkmath.weights import list_shipped

from conftest import SHARED_DATA, has_shared

needs_mnist = pytest.mark.skipif(not has_shared("mnist") or "mnist" not in list_shipped(), reason="needs MNIST data and weights")


def run(*args: str) -> tuple[int, str, str]:
    r = subprocess.run([sys.executable, "-m", "inkmath", *args], capture_output=True, text=True, timeout=600)
    return r.returncode, r.stdout, r.stderr


def mnist_test_digits(n: int) -> tuple[np.ndarray, np.ndarray]:
    x = read_idx(SHARED_DATA / "mnist" / "t10k-images-idx3-ubyte.gz")[:n]
    y = read_idx(SHARED_DATA / "mnist" / "t10k-labels-idx1-ubyte.gz")[:n]
    return x, y


@needs_mnist
def test_eval_json_on_shipped_mnist(capsys):
    assert main(["eval", "mnist", "mnist:test", "--json", "--data-dir", str(SHARED_DATA)]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    report = json.loads(out[0])
    assert report["n"] == 10000 and report["top1"] >= 0.99 and report["top5"] >= report["top1"]
    assert len(report["per_class"]) == 10 and {"precision", "recall", "f1", "support"} <= set(report["per_class"][0])
    assert sum(c["support"] for c in report["per_class"]) == 10000
    cm = np.array(report["confusion_matrix"])
    assert np.trace(cm) / cm.sum() == pytest.approx(report["top1"])


@needs_mnist
def test_predict_good_and_bad_files(tmp_path, capsys):
    x, y = mnist_test_digits(5)
    paths = []
    for i, im in enumerate(x):  # dark ink on white paper, as a scan would be
        p = tmp_path / f"digit{i}.png"
        Image.fromarray(255 - im).resize((84, 84)).save(p)
        paths.append(str(p))
    (tmp_path / "notimage.png").write_text("hello")
    (tmp_path / "empty.png").write_bytes(b"")
    good = (tmp_path / "digit0.png").read_bytes()
    (tmp_path / "truncated.png").write_bytes(good[: len(good) // 2])
    bomb = tmp_path / "bomb.png"  # a tiny file declaring 30000 x 30000 pixels
    raw = zlib.compress(b"\x00" * 30001 * 30, 9)
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    bomb.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", raw) + chunk(b"IEND", b""))
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((20, 20), 255, np.uint8)).save(blank)
    bad = ["notimage.png", "empty.png", "truncated.png", "bomb.png", "blank.png", "missing.png"]
    code = main(["predict", *paths, *[str(tmp_path / b) for b in bad], "--weights", "mnist", "--json", "--top", "3"])
    assert code == 1  # some failed
    lines = [json.loads(l) for l in capsys.readouterr().out.strip().splitlines()]
    assert len(lines) == len(paths) + len(bad)
    by_file = {Path(l["file"]).name: l for l in lines}
    for i, label in enumerate(y):
        preds = by_file[f"digit{i}.png"]["predictions"]
        assert preds[0]["label"] == str(label) and len(preds) == 3
        assert preds[0]["latex"] == str(label) and 0 < preds[0]["prob"] <= 1
    for b in bad:
        assert "error" in by_file[b] and by_file[b]["error"]
    assert "empty" in by_file["empty.png"]["error"]
    assert "too large" in by_file["bomb.png"]["error"]
    assert "No ink" in by_file["blank.png"]["error"]


@needs_mnist
def test_submit_writes_kaggle_csv(tmp_path):
    x, y = mnist_test_digits(8)
    d = tmp_path / "test"
    d.mkdir()
    for i, im in enumerate(x):
        Image.fromarray(im).save(d / f"{i}.png")
    out = tmp_path / "submission.csv"
    assert main(["submit", "mnist", str(d), "--out", str(out)]) == 0
    rows = out.read_text().splitlines()
    assert rows[0] == "id,label" and len(rows) == 9
    got = {r.split(",")[0]: r.split(",")[1] for r in rows[1:]}
    assert sum(got[str(i)] == str(y[i]) for i in range(8)) >= 7


def test_models_and_summary(capsys):
    assert main(["models", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    names = {m["model"] for m in info["models"]}
    assert {"seed-cnn", "mnist-cnn", "inkres"} <= names
    shipped = {w["name"]: w for w in info["weights"]}
    assert {"mnist", "crohme", "stroke-merge", "layout-relation"} <= set(shipped)
    assert all(w["purpose"] for w in shipped.values())
    assert main(["summary", "seed-cnn", "--classes", "10", "--json"]) == 0
    s = json.loads(capsys.readouterr().out)
    assert [l["output"] for l in s["layers"]][:2] == [[16, 32, 32], [16, 16, 16]]
    assert s["parameters"] == sum(l["parameters"] for l in s["layers"])


def test_errors_are_messages_not_tracebacks(tmp_path):
    code, out, err = run("eval", "nonexistent-weights", "mnist:test")
    assert code == 2 and "Unknown weights 'nonexistent-weights'" in err and "Traceback" not in err
    code, out, err = run("eval", "mnist", "nosuchset:test")
    assert code == 2 and "Unknown dataset" in err and "Traceback" not in err
    code, out, err = run("train", "mnist:train", "--model", "nope", "--out", str(tmp_path / "never-created-run"))
    assert code == 2 and "Unknown model" in err and not (tmp_path / "never-created-run").exists()


def test_too_small_sizes_and_counts_are_usage_errors(capsys):
    """`summary --size 1` ended in torch's traceback ("Output size is too small"), `report --samples -3` in NumPy's
    ("negative dimensions are not allowed"); each is now one line saying what to give, exit 2."""
    assert main(["summary", "inkres", "--size", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: --size 1 is too small for inkres: its layers shrink the input to nothing; "
                   "give --size 2 or more"], err
    assert main(["summary", "inkres", "--size", "2", "--json"]) == 0  # the size it names works
    capsys.readouterr()
    for option in ("--samples", "--top-confused"):
        with pytest.raises(SystemExit) as e:
            main(["report", "mnist", option, "-3"])
        assert e.value.code == 2 and f"argument {option}: -3 must be 1 or more" in capsys.readouterr().err


@pytest.mark.skipif(not {"mnist", "crohme"} <= set(list_shipped()), reason="needs the shipped weights")
def test_demo_names_the_command_that_gives_its_symbol_readings(capsys, monkeypatch):
    """The demo's symbols are read by the mnist weights, but it titled them `inkmath predict`, whose default weights
    (crohme) read digit_9.png as 9 0.625, q 0.244: the title now names the command that prints what it shows."""
    from importlib import resources

    monkeypatch.setenv("COLUMNS", "200")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    title = next(line for line in out.splitlines() if line.startswith("Symbols"))
    command = title.split("`")[1].split()
    assert command[:2] == ["inkmath", "predict"]
    nine = str(resources.files("inkmath.examples") / "digit_9.png")
    assert main([*command[1:], nine, "--top", "3", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)["predictions"]
    shown = next(line for line in out.splitlines() if "digit_9.png:" in line)
    assert shown.strip() == "digit_9.png: " + ", ".join(f"{p['label']} ({p['prob']:.3f})" for p in top)


def test_a_broken_recipe_is_one_line_naming_it(tmp_path, capsys):
    """`train --config` on a recipe that is not YAML printed PyYAML's five-line message; one that is not UTF-8
    ended in a UnicodeDecodeError traceback. Each is now one line: the recipe, what is wrong, what to do."""
    broken = tmp_path / "broken.yaml"
    broken.write_text("epochs: [\n")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"epochs: 1\n# \xff\n")
    out = tmp_path / "never-created-run"
    for recipe, words in ((broken, "not valid YAML (line 2, column 1: "), (binary, "not UTF-8 text")):
        assert main(["train", "--config", str(recipe), "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"error: {recipe}: {words}") and "; " in err[0], err
    assert not out.exists()


def test_submit_refuses_two_images_with_one_id(tmp_path, capsys):
    """The id is the file name without suffix: a/x.png and b/x.png wrote the id x twice, silently (an invalid
    submission). Now a usage error before any image is read, and no CSV is written."""
    for sub in ("a", "b"):
        (tmp_path / "images" / sub).mkdir(parents=True)
        Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "images" / sub / "x.png")
    out = tmp_path / "submission.csv"
    assert main(["submit", "mnist", str(tmp_path / "images"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "both give the id 'x'" in err and not out.exists()


def test_models_through_a_pipe_keeps_whole_names():
    """Written to a pipe, rich laid the tables out for 80 columns and cut names: `inkmath models | grep
    symbol-context` found "symbol-contex…". Each table row is now one whole line, whatever COLUMNS says."""
    import os

    from inkmath.models import list_models
    from inkmath.weights import describe_shipped

    env = {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE")}
    env["COLUMNS"] = "80"  # a shell's terminal width: not the pipe's
    r = subprocess.run([sys.executable, "-m", "inkmath", "models"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=600, env=env)
    assert r.returncode == 0, r.stderr
    assert "…" not in r.stdout
    rows = [line.split("│")[1].strip() for line in r.stdout.splitlines() if line.startswith("│")]
    shipped = [w["name"] + "".join(f" ({a})" for a in w["aliases"]) for w in describe_shipped()]
    assert shipped and set(list_shipped()) <= {w["name"] for w in describe_shipped()}
    assert sorted(rows) == sorted([*list_models(), *shipped])  # every name whole, on its row's one line


def test_recognize_help_says_why_page_readings_differ_from_a_crops_and_which_to_take(capsys):
    """`recognize --page` and `recognize` of a crop of the same photo can read one expression differently
    (`12\\times13` against `13\\times13`): the help of --page says why and which reading to take."""
    with pytest.raises(SystemExit) as stop:
        main(["recognize", "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    start = text.index("--page each image")
    page = text[start:text.index("--debug-dir", start)]
    for said in ("a crop of it read without --page", "cleaned whole", "8 bits on ONNX Runtime", "page decoder",
                 "cleaned alone", "On a page photo take --page's reading", "over the whole page"):
        assert said in page, (said, page)
