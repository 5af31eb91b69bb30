"""Training: a run killed mid-epoch and resumed ends with the uninterrupted run's weights; DDP with torchrun."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from inkmath import InkmathError
from inkmath.training.config import make_config

from conftest import shapes


@pytest.fixture
def folder_set(tmp_path) -> Path:
    root = tmp_path / "set"
    x, y = shapes(100, size=32, seed=5)
    for i, (im, c) in enumerate(zip(x, y)):
        (root / f"c{c}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(root / f"c{c}" / f"{i:04d}.png")
    return root


def _env(tmp_path):
    env = dict(os.environ, INKMATH_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    env.pop("WORLD_SIZE", None)
    return env


def _train_cmd(folder: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "inkmath", "train", f"folder:{folder}", "--model", "inkres", "--epochs", "3",
            "--batch-size", "16", "--augment", "strong", "--out", str(out), "--threads", "1", "--quiet",
            "--set", "checkpoint_seconds=0.000001", "--set", "val_fraction=0.2", "--set", "label_smoothing=0.1",
            *extra]


def _mid_epoch(ck_path: Path) -> bool:
    if not ck_path.exists():
        return False
    try:
        ck = torch.load(ck_path, weights_only=True)
    except (RuntimeError, EOFError, OSError):
        return False
    return ck["epoch"] >= 1 and ck["epoch_state"]["step"] >= 2


@pytest.mark.slow
def test_kill_mid_epoch_and_resume_is_exact(folder_set, tmp_path):
    env = _env(tmp_path)
    a, b = tmp_path / "a", tmp_path / "b"
    subprocess.run(_train_cmd(folder_set, a), env=env, check=True, capture_output=True)

    proc = subprocess.Popen(_train_cmd(folder_set, b), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not _mid_epoch(b / "checkpoint_last.pt"):
        assert proc.poll() is None, "the run ended before it could be killed mid-epoch"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (b / "weights.safetensors").exists()
    killed_at = torch.load(b / "checkpoint_last.pt", weights_only=True)
    assert killed_at["epoch_state"]["step"] > 0  # really mid-epoch

    r = subprocess.run(_train_cmd(folder_set, b, "--resume"), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    wa, wb = load_file(a / "weights.safetensors"), load_file(b / "weights.safetensors")
    assert wa.keys() == wb.keys()
    diff = max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)
    assert diff <= 1e-6
    assert (a / "metrics.csv").read_text().splitlines()[1].split(",")[:6] == \
        (b / "metrics.csv").read_text().splitlines()[1].split(",")[:6]


def test_refuses_to_overwrite_and_resume_needs_a_run(folder_set, tmp_path):
    env = _env(tmp_path)
    r = subprocess.run(_train_cmd(folder_set, tmp_path / "none", "--resume"), env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "Nothing to resume" in r.stderr and "Traceback" not in r.stderr


def test_config_rejects_unknown_keys(tmp_path):
    (tmp_path / "r.yaml").write_text("model: inkres\nlearning_rate: 0.1\n")
    with pytest.raises(InkmathError, match="Unknown config key.*learning_rate"):
        make_config(tmp_path / "r.yaml")
    cfg = make_config(None, {"epochs": "4", "balanced": "true"})
    assert cfg.epochs == 4 and cfg.balanced is True


def test_shipped_recipes_parse():
    # the recipes of `inkmath train`; the reader's other models' recipes (`python -m inkmath.equation.train_...`) are
    # read by their own trainers and checked against their cards in test_cards.py
    recipes = [r for r in sorted(Path(__file__).resolve().parents[1].joinpath("configs").glob("*.yaml"))
               if "inkmath train --config" in r.read_text(encoding="utf-8")]
    assert len(recipes) >= 8, recipes
    for recipe in recipes:
        make_config(recipe)


@pytest.mark.slow
def test_torchrun_two_processes(folder_set, tmp_path):
    env = _env(tmp_path)
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", "-m", "inkmath",
           "train", f"folder:{folder_set}", "--model", "seed-cnn", "--epochs", "2", "--batch-size", "32",
           "--out", str(out), "--threads", "1", "--quiet", "--set", "val_fraction=0.2", "--lr", "0.003"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = (out / "metrics.csv").read_text().splitlines()
    assert len(rows) == 3
    val_acc = float(rows[-1].split(",")[4])
    assert val_acc > 0.5  # 4 easy classes: it learned something with both processes
    assert (out / "weights.safetensors").exists()


def test_fine_tune_from_a_run_and_bf16(folder_set, tmp_path, monkeypatch):
    """`init` starts from a finished run's weights (the card records it); `precision=bf16` trains; bad values fail."""
    from inkmath.training.loop import fit

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    base = dict(dataset=f"folder:{folder_set}", model="inkres", epochs=1, batch_size=16, threads=1,
                val_fraction=0.2, checkpoint_seconds=0)
    first = fit(make_config(None, {**base, "out": str(tmp_path / "a")}), progress=False)
    a = load_file(first["weights"])
    # zero steps of training: the fine-tuned run must start from exactly the first run's weights
    cfg = make_config(None, {**base, "out": str(tmp_path / "b"), "init": str(tmp_path / "a"), "lr": 0.0,
                             "precision": "bf16"})
    second = fit(cfg, progress=False)
    b = load_file(second["weights"])
    assert all(torch.equal(a[k], b[k]) for k in a if "running" not in k and "num_batches" not in k)
    card = __import__("json").loads((tmp_path / "b" / "weights.json").read_text())
    assert card["init"]["weights"] == str(tmp_path / "a") and card["settings"]["precision"] == "bf16"
    with pytest.raises(InkmathError, match="precision"):
        fit(make_config(None, {**base, "out": str(tmp_path / "c"), "precision": "fp16"}), progress=False)
    with pytest.raises(InkmathError, match="init weights"):
        fit(make_config(None, {**base, "out": str(tmp_path / "d"), "init": str(tmp_path / "a"), "model": "seed-cnn"}),
            progress=False)


def test_distillation_loss():
    """With a teacher the loss mixes cross-entropy and T^2 * KL(teacher || model); without one it is cross-entropy."""
    import torch.nn.functional as F

    from inkmath.training.loop import batch_loss

    g = torch.Generator().manual_seed(0)
    logits, teacher = torch.randn(8, 5, generator=g), torch.randn(8, 5, generator=g)
    y = torch.randint(0, 5, (8,), generator=g)
    cfg = make_config(None, {"label_smoothing": 0.1, "distill_weight": 0.7, "distill_temperature": 2.0})
    ce = F.cross_entropy(logits, y, label_smoothing=0.1)
    assert torch.allclose(batch_loss(logits, y, cfg), ce)
    assert torch.allclose(batch_loss(logits, y, cfg, logits.clone()), 0.3 * ce)  # agreeing with the teacher: KL 0
    p_t, logp_s = F.softmax(teacher / 2, 1), F.log_softmax(logits / 2, 1)
    kl = (p_t * (p_t.log() - logp_s)).sum(1).mean()
    assert torch.allclose(batch_loss(logits, y, cfg, teacher), 0.3 * ce + 0.7 * 4 * kl, atol=1e-6)
    # the distillation term pulls the model's logits towards the teacher's
    s = logits.clone().requires_grad_(True)
    batch_loss(s, y, make_config(None, {"distill_weight": 1.0}), teacher).backward()
    stepped = s.detach() - 0.5 * s.grad
    kl_of = lambda z: F.kl_div(F.log_softmax(z, 1), F.log_softmax(teacher, 1), log_target=True,  # noqa: E731
                               reduction="batchmean")
    assert kl_of(stepped) < kl_of(logits)
    for bad in ({"distill_weight": 1.5}, {"distill_temperature": 0}):
        with pytest.raises(InkmathError, match="distill"):
            make_config(None, bad)


def test_distil_from_a_run(folder_set, tmp_path, monkeypatch):
    """`teacher` gives the distillation targets; the card names it; a teacher of other classes is refused."""
    from inkmath.training.loop import fit

    monkeypatch.setenv("INKMATH_CACHE", str(tmp_path / "cache"))
    base = dict(dataset=f"folder:{folder_set}", model="inkres", epochs=1, batch_size=16, threads=1,
                val_fraction=0.2, checkpoint_seconds=0)
    fit(make_config(None, {**base, "out": str(tmp_path / "t")}), progress=False)
    out = fit(make_config(None, {**base, "model": "inkres-s", "out": str(tmp_path / "s"), "teacher": str(tmp_path / "t"),
                                 "distill_weight": 0.9}), progress=False)
    card = __import__("json").loads((tmp_path / "s" / "weights.json").read_text())
    assert card["model"] == "inkres-s" and card["teacher"]["weights"] == str(tmp_path / "t")
    assert card["teacher"]["model"] == "inkres" and card["settings"]["distill_weight"] == 0.9
    assert Path(out["weights"]).exists()
    other = tmp_path / "other"
    for i, (im, c) in enumerate(zip(*shapes(40, size=32, seed=6))):
        if c < 2:
            (other / f"k{c}").mkdir(parents=True, exist_ok=True)
            Image.fromarray(im).save(other / f"k{c}" / f"{i:04d}.png")
    with pytest.raises(InkmathError, match="teacher weights .* other classes"):
        fit(make_config(None, {**base, "dataset": f"folder:{other}", "out": str(tmp_path / "o"),
                               "teacher": str(tmp_path / "t")}), progress=False)
