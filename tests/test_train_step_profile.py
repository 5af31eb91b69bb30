"""benchmarks/train_step_profile.py: a training step timed phase by phase, for variants of the recipe's step."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import train_step_profile as tsp  # noqa: E402
from inkmath.training.config import make_config  # noqa: E402


@pytest.mark.parametrize("name", ["threads-1-nchw", "threads-1-no-augment"])
def test_a_variant_trains_its_steps_and_times_every_phase(name):
    cfg = replace(make_config(ROOT / "configs" / "crohme-m.yaml"), batch_size=16)
    x = torch.randint(0, 256, (64, 32, 32), dtype=torch.uint8)
    y = torch.randint(0, 101, (64,))
    r = tsp.run_variant(tsp.VARIANTS[name], cfg, x, y, 101, steps=3)
    assert set(r["seconds"]) == set(tsp.PHASES) and r["seconds"]["forward"] > 0 and r["seconds"]["backward"] > 0
    assert r["total"] == pytest.approx(sum(r["seconds"].values()))
    assert r["img_s"] == pytest.approx(3 * 16 / r["total"]) and r["cpu_ms_img"] > 0
    torch.set_num_threads(1)


def test_the_table_gives_each_variant_against_the_first():
    row = {"seconds": dict.fromkeys(tsp.PHASES, 1.0), "total": 5.0, "img_s": 100.0, "cpu_ms_img": 4.0}
    text = tsp.table({"current": row, "fast": {**row, "img_s": 200.0, "cpu_ms_img": 2.0}})
    assert "| fast | 200 | 2.00x | 2.00 | 2.00x | 20 | 20 | 20 | 20 | 20 |" in text
