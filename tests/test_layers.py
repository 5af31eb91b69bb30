"""The import rules of the layers: every import points down the stages, no import cycle, the core never reaches into
its edges, and the NumPy engine runs without torch.

The layers, lowest first (DESIGN.md): a module imports only from its own package or a lower layer; ``reader`` and
``solve`` are siblings that never import each other. Imports are read from the source (every ``import`` statement,
also those inside functions), so a lazy import counts as much as a top-level one.
"""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import inkmath
from test_scratch_notorch import BLOCKER as BLOCK_TORCH  # a sys.meta_path finder that refuses torch

SRC = Path(inkmath.__file__).parent
# equation/solve/plot.py draws an answer's graph (matplotlib, imported inside its functions); the solver's worker loads it
EDGES = ("cli/", "web/", "evaluation/plots.py", "evaluation/report.py", "equation/solve/plot.py", "__main__.py")
FORBIDDEN = ("inkmath.cli", "inkmath.web", "matplotlib")

BASE = ("errors", "atomic", "gcutil", "imageio", "ink", "limits", "preprocess", "scoped", "sizes", "vocab", "weights",
        "predict", "onnx_export", "onnx_int8", "onnx_run", "synth", "models", "scratch", "data")
# lowest first; each layer a tuple of packages (or modules); a package's modules belong to it unless a longer prefix
# names their own layer.
LAYERS: list[tuple[str, ...]] = [
    tuple(f"inkmath.{m}" for m in BASE),
    ("inkmath.equation.core",),
    ("inkmath.equation.reader", "inkmath.equation.solve"),
    ("inkmath.equation.strokes",),
    ("inkmath.equation.image",),
    ("inkmath.equation.photo",),
    ("inkmath.equation",),  # the pipeline: recognize, inputs, second_look
    ("inkmath.equation.page",),
    ("inkmath.evaluation",),
    ("inkmath.equation.synth",),
    ("inkmath.training",),
    ("inkmath.api", "inkmath"),  # the package's own names (``inkmath.recognize``) are the API
    ("inkmath.web",),
    ("inkmath.cli", "inkmath.__main__"),
]
SIBLINGS = {"inkmath.equation.reader", "inkmath.equation.solve"}  # one layer, and neither imports the other


def _module_name(path: Path, src: Path) -> str:
    parts = list(path.relative_to(src.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path, package: str | None = None, known: set[str] | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in a file, relative imports resolved against its package; with ``known``
    (the modules of the tree), ``from P import name`` counts as importing ``P.name`` where that is a module."""
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
            if known is None:
                found += [(node.lineno, base)] + [(node.lineno, f"{base}.{a.name}") for a in node.names]
            else:
                found += [(node.lineno, f"{base}.{a.name}" if f"{base}.{a.name}" in known else base)
                          for a in node.names]
    return found


def import_graph(src: Path = SRC) -> dict[str, list[tuple[int, str]]]:
    """{module: [(line, inkmath module it imports), ...]} over every module of the package at ``src``."""
    files = {_module_name(p, src): p for p in sorted(src.rglob("*.py"))}
    known = set(files)
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = [(line, m) for line, m in _imports(path, package, known)
                       if m in known and m != name]
    return graph


def layer_of(module: str) -> tuple[int, str]:
    """(the layer's index, the package of ``module`` that placed it there): the longest prefix wins."""
    best = (-1, "")
    for i, packages in enumerate(LAYERS):
        for p in packages:
            if (module == p or module.startswith(p + ".")) and len(p) > len(best[1]):
                best = (i, p)
    assert best[0] >= 0, f"{module} is in no layer: add it to LAYERS"
    return best


def upward_imports(graph: dict[str, list[tuple[int, str]]]) -> list[str]:
    """Each import that climbs a layer, or crosses between sibling packages of one layer."""
    bad = []
    for module, imports in graph.items():
        (lm, pm) = layer_of(module)
        for line, target in imports:
            (lt, pt) = layer_of(target)
            siblings = lt == lm and pt != pm and {pt, pm} <= SIBLINGS
            if lt > lm or siblings:
                bad.append(f"{module}:{line} imports {target} (layer {lt} {pt} above or beside {lm} {pm})")
    return bad


def import_cycles(graph: dict[str, list[tuple[int, str]]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    adj = {m: sorted({t for _, t in imports}) for m, imports in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in adj[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10_000))
    try:
        for v in adj:
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return out


def test_every_import_points_down_the_layers():
    graph = import_graph()
    assert len(graph) > 150
    bad = upward_imports(graph)
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    cycles = import_cycles(import_graph())
    assert not cycles, "\n".join(" <-> ".join(c) for c in cycles)


def _planted(tmp_path: Path, module: str, code: str) -> Path:
    """A copy of the package with ``code`` appended to ``module``'s file."""
    src = tmp_path / "inkmath"
    shutil.copytree(SRC, src, ignore=shutil.ignore_patterns("*.safetensors", "*.onnx", "static", "examples"))
    path = src.joinpath(*module.split(".")[1:]).with_suffix(".py")
    path.write_text(path.read_text(encoding="utf-8") + code, encoding="utf-8")
    return src


def test_the_layer_check_fails_on_a_planted_upward_import(tmp_path):
    """The checks above would pass vacuously if they missed an import inside a function: plant one that climbs
    from the core to the pipeline, and one that closes a cycle inside a package, and both are reported."""
    src = _planted(tmp_path, "inkmath.equation.core.tree",
                   "\n\ndef _planted():\n    from inkmath.equation.recognize import recognize_strokes\n")
    graph = import_graph(src)
    assert any(b.startswith("inkmath.equation.core.tree:") and "inkmath.equation.recognize" in b
               for b in upward_imports(graph))
    src = _planted(tmp_path / "b", "inkmath.equation.strokes.geometry",
                   "\n\ndef _planted():\n    from inkmath.equation.strokes import segment\n")
    assert any("inkmath.equation.strokes.geometry" in c for c in import_cycles(import_graph(src)))
    src = _planted(tmp_path / "c", "inkmath.equation.solve.answer",
                   "\n\ndef _planted():\n    from inkmath.equation.reader.decode import Decoder\n")
    assert any("beside" in b and b.startswith("inkmath.equation.solve.answer:") for b in upward_imports(import_graph(src)))


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
