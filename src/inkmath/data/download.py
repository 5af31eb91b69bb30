"""Fetch the official data files, and show what is in place (``inkmath download`` / ``inkmath datasets``).

Downloads stream into ``<file>.part`` and resume with an HTTP Range request after an interruption (a server that
ignores Range is handled by starting over). Only a file whose checksum matches the catalog is renamed into place,
atomically; a damaged download is moved aside to ``<file>.corrupt`` so that it is never read as data. Plain urllib,
so no new dependency.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from inkmath.errors import InkmathError, __version__
from inkmath.data import catalog
from inkmath.data.catalog import CATALOG, DataFile

CHUNK = 1 << 16
USER_AGENT = f"inkmath/{__version__}"
TRANSIENT_HTTP = {408, 425, 429, 500, 502, 503, 504}


@dataclass
class FileResult:
    """What happened to one file: ``status`` is "downloaded" or "present" (already there with the right checksum)."""

    dataset: str
    path: Path
    status: str
    size: int
    received: int = 0  # bytes that came over the network in this call


class _Retry(Exception):
    """A transient failure: try the same URL again (resuming from the ``.part`` file)."""


# ------------------------------------------------------------------------------------------------ checksums
def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def parse_checksum(text: str) -> tuple[str, str]:
    """``"sha256:ab12..."`` or ``"md5:..."`` -> (algorithm, lower-case hex)."""
    algo, sep, digest = text.partition(":")
    algo = algo.strip().lower()
    digest = digest.strip().lower()
    if not sep or algo not in ("md5", "sha256") or not re.fullmatch(r"[0-9a-f]+", digest):
        raise InkmathError(f"Bad checksum {text!r}; write it as md5:<hex> or sha256:<hex>")
    return algo, digest


# ------------------------------------------------------------------------------------------------ one file
def _mirror_urls(f: DataFile, base_url: str | None) -> tuple[str, ...]:
    base = base_url or os.environ.get("INKMATH_MIRROR") or ""
    if base:
        return (base.rstrip("/") + "/" + f.path,)
    return f.urls


def _content_range(value: str | None) -> tuple[int | None, int | None]:
    """``"bytes 100-199/200"`` -> (100, 200); ``"bytes */200"`` -> (None, 200)."""
    m = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not m:
        return None, None
    start = int(m.group(1)) if m.group(1) is not None else None
    total = int(m.group(2)) if m.group(2) != "*" else None
    return start, total


def _transfer(url: str, part: Path, size: int | None, timeout: float, bar: "_Bar") -> None:
    """Bring ``part`` up to the whole file from ``url``. Raises _Retry when cut off (``part`` keeps what came)."""
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:  # longer than the real file: it cannot be a prefix of it
        part.unlink()
        have = 0
    if size is not None and have == size:
        bar.update(total=size, completed=have)
        return  # already whole; the checksum decides
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "identity"}
    if have:
        headers["Range"] = f"bytes={have}-"
    try:
        resp = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as e:
        if e.code == 416 and have:  # nothing left after `have`: complete if the server says so, else start over
            _, total = _content_range(e.headers.get("Content-Range"))
            e.close()
            if total == have:
                return
            part.unlink()
            raise _Retry(f"the server refused to resume {part.name}; starting over") from None
        raise
    received = 0
    with resp:
        if have and resp.status == 206:
            start, total = _content_range(resp.headers.get("Content-Range"))
            if start != have:
                part.unlink()
                raise _Retry(f"the server resumed at byte {start}, not {have}; starting over")
        else:  # 200: the server ignored Range (or there was nothing to resume); write from the start
            have, total = 0, None
        length = resp.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        if total is None and expected is not None:
            total = have + expected
        bar.update(total=total or size, completed=have)
        with open(part, "ab" if have else "wb") as out:
            try:
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    received += len(block)
                    bar.advance(len(block))
            except (http.client.IncompleteRead, ConnectionError, TimeoutError, socket.timeout) as e:
                raise _Retry(f"connection lost after {have + received} bytes ({e.__class__.__name__})") from None
            finally:
                out.flush()
                os.fsync(out.fileno())
    if expected is not None and received < expected:
        raise _Retry(f"connection closed after {have + received} of {have + expected} bytes")


def _is_transient(e: BaseException) -> bool:
    if isinstance(e, HTTPError):
        return e.code in TRANSIENT_HTTP
    if isinstance(e, URLError):
        # A dropped or timed-out connection may work next time; an unknown host, a refused connection or a TLS
        # failure will not, and retrying them would only make an offline user wait.
        return isinstance(e.reason, (TimeoutError, socket.timeout, ConnectionResetError, ConnectionAbortedError))
    return isinstance(e, (_Retry, ConnectionError, TimeoutError, socket.timeout, http.client.HTTPException))


def _describe(e: BaseException) -> str:
    if isinstance(e, HTTPError):
        return f"HTTP {e.code} {e.reason}"
    if isinstance(e, URLError):
        return str(e.reason)
    return str(e) or e.__class__.__name__


def fetch(urls: Sequence[str], dest: Path, *, checksum: tuple[str, str] | None = None, size: int | None = None,
          official_url: str | None = None, progress=None, retries: int = 3, backoff: float = 1.0,
          timeout: float = 30.0, dataset: str = "") -> FileResult:
    """Download one file to ``dest`` from the first of ``urls`` that works, resuming and verifying.

    ``progress`` is a rich ``Progress`` (or None). ``backoff`` seconds double after each transient failure.
    """
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    hand = official_url or (urls[0] if urls else "its official source")
    if not urls:
        raise InkmathError(f"{dest.name} has no download address; get it by hand from {hand} and put it at {dest}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    bar = _Bar(progress, dest.name, size)
    last: BaseException | None = None
    tried: list[str] = []
    try:
        for url in urls:
            for attempt in range(retries + 1):
                try:
                    _transfer(url, part, size, timeout, bar)
                    last = None
                    break
                except (HTTPError, URLError, _Retry, ConnectionError, TimeoutError, socket.timeout,
                        http.client.HTTPException) as e:
                    last = e
                    if not _is_transient(e):
                        break  # a 404 or a TLS failure will not change on retry: try the next mirror
                    if attempt < retries:
                        time.sleep(backoff * 2 ** attempt)
            if last is None:
                break
            tried.append(f"{url}: {_describe(last)}")
    finally:
        bar.done()
    if last is not None:
        msg = _failure_message(last, url, hand, dest, part)
        if len(tried) > 1:
            msg += " Tried: " + "; ".join(tried) + "."
        raise InkmathError(msg) from None
    _verify(part, dest, checksum, size, hand)
    os.replace(part, dest)
    return FileResult(dataset, dest, "downloaded", dest.stat().st_size, bar.received)


def _failure_message(e: BaseException, url: str, hand: str, dest: Path, part: Path) -> str:
    kept = ""
    if part.exists() and part.stat().st_size:
        kept = (f" The {part.stat().st_size} bytes received are kept in {part}; running the command again continues "
                f"from there.")
    if isinstance(e, HTTPError):
        what = f"inkmath cannot download {dest.name}: {url} answered {_describe(e)}."
    elif isinstance(e, URLError):
        what = f"inkmath cannot reach {urlsplit(url).netloc} ({_describe(e)})."
    else:
        what = f"inkmath could not finish downloading {dest.name} from {urlsplit(url).netloc}: {_describe(e)}."
    return f"{what} Download {dest.name} by hand from {hand} and put it at {dest}.{kept}"


def _verify(part: Path, dest: Path, checksum: tuple[str, str] | None, size: int | None, hand: str) -> None:
    """Check a finished ``.part``; a bad one is moved aside to ``<name>.corrupt`` so nothing reads it as data."""
    problem = None
    if checksum is not None:
        algo, want = checksum
        got = file_digest(part, algo)
        if got != want:
            problem = f"its {algo} is {got}, expected {want}"
    elif size is not None and part.stat().st_size != size:
        problem = f"it has {part.stat().st_size} bytes, expected {size}"
    if problem is None:
        return
    bad = dest.with_name(dest.name + ".corrupt")
    os.replace(part, bad)
    raise InkmathError(
        f"Downloaded {dest.name} is damaged or not the expected file: {problem}. It was moved aside to {bad} and "
        f"nothing was put at {dest}. Run the command again to download it afresh; if this repeats, download it by "
        f"hand from {hand} and put it at {dest}, or use another mirror (--mirror / INKMATH_MIRROR).")


class _Bar:
    """One rich progress task (bytes, speed, ETA), or nothing when progress is off."""

    def __init__(self, progress, name: str, size: int | None):
        self.progress = progress
        self.received = 0  # bytes that came over the network, over all attempts
        self.task = progress.add_task(name, total=size) if progress is not None else None

    def update(self, total: int | None, completed: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, total=total, completed=completed)

    def advance(self, n: int) -> None:
        self.received += n
        if self.task is not None:
            self.progress.advance(self.task, n)

    def done(self) -> None:
        if self.task is not None:
            self.progress.stop_task(self.task)


def _progress_bar():
    from rich.console import Console
    from rich.progress import (BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn,
                               TransferSpeedColumn)

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=Console(stderr=True), transient=True)


# ------------------------------------------------------------------------------------------------ data sets
def _expected(f: DataFile, checksums: dict[str, str] | None) -> tuple[str, str] | None:
    if checksums:
        for key in (f.path, f.filename):
            if key in checksums:
                return parse_checksum(checksums[key])
    return f.checksum()


def download_set(name: str, dest_dir: str | os.PathLike | None = None, *, base_url: str | None = None,
                 progress: bool = True, checksums: dict[str, str] | None = None, force: bool = False,
                 retries: int = 3, backoff: float = 1.0, timeout: float = 30.0) -> list[FileResult]:
    """Like :func:`download`, but says per file whether it was downloaded or already present."""
    from inkmath.data import data_dir

    info = catalog.get(name)
    root = Path(dest_dir) if dest_dir is not None else data_dir()
    results: list[FileResult] = []
    todo: list[tuple[DataFile, Path]] = []
    for f in info.files:
        dest = root / f.path
        want = _expected(f, checksums)
        if dest.is_file():
            # A checksum of one particular packing (CROHME) says nothing about a file the user packed.
            trusted = f.checksum_official or want != f.checksum()
            if want is None or not trusted or file_digest(dest, want[0]) == want[1]:
                results.append(FileResult(info.name, dest, "present", dest.stat().st_size))
                continue
            if not force:
                raise InkmathError(
                    f"{dest} exists but its {want[0]} is not {want[1]}: it is damaged or a different packing. Move it "
                    f"away, or run `inkmath download {info.name} --force` to download it again (the old file is kept "
                    f"as {dest.name}.old).")
            os.replace(dest, dest.with_name(dest.name + ".old"))
        todo.append((f, dest))
    if not todo:
        return results
    if not info.downloadable:
        missing = "\n".join(f"  missing: {d}" for _, d in todo)
        raise InkmathError(f"inkmath cannot download {info.name} automatically.\n"
                           f"{catalog.manual_instructions(info, root)}\n{missing}")
    bar = _progress_bar() if progress else None
    if bar is not None:
        bar.start()
    try:
        for f, dest in todo:
            urls = _mirror_urls(f, base_url)
            results.append(fetch(urls, dest, checksum=_expected(f, checksums), size=f.size,
                                 official_url=f.urls[0] if f.urls else None, progress=bar, retries=retries,
                                 backoff=backoff, timeout=timeout, dataset=info.name))
    finally:
        if bar is not None:
            bar.stop()
    order = {f.path: i for i, f in enumerate(info.files)}
    return sorted(results, key=lambda r: order[r.path.relative_to(root).as_posix()])


def download(name: str, dest_dir: str | os.PathLike | None = None, *, base_url: str | None = None,
             progress: bool = True, checksums: dict[str, str] | None = None, force: bool = False,
             retries: int = 3, backoff: float = 1.0, timeout: float = 30.0) -> list[Path]:
    """Fetch data set ``name`` ("mnist", "hasy", or "all" for every downloadable set) into ``dest_dir``.

    Files already present with the right checksum are skipped. ``base_url`` (else ``$INKMATH_MIRROR``) replaces the
    official host: file ``mnist/x.gz`` is then fetched from ``BASE_URL/mnist/x.gz``. ``checksums`` maps a file
    (catalog path or file name) to ``"sha256:<hex>"``/``"md5:<hex>"`` to override the catalog. Returns the paths.
    """
    names = catalog.DOWNLOADABLE if name == "all" else (name,)
    paths: list[Path] = []
    for n in names:
        paths += [r.path for r in download_set(n, dest_dir, base_url=base_url, progress=progress, checksums=checksums,
                                               force=force, retries=retries, backoff=backoff, timeout=timeout)]
    return paths


def dataset_status(root: str | os.PathLike | None = None, *, verify: bool = False) -> list[dict]:
    """For every catalog entry: which files are under ``root`` (sizes, optionally checksums) and the specs to use."""
    from inkmath.data import data_dir, list_readers

    root = Path(root) if root is not None else data_dir()
    readers = list_readers()
    out = []
    for info in CATALOG.values():
        files = []
        for f in info.files:
            p = root / f.path
            row = {"path": f.path, "found": p.is_file(), "size": p.stat().st_size if p.is_file() else None,
                   "expected_size": f.size}
            want = f.checksum()
            if verify and p.is_file() and want is not None:
                row["checksum"] = "ok" if file_digest(p, want[0]) == want[1] else (
                    "differs" if f.checksum_official else "other packing")
            files.append(row)
        found = sum(r["found"] for r in files)
        if info.scheme not in readers:
            specs = [f"(no {info.scheme!r} reader in this version)"]
        else:
            specs = list(info.specs) or [readers[info.scheme]]
        out.append({
            "name": info.name, "title": info.title, "found": found, "files_total": len(files),
            "complete": found == len(files), "size": sum(r["size"] or 0 for r in files),
            "specs": specs, "downloadable": info.downloadable,
            "get": f"inkmath download {info.name}" if info.downloadable else info.homepage,
            "files": files,
        })
    return out


def human_size(n: int) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return str(n)
