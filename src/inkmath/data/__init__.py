"""Dataset readers, all yielding one in-memory form, addressed by spec strings.

    load_dataset("mnist:train")            # the four official IDX .gz files
    load_dataset("hasy:fold=1:test")       # inside the official HASYv2.tar.bz2
    load_dataset("folder:PATH:split=train") # folder-per-class, a directory or a .zip
    load_dataset("csv:PATH")               # a path,label mapping

A spec is ``scheme:arg:key=value:...``; readers register themselves with ``@register_reader``.
"""

from __future__ import annotations

import hashlib
import os

import numpy as np

from inkmath.errors import InkmathError
from inkmath.data.sets import (_READERS, SymbolDataset, apply_split, atomic_save_npz, cache_dir,  # noqa: F401
                               cached_arrays, data_dir, parse_spec, register_reader, require_file, stratified_split)
from inkmath.atomic import atomic_write


def _ensure_readers() -> None:
    # Importing the modules registers their readers. Readers built on the equation reader register from their own
    # layer (``inkmath.equation.synth.crohme_wap``: crohme-wap, crohme-page, crohme-real), imported by the training
    # loop and the CLI.
    from inkmath.data import crohme, csvmap, folder, hasy, mnist  # noqa: F401


def list_readers() -> dict[str, str]:
    _ensure_readers()
    return {k: usage for k, (_, usage) in sorted(_READERS.items())}


def load_dataset(spec: str, data_dir_: str | os.PathLike | None = None) -> SymbolDataset:
    """Load a data set by spec; errors name what is expected and where. ``A+B``: the images of A, then of B (the
    same classes, stored the same way)."""
    _ensure_readers()
    if "+" in spec:
        return _joined([load_dataset(part, data_dir_) for part in spec.split("+")], spec)
    scheme, positional, options = parse_spec(spec)
    if scheme not in _READERS:
        choices = ", ".join(f"{k} ({u})" for k, (_, u) in sorted(_READERS.items()))
        raise InkmathError(f"Unknown dataset {scheme!r} in {spec!r}; choose one of: {choices}")
    fn, usage = _READERS[scheme]
    try:
        ds = fn(*positional, data_dir=data_dir(data_dir_), **options)
    except TypeError as e:
        raise InkmathError(f"Bad dataset spec {spec!r}: {e}. Usage: {usage}") from None
    ds.name = spec
    return ds


def _joined(parts: list[SymbolDataset], spec: str) -> SymbolDataset:
    first = parts[0]
    for p in parts[1:]:
        if p.vocab.names != first.vocab.names or p.prepared != first.prepared or p.ink != first.ink \
                or p.images.shape[1:] != first.images.shape[1:]:
            raise InkmathError(f"{spec!r}: {p.name} and {first.name} cannot be joined: their classes, image size, "
                               f"ink or preparation differ; join data sets of the same kind")
    return SymbolDataset(np.concatenate([p.images for p in parts]), np.concatenate([p.labels for p in parts]),
                         first.vocab, spec, first.ink, [i for p in parts for i in (p.ids or [""] * len(p))],
                         first.prepared)


def prepared_images(ds: SymbolDataset, preset: str) -> np.ndarray:
    """uint8 (N, S, S): ``preprocess.prepare`` applied to a whole data set, cached by content and preset."""
    from inkmath.preprocess import get_preset, prepare_uint8

    p = get_preset(preset)
    if ds.prepared == p.name:
        return np.ascontiguousarray(ds.images)  # the reader stored prepared images already
    if ds.prepared and ds.name.startswith("crohme:"):
        # crops are cut from whole expressions: prepare them again from the ink, with this preset
        return load_dataset(f"{ds.name.split(':preset=')[0]}:preset={p.name}").images
    digest = hashlib.sha1(ds.images.tobytes()).hexdigest()[:16]
    path = cache_dir() / f"prepared-{p.name}-{ds.ink}-{digest}.npy"
    if path.exists():
        try:
            return np.load(path, allow_pickle=False)
        except (OSError, ValueError):
            path.unlink(missing_ok=True)
    arr = prepare_uint8(ds.images, p, ds.ink)

    atomic_write(path, lambda tmp: np.save(tmp, arr), suffix=".tmp.npy")
    return arr
