"""The in-memory form every data set reader yields (``SymbolDataset``), the readers' registry, where data and caches
lie, spec strings, and the cache of decoded arrays. The readers themselves register from their own modules;
``inkmath.data`` loads them."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from inkmath.errors import InkmathError
from inkmath.vocab import Vocabulary
from inkmath.atomic import atomic_write


@dataclass
class SymbolDataset:
    """Images in memory: ``images`` uint8 (N, H, W) as stored by the source, ``labels`` int64 (N,)."""

    images: np.ndarray
    labels: np.ndarray
    vocab: Vocabulary
    name: str = ""
    ink: str = "auto"  # "white" (white ink on black), "black", or "auto" (preprocessing detects it)
    ids: list[str] = field(default_factory=list)  # per-image identifiers (file names) where known
    prepared: str = ""  # the preprocessing preset the images already went through ("" = raw images)

    def __post_init__(self):
        if self.images.ndim != 3 or self.images.dtype != np.uint8:
            raise ValueError(f"images must be uint8 (N, H, W), got {self.images.dtype} {self.images.shape}")
        if len(self.images) != len(self.labels):
            raise ValueError("images and labels differ in length")

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, idx) -> "SymbolDataset":
        idx = np.asarray(idx)
        ids = [self.ids[i] for i in idx] if self.ids else []
        return SymbolDataset(self.images[idx], self.labels[idx], self.vocab, self.name, self.ink, ids, self.prepared)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(self.vocab))


Reader = Callable[..., SymbolDataset]
_READERS: dict[str, tuple[Reader, str]] = {}


def register_reader(scheme: str, usage: str):
    """Register ``fn(arg, data_dir=..., **options)`` for specs ``scheme:arg:key=value``."""

    def deco(fn: Reader) -> Reader:
        if scheme in _READERS:
            raise ValueError(f"dataset scheme {scheme!r} registered twice")
        _READERS[scheme] = (fn, usage)
        return fn

    return deco


def data_dir(explicit: str | os.PathLike | None = None) -> Path:
    """Where the data sets lie: ``--data-dir``, else ``$INKMATH_DATA``, else ``./data``."""
    return Path(explicit or os.environ.get("INKMATH_DATA") or "data").expanduser()


def cache_dir() -> Path:
    return Path(os.environ.get("INKMATH_CACHE") or Path.home() / ".cache" / "inkmath").expanduser()


def parse_spec(spec: str) -> tuple[str, list[str], dict[str, str]]:
    """``"hasy:fold=1:test"`` -> ("hasy", ["test"], {"fold": "1"}). A Windows drive letter is not split off."""
    scheme, _, rest = spec.partition(":")
    positional: list[str] = []
    options: dict[str, str] = {}
    parts = rest.split(":") if rest else []
    i = 0
    while i < len(parts):
        part = parts[i]
        # keep "C:\..." / "C:/..." paths whole
        if len(part) == 1 and part.isalpha() and i + 1 < len(parts) and parts[i + 1][:1] in "\\/":
            part = part + ":" + parts[i + 1]
            i += 1
        key, eq, value = part.partition("=")
        if eq and key.isidentifier():
            options[key] = value
        else:
            positional.append(part)
        i += 1
    return scheme, positional, options


# ---------------------------------------------------------------------------------------------- cache
def _source_key(paths: list[Path], extra: str) -> str:
    h = hashlib.sha1(extra.encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def cached_arrays(name: str, sources: list[Path], extra: str, build: Callable[[], dict[str, np.ndarray]]):
    """Decode once, then load ``.npz`` from the cache. Keyed by the source files (path, size, mtime)."""
    path = cache_dir() / f"{name}-{_source_key(sources, extra)}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError):
            path.unlink(missing_ok=True)  # a damaged cache file is rebuilt
    arrays = build()
    atomic_save_npz(path, arrays)
    return arrays


def atomic_save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    atomic_write(path, lambda tmp: np.savez(tmp, **arrays), suffix=".tmp.npz")


def require_file(path: Path, what: str, hint: str) -> Path:
    if not path.is_file():
        raise InkmathError(f"{what} not found at {path}. {hint}")
    return path


def stratified_split(labels: np.ndarray, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> dict[str, np.ndarray]:
    """Seeded stratified split into train/val/test index arrays (each class split by the same fractions)."""
    rng = np.random.default_rng(seed)
    out = {"train": [], "val": [], "test": []}
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        rng.shuffle(idx)
        n = len(idx)
        n_test = int(round(n * fractions[2]))
        n_val = int(round(n * fractions[1]))
        if n >= 3:  # every split gets at least one of a class that has three images
            n_test, n_val = max(n_test, 1), max(n_val, 1)
        out["test"].append(idx[:n_test])
        out["val"].append(idx[n_test:n_test + n_val])
        out["train"].append(idx[n_test + n_val:])
    return {k: np.sort(np.concatenate(v)) if v else np.zeros(0, np.int64) for k, v in out.items()}


def apply_split(ds: SymbolDataset, split: str | None, seed: int) -> SymbolDataset:
    if split in (None, "", "all"):
        return ds
    parts = stratified_split(ds.labels, seed=seed)
    if split not in parts:
        raise InkmathError(f"Unknown split {split!r}; choose one of: train, val, test, all")
    return ds.subset(parts[split])
