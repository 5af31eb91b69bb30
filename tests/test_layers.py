"""The import rules of the layers: the core never reaches into its edges, and the NumPy engine runs without torch.

The core is every module of ``inkmath`` except the edges: the ``cli`` package, the ``web`` package, and the
plotting/report modules (``evaluation/plots.py``, ``evaluation/report.py``). Imports are read from the source
(every ``import`` statement, also those inside functions), so a lazy import counts as much as a top-level one.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import inkmath
from test_scratch_notorch import BLOCKER as BLOCK_TORCH  # a sys.meta_path finder that refuses torch

SRC = Path(inkmath.__file__).parent
# equation/plot.py draws an answer's graph (matplotlib, imported inside its functions); the solver's worker loads it
EDGES = ("cli/", "web/", "evaluation/plots.py", "evaluation/report.py", "equation/plot.py", "__main__.py")
FORBIDDEN = ("inkmath.cli", "inkmath.web", "matplotlib")


def _imports(path: Path, package: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, relative imports resolved against its package."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = package or ".".join(("inkmath",) + path.relative_to(SRC).parent.parts)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{a.name}") for a in node.names]
    return found


def _core_files() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if not p.relative_to(SRC).as_posix().startswith(EDGES)]


def _hits(module: str, prefix: str) -> bool:
    return module == prefix or module.startswith(prefix + ".")


def test_core_never_imports_cli_web_or_plotting():
    files = _core_files()
    assert len(files) > 30 and not any("cli" in p.relative_to(SRC).parts for p in files)
    bad = [f"{p.relative_to(SRC)}:{line} imports {mod}" for p in files for line, mod in _imports(p)
           if any(_hits(mod, f) for f in FORBIDDEN)]
    assert not bad, "\n".join(bad)


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    """The rule above would pass vacuously if the parser missed imports inside functions or relative ones."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import matplotlib.pyplot\n    from ..cli import main\n    from inkmath.web import app\n")
    mods = [m for _, m in _imports(probe, package="inkmath.equation")]
    assert "matplotlib.pyplot" in mods and "inkmath.cli" in mods and "inkmath.web" in mods


def test_numpy_engine_borrows_nothing_from_training():
    """``inkmath.scratch`` stands alone: shared file helpers live in neutral modules (``inkmath.atomic``)."""
    bad = [f"{p.name}:{line} imports {mod}" for p in sorted((SRC / "scratch").glob("*.py")) for line, mod in _imports(p)
           if _hits(mod, "inkmath.training") or _hits(mod, "torch")]
    assert not bad, bad


def test_no_library_module_names_the_cli():
    """What ``grep -rn "inkmath.cli" src/inkmath --include=*.py`` must not find outside the cli package."""
    bad = [f"{p.relative_to(SRC)}:{i}" for p in _core_files() + [SRC / "web" / f.name for f in (SRC / "web").glob("*.py")]
           if p.name != "__main__.py"
           for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if "inkmath.cli" in line]
    assert not bad, bad



def _run_without_torch(code: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(SRC.parent)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    return subprocess.run([sys.executable, "-c", BLOCK_TORCH + code], env=env, capture_output=True, text=True,
                          timeout=120)


def test_numpy_engine_imports_without_torch():
    r = _run_without_torch(
        "import numpy as np\n"
        "import inkmath.scratch as s\n"
        "from inkmath.scratch import create_numpy_model, interop, train\n"
        "m = create_numpy_model('seed003-m4', num_classes=10, in_size=28)\n"
        "out = m(np.zeros((2, 1, 28, 28), np.float32))\n"
        "assert out.shape == (2, 10), out.shape\n"
        "print(sorted(k for k in sys.modules if k == 'torch' or k.startswith('torch.')))\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_the_torch_blocker_really_blocks():
    r = _run_without_torch("import torch")
    assert r.returncode != 0 and "torch is blocked" in r.stderr


def test_import_inkmath_and_the_parser_stay_light():
    r = subprocess.run([sys.executable, "-c", "import sys, inkmath, inkmath.cli; inkmath.cli.build_parser(); "
                        "print(sorted(m for m in ('torch', 'matplotlib', 'fastapi') if m in sys.modules))"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
