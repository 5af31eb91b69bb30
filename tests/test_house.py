"""The house's size rules, read from the code: small modules, short functions, packages of at most 20 modules, and no
private name imported from another package. (The import layers and cycles: ``test_layers``.)"""

from __future__ import annotations

import ast
from pathlib import Path

import inkmath

SRC = Path(inkmath.__file__).parent
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100
MAX_PACKAGE_MODULES = 20


def _modules() -> dict[str, Path]:
    out = {}
    for p in sorted(SRC.rglob("*.py")):
        parts = list(p.relative_to(SRC.parent).with_suffix("").parts)
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = p
    return out


def test_no_module_over_600_lines():
    long = {str(p.relative_to(SRC)): n for p in _modules().values()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, long


def test_no_function_over_100_lines():
    long = []
    for p in _modules().values():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long.append(f"{p.relative_to(SRC)}:{node.lineno} {node.name} ({n} lines)")
    assert not long, "\n".join(long)


def test_no_package_folder_holds_more_than_20_modules():
    folders: dict[str, int] = {}
    for p in _modules().values():
        key = str(p.parent.relative_to(SRC.parent))
        folders[key] = folders.get(key, 0) + 1
    big = {k: n for k, n in folders.items() if n > MAX_PACKAGE_MODULES}
    assert not big, big


def test_no_private_name_is_imported_from_another_package():
    modules = _modules()

    def package(module: str) -> str:
        p = modules.get(module)
        return module if p is not None and p.name == "__init__.py" else module.rpartition(".")[0]

    bad = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("inkmath"):
                for alias in node.names:
                    private = alias.name.startswith("_") and not alias.name.startswith("__")
                    if private and package(node.module) != package(name):
                        bad.append(f"{name}:{node.lineno} imports {alias.name} from {node.module}")
    assert not bad, "\n".join(bad)


def test_the_size_checks_see_what_they_count(tmp_path):
    """The checks above would pass vacuously if they read nothing: they read every module of the package, and a
    function they are shown is measured."""
    assert len(_modules()) > 150
    probe = ast.parse("def f():\n" + "    x = 1\n" * 120)
    fn = probe.body[0]
    assert fn.end_lineno - fn.lineno + 1 > MAX_FUNCTION_LINES
