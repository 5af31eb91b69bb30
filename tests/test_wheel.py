"""The wheel: `python -m build` makes it with every shipped model inside and no deprecation warning; installed into a
fresh virtual environment offline, torch at its pinned version, `inkmath demo` runs there.

Offline: pip gets no index, only folders of wheels: the wheelhouse `make wheelhouse` fills once (the runtime
dependencies at their pinned versions; `$INKMATH_WHEELHOUSE`, default `.venv/wheelhouse`) and the find-links folders
of pip's own configuration (where a machine keeps its torch build).
"""

import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
WHEELHOUSE = Path(os.environ.get("INKMATH_WHEELHOUSE", ROOT / ".venv" / "wheelhouse"))
TORCH = next(line.split("==")[1].strip() for line in (ROOT / "requirements.txt").read_text().splitlines()
             if line.startswith("torch=="))

pytestmark = pytest.mark.slow


def clean_env(**extra) -> dict:
    """This environment without the variables that would point the child at this checkout or at other indexes."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("PIP_")}
    env.update(extra)
    return env


def pip_find_links() -> list[str]:
    """The find-links folders of pip's configuration (files and environment), those that exist."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    links = []
    for line in out.splitlines():
        m = re.match(r"[^=]*find-links='(.*)'$", line.strip())
        if m:
            links += [p for p in m.group(1).split() if Path(p).is_dir() and p not in links]
    return links


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("build")
    src = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(src)],
                       capture_output=True, text=True, env=clean_env())
    log = r.stdout + r.stderr
    assert r.returncode == 0, log[-3000:]
    assert "deprecat" not in log.lower(), [line for line in log.splitlines() if "eprecat" in line.lower()]
    return next(out.glob("inkmath-*.whl"))


def test_wheel_holds_every_shipped_model_and_the_licence(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.stem for p in (ROOT / "src" / "inkmath" / "weights").glob("*.safetensors"))
    assert {"mnist", "crohme", "stroke-merge", "layout-relation"} <= set(shipped)
    for name in shipped:
        assert {f"inkmath/weights/{name}.safetensors", f"inkmath/weights/{name}.json"} <= names, name
    assert any(n.endswith("/licenses/LICENSE") for n in names)
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in meta


def test_wheel_installs_offline_in_a_fresh_venv_and_runs_the_demo(wheel, tmp_path):
    if not WHEELHOUSE.is_dir():
        pytest.skip(f"no wheelhouse at {WHEELHOUSE}: run `make wheelhouse` (downloads the pinned dependencies once)")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    python = env_dir / "bin" / "python"
    links = [a for folder in [str(WHEELHOUSE), *pip_find_links()] for a in ("--find-links", folder)]
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index", "--quiet",
                        *links, f"torch=={TORCH}", str(wheel)],
                       capture_output=True, text=True, env=clean_env(PIP_CONFIG_FILE=os.devnull), timeout=1200)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    r = subprocess.run([str(python), "-c", "import inkmath, torch; print(torch.__version__); print(inkmath.__file__)"],
                       capture_output=True, text=True, env=clean_env(), cwd=tmp_path)
    version, location = r.stdout.split()
    assert version.split("+")[0] == TORCH and location.startswith(str(env_dir)), r.stdout + r.stderr
    r = subprocess.run([str(env_dir / "bin" / "inkmath"), "demo"], capture_output=True, text=True,
                       env=clean_env(INKMATH_DATA=str(tmp_path / "no-data")), cwd=tmp_path, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "shipped weights: " in r.stdout and "Expressions" in r.stdout and "Traceback" not in r.stderr
