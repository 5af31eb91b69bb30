"""Read many files at once: on every core of this machine, or on a Dask cluster's workers.

    from inkmath.batch import BatchConfig, process_executor, read_batch

    config = BatchConfig(task="recognize", solve=False, threads=1)
    with process_executor(2, config) as pool:
        for item in read_batch(paths, config, pool):      # in the order of `paths`, as soon as each is ready
            print(item.file, item.error or item.result["latex"])

`read_batch` maps `read_one` (a module-level function, so it pickles by name) over the files on any
`concurrent.futures.Executor`, or in this process without one, and yields one `FileResult` per file in input order.
A file that cannot be read (an `InkmathError`: not an image, no ink, too large, ...) becomes a result with `error`
set, in its place; the other files are read as ever. A worker process that dies takes only the files it held.

Each reading process loads its models once: `prepare_worker` reads a small expression the first time it is called
for a config (a `ProcessPoolExecutor`'s initializer; on a Dask worker the first job calls it, and later jobs find it
done) and sets its numeric libraries to `BatchConfig.threads` threads, so N processes on N cores do not fight.

`cluster_executor(address)` is the same batch on a Dask cluster (``distributed``, imported only there): the workers
read the files by their paths, so every worker must see them (a shared folder) and have inkmath installed.
"""

from __future__ import annotations

import math
import os
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import BrokenExecutor, Executor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from inkmath.errors import InkmathError

TASKS = ("recognize", "page", "check")
# A reading process costs its start and its models (about 2 s of CPU here: torch's import 1.1 s, the reader's models
# and a first read 0.9 s), what one process reads in 30-40 CROHME expressions; 40 InkML files read in 2 processes took
# as long as in one (2 cores, shared; docs/decisions/speed.md). So without --jobs the batch starts one process for every FILES_PER_PROCESS files at
# most: a few files are read in the caller's process, without a start. A page photo takes seconds, a typed solution
# about a tenth of one (its processes load no reader models, but SymPy).
FILES_PER_PROCESS = {"recognize": 32, "page": 2, "check": 8}
# Files handed to the executor ahead of the one being yielded, per process: enough that no process waits while the
# results are printed in order, few enough that a batch of 100,000 files does not hold 100,000 futures.
AHEAD_PER_PROCESS = 4
# Threads of each numeric library in a reading process, set from the environment before the library loads (torch
# takes OMP_NUM_THREADS). OpenCV's own pool too: on an image read its threads took about 0.16 of the CPU for no gain
# in wall time (image crops, resizes and components are small; docs/decisions/speed.md).
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENCV_FOR_THREADS_NUM")
# what `prepare_worker` reads once per process: two strokes, "1" and "-", which loads the stroke reader's models
WARM_UP_STROKES = [[(10.0, 0.0), (25.0, -10.0), (25.0, 60.0)], [(50.0, 30.0), (90.0, 30.0)]]
CLUSTER_INSTALL = "pip install 'inkmath[cluster]' (or pip install distributed)"
CLUSTER_TIMEOUT_S = 10  # seconds to reach a scheduler before giving up


@dataclass(frozen=True)
class BatchConfig:
    """What each file of a batch is read as and with what; the same for every file and every worker.

    ``task``: ``recognize`` (one expression a file: an image or .inkml), ``page`` (every expression on a page
    photo) or ``check`` (a worked solution: a text file or a photo of the lines). ``threads``: threads of torch,
    ONNX Runtime's classifier, BLAS and OpenCV in each reading process (None: leave them as they are)."""

    task: str = "recognize"
    weights: str | None = None
    solve: bool = True
    steps: bool = False
    plot: bool = False
    debug_dir: str | None = None  # page: each photo's intermediate images go to debug_dir/<file's stem>/
    threads: int | None = None

    def __post_init__(self):
        if self.task not in TASKS:
            raise InkmathError(f"Unknown batch task {self.task!r}; choose one of: {', '.join(TASKS)}")


@dataclass
class FileResult:
    """One file of a batch: ``result`` (its JSON form: ``to_dict`` of the reading or the check) or ``error`` (one
    line, ``FILE: what is wrong; what to do``, or without the file's name when the message does not start with it)."""

    index: int
    file: str
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def limit_threads(threads: int) -> None:
    """Each numeric library of this process on ``threads`` threads: BLAS and OpenCV through the environment unless
    it says otherwise (read when they load: call this early), OpenCV and torch also directly when already loaded."""
    threads = max(1, int(threads))
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    if "cv2" in sys.modules:  # loaded already: the variable is read when OpenCV loads
        sys.modules["cv2"].setNumThreads(int(os.environ["OPENCV_FOR_THREADS_NUM"]))
    if "torch" in sys.modules:  # else torch takes OMP_NUM_THREADS when it loads
        sys.modules["torch"].set_num_threads(int(os.environ["OMP_NUM_THREADS"]))


_PREPARED: set[BatchConfig] = set()


def prepare_worker(config: BatchConfig) -> None:
    """Make this process ready to read ``config``'s files: its threads, then its models loaded once (the first
    call for a config reads a two-stroke expression; later calls return at once)."""
    if config in _PREPARED:
        return
    if config.threads:
        limit_threads(config.threads)
    if config.task in ("recognize", "page"):
        import numpy as np

        from inkmath.equation.recognize import get_predictor, recognize_strokes

        predictor = get_predictor(config.weights)
        recognize_strokes([np.asarray(s) for s in WARM_UP_STROKES], predictor, solve=False)
    if config.solve or config.task == "check":
        from inkmath.equation.solve.pool import launch_workers

        launch_workers(1, plotting=config.plot)  # the solver's worker imports SymPy meanwhile
    from inkmath.gcutil import freeze_startup_heap

    freeze_startup_heap()  # the models and libraries stay: full collections need not walk them
    _PREPARED.add(config)


def read_one(index: int, file: str, config: BatchConfig) -> FileResult:
    """The job a batch's executor runs: this process prepared (once), then ``read_file``."""
    prepare_worker(config)
    return read_file(index, file, config)


def read_file(index: int, file: str, config: BatchConfig) -> FileResult:
    """Read one file of a batch as ``config`` says; a user error (``InkmathError``) is the result's ``error``."""
    try:
        return FileResult(index, file, _read(file, config))
    except InkmathError as e:
        return FileResult(index, file, error=" ".join(str(e).split()))


def _read(file: str, config: BatchConfig) -> dict:
    path = Path(file)
    if config.task == "recognize":
        from inkmath.equation.inputs import recognize_file
        from inkmath.equation.recognize import to_dict

        rec = recognize_file(path, config.weights, solve=config.solve, steps=config.steps, plot=config.plot)
        return to_dict(rec, file)
    if config.task == "page":
        from inkmath.equation.page.read import read_page

        if path.suffix.lower() == ".inkml":  # else "not a readable image (unknown format)"
            raise InkmathError(f"{file}: an InkML file is ink, not a photo of a page; read it without --page")
        debug = Path(config.debug_dir) / path.stem if config.debug_dir else None
        reading = read_page(path, weights=config.weights, solve=config.solve, debug_dir=debug, name=file)
        return reading.to_dict(file)
    from inkmath.api import check

    return check(path).to_dict(file)


def lost_worker_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that say a worker died with a job (not that the job's file was bad): a process pool's, and
    Dask's when it is loaded."""
    errors: tuple[type[BaseException], ...] = (BrokenExecutor,)
    if "distributed" in sys.modules:
        errors += (sys.modules["distributed"].KilledWorker,)
    return errors


def read_batch(files: Iterable[str | os.PathLike], config: BatchConfig, executor: Executor | None = None,
               ahead: int = 8) -> Iterator[FileResult]:
    """One ``FileResult`` per file, in the order of ``files``, each as soon as it and those before it are read.

    ``executor``: any ``concurrent.futures.Executor`` (``process_executor``, ``cluster_executor``); None reads in
    this process, one file after another. ``ahead``: files submitted ahead of the one awaited (the executor's
    processes times a few). A worker that dies gives the files it held an error; the rest are read."""
    items = ((i, str(f)) for i, f in enumerate(files))
    if executor is None:
        for index, file in items:
            yield read_file(index, file, config)
        return
    pending: deque = deque((i, f, executor.submit(read_one, i, f, config)) for i, f in islice(items, max(1, ahead)))
    lost = lost_worker_errors()
    while pending:
        index, file, future = pending.popleft()
        try:
            yield future.result()
        except lost as e:
            reason = " ".join(str(e).split()) or type(e).__name__
            yield FileResult(index, file, error=f"the process reading it stopped ({reason}); read it again with "
                                                "--jobs 1 to see why")
        for i, f in islice(items, 1):
            pending.append((i, f, executor.submit(read_one, i, f, config)))


def default_jobs() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def auto_jobs(count: int, task: str, cores: int | None = None) -> int:
    """Reading processes for ``count`` files when none were asked for: a core each, but one per
    ``FILES_PER_PROCESS[task]`` files at most, so that a few files are read in this process, without a start."""
    return max(1, min(cores or default_jobs(), math.ceil(count / FILES_PER_PROCESS[task])))


def process_executor(jobs: int, config: BatchConfig):
    """``jobs`` fresh reading processes (spawned: never a fork of a caller that may hold threads or torch), each
    prepared once by ``prepare_worker``."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"), initializer=prepare_worker,
                               initargs=(config,))


@contextmanager
def cluster_executor(address: str) -> Iterator[tuple[Executor, int]]:
    """(an executor on the Dask cluster whose scheduler is at ``address``, the threads of its workers). Needs
    ``distributed``; a scheduler that cannot be reached is an ``InkmathError`` saying so."""
    try:
        import distributed
    except ImportError:
        raise InkmathError(f"--scheduler needs the distributed package: {CLUSTER_INSTALL}") from None
    try:
        client = distributed.Client(address, timeout=CLUSTER_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as e:  # ValueError: an address scheme Dask does not know
        raise InkmathError(f"no Dask scheduler answered at {address} ({' '.join(str(e).split())[:200]}); start one "
                           "with `dask scheduler` and give its address (tcp://HOST:8786)") from None
    with client:
        threads = sum(client.nthreads().values())
        if threads == 0:
            raise InkmathError(f"the Dask scheduler at {address} has no workers; start some with "
                               f"`dask worker {address}`")
        yield client.get_executor(pure=False), threads


@contextmanager
def open_executor(jobs: int, config: BatchConfig, scheduler: str | None = None) -> Iterator[tuple[Executor | None, int]]:
    """(the executor a batch runs on, the files to hand it ahead): the Dask cluster at ``scheduler``, else ``jobs``
    processes, else (jobs 1) none: the files are read in this process."""
    if scheduler:
        with cluster_executor(scheduler) as (executor, threads):
            yield executor, AHEAD_PER_PROCESS * threads
        return
    if jobs <= 1:
        yield None, 1
        return
    executor = process_executor(jobs, config)
    try:
        yield executor, AHEAD_PER_PROCESS * jobs
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
