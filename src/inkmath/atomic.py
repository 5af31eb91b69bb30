"""Atomic file writes: write to a temporary file in the target's folder, then ``os.replace`` it into place.

A reader never sees a half-written file, and a killed process leaves the old file (or none), never a torn one.
Every writer in inkmath (weights, cards, checkpoints, caches, reports, figures) goes through ``atomic_write``.
"""

from __future__ import annotations

import errno
import io
import json
import os
import tempfile
from pathlib import Path
from typing import Callable

from inkmath.errors import InkmathError


class WriteError(InkmathError, OSError):
    """A file that cannot be written: ``str(e)`` is ``"PATH: cannot write it (REASON); choose another path"``, PATH
    the file asked for (not the temporary file); ``e.strerror`` is the reason. An ``OSError`` too, so callers that
    catch those still do, and an ``InkmathError``: the CLI prints it as one line, without a traceback."""

    def __str__(self) -> str:
        return f"{self.filename}: cannot write it ({self.strerror}); choose another path"


def _write_error(e: OSError, path: Path) -> WriteError:
    """``e`` (from making the folder, the temporary file or the final rename) as a ``WriteError`` naming ``path``."""
    if isinstance(e, FileExistsError):  # mkdir: a name on the way to the folder is a file
        return WriteError(errno.ENOTDIR, f"{e.filename} is a file, not a folder", str(path))
    return WriteError(e.errno, e.strerror or str(e), str(path))


def atomic_write(path: str | os.PathLike, write: Callable[[str], object], suffix: str = ".tmp") -> Path:
    """Call ``write(tmp_name)`` to fill a temporary file next to ``path``, then move it onto ``path``.

    ``suffix`` ends the temporary name, for writers that pick the format from it (``np.save`` adds ``.npy``,
    matplotlib reads ``.png``). The file is made world-readable (mkstemp creates 0600): results are shared.
    A ``path`` that cannot be written (a folder, a file on the way to its folder, no permission) is a
    ``WriteError`` naming it; what ``write`` itself raises is passed on as it is.
    """
    path = Path(path)
    try:
        if path.is_dir():  # os.replace would fail on it naming the temporary file
            raise IsADirectoryError(errno.EISDIR, "it is a folder", str(path))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    except OSError as e:
        raise _write_error(e, path) from None
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        try:
            os.replace(tmp, path)
        except OSError as e:
            raise _write_error(e, path) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    return atomic_write(path, write)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, data, indent: int | None = 2) -> Path:
    return atomic_write_text(path, json.dumps(data, indent=indent, ensure_ascii=False))


def atomic_save_torch(path: str | os.PathLike, state) -> Path:
    """``torch.save`` of a state (tensors, numbers, dicts) into ``path``; read it back with ``weights_only=True``."""
    import torch

    buf = io.BytesIO()
    torch.save(state, buf)
    return atomic_write_bytes(path, buf.getvalue())
