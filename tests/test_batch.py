"""Many files at once (``inkmath.batch``, ``--jobs``, ``--scheduler``): the same lines in the same order as one
process, each bad file its own error in its place, on a process pool and on a Dask cluster of two workers."""

from __future__ import annotations

import json
import shutil
import sys
from concurrent.futures import BrokenExecutor, Future, ThreadPoolExecutor
from importlib import resources
from pathlib import Path

import pytest

from inkmath.batch import BatchConfig, FileResult, auto_jobs, read_batch
from inkmath.cli import main
from inkmath.weights import list_shipped

EXAMPLES = resources.files("inkmath.examples")
needs = pytest.mark.skipif("crohme-m" not in set(list_shipped()), reason="needs the shipped weights")


@pytest.fixture
def files(tmp_path) -> list[str]:
    """Three bundled equations and a text file named .png between them (a per-file error in its place)."""
    names = ["equation_linear.png", "system.png", "equation_quadratic.png"]
    paths = [Path(shutil.copy(EXAMPLES / name, tmp_path / name)) for name in names]
    bad = tmp_path / "notes.png"
    bad.write_text("these are notes, not pixels\n")
    return [str(p) for p in paths[:2] + [bad] + paths[2:]]


def _run(capsys, *args: str) -> tuple[int, list[str], list[str]]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err.splitlines()


@needs
@pytest.mark.slow
def test_two_processes_print_what_one_prints_in_the_same_order(files, capsys):
    one = _run(capsys, "recognize", "--json", "--no-solve", "--jobs", "1", *files)
    two = _run(capsys, "recognize", "--json", "--no-solve", "--jobs", "2", *files)
    assert one == two
    code, out, err = one
    rows = [json.loads(line) for line in out]
    assert code == 1 and [r["file"] for r in rows] == files
    assert rows[0]["latex"] == "3x+5=11" and "error" in rows[2] and "not a readable image" in rows[2]["error"]
    assert err == [f"{files[2]}: {rows[2]['error']}"]


@needs
@pytest.mark.slow
def test_a_dask_cluster_of_two_workers_reads_what_one_process_reads(files, capsys):
    distributed = pytest.importorskip("distributed")
    one = _run(capsys, "recognize", "--json", "--no-solve", "--jobs", "1", *files)
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
        on_cluster = _run(capsys, "recognize", "--json", "--no-solve", "--scheduler", cluster.scheduler_address, *files)
    assert on_cluster == one


def _solutions(tmp_path) -> list[str]:
    good = tmp_path / "good.txt"
    good.write_text("2x+3=11\n2x=8\nx=4\n")
    wrong = tmp_path / "wrong.txt"
    wrong.write_text("2x+3=11\n2x=14\nx=7\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    return [str(good), str(tmp_path / "missing.txt"), str(wrong), str(empty)]


def test_any_executor_gives_the_results_in_input_order_and_errors_in_place(tmp_path):
    """``read_batch`` over a thread pool: the order of the files, whatever order they finish in; a file that cannot
    be read is an error record in its place, and the files after it are still read."""
    paths = _solutions(tmp_path)
    config = BatchConfig("check")
    here = list(read_batch(paths, config))
    with ThreadPoolExecutor(2) as pool:
        pooled = list(read_batch(paths, config, pool, ahead=3))
    assert pooled == here
    assert [r.index for r in here] == [0, 1, 2, 3] and [r.file for r in here] == paths
    assert [r.ok for r in here] == [True, False, True, False]
    assert here[0].result["first_wrong"] is None and here[2].result["first_wrong"] == 1
    assert "no such file" in here[1].error and "empty" in here[3].error


class _DeadPool:
    """An executor whose process died: every job it holds fails as a real pool's would."""

    def submit(self, fn, *args):
        future = Future()
        future.set_exception(BrokenExecutor("A process in the process pool was terminated abruptly"))
        return future


def test_a_worker_that_dies_gives_its_files_an_error_not_a_traceback(tmp_path):
    paths = _solutions(tmp_path)[:2]
    results = list(read_batch(paths, BatchConfig("check"), _DeadPool()))
    assert [r.file for r in results] == paths and not any(r.ok for r in results)
    assert all("the process reading it stopped" in r.error and "--jobs 1" in r.error for r in results)


def test_check_reads_a_batch_in_two_processes_as_in_one(tmp_path, capsys):
    paths = _solutions(tmp_path)
    one = _run(capsys, "check", "--json", "--jobs", "1", *paths)
    two = _run(capsys, "check", "--json", "--jobs", "2", *paths)
    assert one == two and one[0] == 1 and len(one[1]) == 4 and len(one[2]) == 2


def test_a_few_files_are_read_in_this_process_unless_processes_are_asked_for():
    assert auto_jobs(30, "recognize", cores=8) == 1 and auto_jobs(100, "recognize", cores=2) == 2
    assert auto_jobs(4, "page", cores=8) == 2 and auto_jobs(0, "check", cores=4) == 1
    with pytest.raises(Exception, match="choose one of: recognize, page, check"):
        BatchConfig("read")
    assert FileResult(0, "a.png", error="x").ok is False


def test_without_distributed_the_scheduler_option_says_what_to_install(files, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    code, out, err = _run(capsys, "recognize", "--scheduler", "tcp://127.0.0.1:8786", *files)
    assert code == 2 and out == []
    assert err == ["error: --scheduler needs the distributed package: pip install 'inkmath[cluster]' "
                   "(or pip install distributed)"]
    code, _, err = _run(capsys, "recognize", "--scheduler", "tcp://127.0.0.1:8786", "--jobs", "2", *files)
    assert code == 2 and "give one of them" in err[-1]


def test_a_reading_process_runs_torch_and_opencv_on_the_threads_it_is_given():
    """Loaded before or after: torch and OpenCV end on one thread each (the variables unset, as on a Dask worker
    started by hand), so N reading processes on N cores do not fight over them."""
    import os
    import subprocess

    code = ("import cv2, torch\n"
            "from inkmath.batch import limit_threads\n"
            "limit_threads(1)\n"
            "print(torch.get_num_threads(), cv2.getNumThreads())\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS") and k != "OPENCV_FOR_THREADS_NUM"}
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "1"]
