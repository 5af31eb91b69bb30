"""`inkmath eval` and `inkmath predict` with `--engine numpy` in a process where `import torch` fails.

A `sitecustomize` put first on PYTHONPATH installs an import hook that raises ImportError for torch and every
torch submodule, so any import of torch along the CLI path fails the command. The results must equal the torch
engine's, computed in this (torch-enabled) process.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

BLOCKER = '''
import sys

class _BlockTorch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch is blocked in this process (inkmath no-torch test)")
        return None

sys.meta_path.insert(0, _BlockTorch())
'''

EXAMPLES = resources.files("inkmath.examples")


@pytest.fixture(scope="module")
def notorch_env(tmp_path_factory) -> dict:
    site = tmp_path_factory.mktemp("notorch")
    (site / "sitecustomize.py").write_text(BLOCKER)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(site)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["INKMATH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    return env


def _run(args: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "inkmath", *args], env=env, capture_output=True, text=True, timeout=300)


def test_blocker_really_blocks_torch(notorch_env):
    r = subprocess.run([sys.executable, "-c", "import torch"], env=notorch_env, capture_output=True, text=True)
    assert r.returncode != 0 and "torch is blocked" in r.stderr


@pytest.fixture(scope="module")
def digit_folder(tmp_path_factory) -> Path:
    """A folder-per-class set from the bundled digit examples (a few shifted copies each)."""
    import numpy as np
    from PIL import Image

    root = tmp_path_factory.mktemp("digits")
    for d in ("3", "7", "9"):
        img = np.asarray(Image.open(EXAMPLES.joinpath(f"digit_{d}.png")).convert("L"))
        (root / d).mkdir()
        for k, shift in enumerate((0, 3, -3)):
            Image.fromarray(np.roll(img, shift, axis=1)).save(root / d / f"{d}_{k}.png")
    return root


def test_eval_numpy_engine_without_torch(notorch_env, digit_folder):
    from inkmath.evaluation.evaluate import evaluate_weights

    r = _run(["eval", "mnist", f"folder:{digit_folder}", "--engine", "numpy", "--json"], notorch_env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    want = evaluate_weights("mnist", f"folder:{digit_folder}", engine="torch")
    assert got["n"] == want["n"] == 9
    assert got["top1"] == want["top1"] and got["top3"] == want["top3"]
    assert [c["f1"] for c in got["per_class"]] == [c["f1"] for c in want["per_class"]]


def test_predict_numpy_engine_without_torch(notorch_env, tmp_path):
    from inkmath.predict import Predictor

    src = [Path(str(EXAMPLES.joinpath(f"digit_{d}.png"))) for d in ("3", "7", "9")]
    files = [shutil.copy(p, tmp_path / p.name) for p in src]
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    r = _run(["predict", *map(str, files), str(tmp_path / "broken.png"), "--weights", "mnist", "--engine", "numpy",
              "--top", "3", "--json"], notorch_env)
    assert r.returncode != 0  # one file failed, and the exit code says so
    rows = [json.loads(line) for line in r.stdout.strip().splitlines()]
    by_file = {Path(row["file"]).name: row for row in rows}
    assert "error" in by_file["broken.png"]
    torch_pred = Predictor.load("mnist", engine="torch")
    from inkmath.data.images import decode_image

    for f in files:
        want = torch_pred.predict([decode_image(Path(f).read_bytes(), name=str(f))], top=3)[0]
        got = by_file[Path(f).name]["predictions"]
        assert [g["label"] for g in got] == [w.label for w in want]
        assert got[0]["prob"] == pytest.approx(want[0].prob, abs=1e-3)
