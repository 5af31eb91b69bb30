"""``inkmath sweep``: grid and TPE studies in SQLite; a study killed mid-trial resumes without rerunning trials."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from inkmath.cli import main as cli_main
from inkmath.training.config import make_config

from conftest import shapes


def _folder(root: Path, per_class: int) -> Path:
    x, y = shapes(per_class, size=32, seed=7)
    for i, (im, c) in enumerate(zip(x, y)):
        (root / f"c{c}").mkdir(parents=True, exist_ok=True)
        Image.fromarray(im).save(root / f"c{c}" / f"{i:04d}.png")
    return root


def _sets(folder: Path, **extra) -> list[str]:
    values = {"dataset": f"folder:{folder}", "val_fraction": 0.2, "model": "seed-cnn", "batch_size": 16,
              "epochs": 1, "threads": 1, "checkpoint_seconds": 0, **extra}
    return [a for k, v in values.items() for a in ("--set", f"{k}={v}")]


def _runs(out: Path) -> list[dict]:
    """The objective's log: one dict per 'start'/'done' line."""
    rows = []
    for line in (out / "trial_runs.log").read_text().splitlines():
        kind, *fields = line.split(" ", 4)
        rows.append({"kind": kind, **dict(f.split("=", 1) for f in fields if "=" in f and not f.startswith("params"))})
    return rows


def _trials(storage: str, study: str):
    import optuna

    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def test_grid_sweep_writes_heatmap_importances_and_a_loadable_recipe(tmp_path, capsys):
    folder = _folder(tmp_path / "set", 10)
    out = tmp_path / "sweep"
    args = ["sweep", "--out", str(out), "--study", "g", "--grid", "lr=1e-3,1e-2", "--grid", "batch_size=8,16",
            *_sets(folder), "--json"]
    assert cli_main(args) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["complete"] == summary["trials"] == 4
    assert (out / "heatmap.png").read_bytes().startswith(b"\x89PNG")
    assert summary["importances"] is not None or "could not be computed" in summary["importances_error"]
    best = make_config(out / "best.yaml")  # loadable by `inkmath train --config`
    assert best.lr == summary["best"]["params"]["lr"] and best.batch_size == summary["best"]["params"]["batch_size"]
    trials = {t.number: t for t in _trials(f"sqlite:///{out / 'study.db'}", "g")}
    assert summary["best"]["value"] == max(t.value for t in trials.values())
    for t in trials.values():  # each trial trained its own run with its own parameters
        cfg = make_config(Path(t.user_attrs["run_dir"]) / "config.yaml")
        assert (cfg.lr, cfg.batch_size) == (t.params["lr"], t.params["batch_size"])
    # a second call finds the grid complete and runs nothing
    assert cli_main(args) == 0
    assert sum(r["kind"] == "start" for r in _runs(out)) == 4


def test_importances_that_cannot_be_computed_are_reported(tmp_path):
    import optuna
    from optuna.distributions import FloatDistribution

    from inkmath.training.sweep import summarize

    storage = f"sqlite:///{tmp_path / 's.db'}"
    study = optuna.create_study(study_name="one", storage=storage, direction="maximize")
    study.add_trial(optuna.create_trial(params={"lr": 1e-3}, distributions={"lr": FloatDistribution(1e-4, 1e-1)},
                                        value=0.5))
    summary = summarize(storage, "one", tmp_path / "out")
    assert summary["importances"] is None and "could not be computed" in summary["importances_error"]
    assert make_config(tmp_path / "out" / "best.yaml").lr == 1e-3


@pytest.mark.slow
def test_tpe_search_reaches_the_requested_trials(tmp_path, capsys):
    folder = _folder(tmp_path / "set", 8)
    out = tmp_path / "tpe"
    assert cli_main(["sweep", "--sampler", "tpe", "--trials", "3", "--out", str(out), "--study", "t",
                     *_sets(folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["complete"] == 3
    assert set(summary["best"]["params"]) == {"lr", "weight_decay", "batch_size", "label_smoothing", "augment"}
    make_config(out / "best.yaml")


@pytest.mark.slow
def test_killed_study_resumes_without_rerunning_finished_trials(tmp_path):
    """SIGKILL while a trial trains; the resumed study (two workers) re-queues that trial and skips finished ones."""
    folder = _folder(tmp_path / "set", 150)  # 600 images: an epoch lasts long enough to be killed in
    out = tmp_path / "sweep"
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    # grace 20 s: a loaded machine can starve a live trial's heartbeat thread for seconds
    cmd = [sys.executable, "-m", "inkmath", "sweep", "--out", str(out), "--storage", storage, "--study", "k",
           "--grid", "lr=1e-3,3e-3", "--grid", "epochs=2,3", "--heartbeat", "2", "--grace", "20",
           *_sets(folder, epochs=2)]
    env = dict(os.environ, INKMATH_CACHE=str(tmp_path / "cache"), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    killed_key = None
    deadline = time.monotonic() + 900
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            log = out / "trial_runs.log"
            runs = _runs(out) if log.exists() else []
            if runs and any(r["kind"] == "done" for r in runs) and runs[-1]["kind"] == "start":
                run = out / "trials" / f"trial-{int(runs[-1]['key']):04d}"
                # kill inside the trial's training: its first epoch is checkpointed, its weights not yet written
                if (run / "checkpoint_last.pt").exists() and not (run / "weights.safetensors").exists():
                    os.kill(proc.pid, signal.SIGKILL)
                    killed_key = runs[-1]["key"]
                    break
            time.sleep(0.05)
    finally:
        if proc.poll() is None and killed_key is None:
            proc.kill()
        proc.wait()
    assert killed_key is not None, f"the sweep ended before it could be killed: {proc.stdout.read()[-2000:]}"
    from optuna.trial import TrialState

    before = _runs(out)
    finished_before = {r["key"] for r in before if r["kind"] == "done"}
    assert [t.state for t in _trials(storage, "k")].count(TrialState.RUNNING) == 1

    res = subprocess.run(cmd + ["--workers", "2", "--json"], env=env, capture_output=True, text=True, timeout=900)
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    after = _runs(out)[len(before):]
    trials = _trials(storage, "k")
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(complete) == 4 and summary["complete"] == 4  # the study completed
    assert len({(t.params["lr"], t.params["epochs"]) for t in complete}) == 4  # every grid point exactly once
    assert [t.state for t in trials].count(TrialState.FAIL) == 1  # the killed trial, failed by its heartbeat
    assert not {r["key"] for r in after if r["kind"] == "start"} & finished_before  # no finished trial ran twice
    restarted = [r for r in after if r["kind"] == "start" and r["key"] == killed_key]
    assert len(restarted) == 1  # the killed trial was re-queued once, into its own folder (resumed from checkpoint)
    done = [r["key"] for r in _runs(out) if r["kind"] == "done"]
    assert sorted(done) == sorted(set(done)) and len(done) == 4



def _race_worker(opts: dict, both_run, both_sampled) -> None:
    """A sweep worker whose training is a no-op, which decides to run a trial together with the other worker
    (``both_run``) and then waits for the other's sampling after its own (``both_sampled``)."""
    import threading

    import inkmath.training.loop as loop
    from inkmath.training import sweep

    loop.fit = lambda cfg, resume=False, progress=False: None
    loop.load_history = lambda run: [{"val_acc": 0.5}]
    next_step, suggest = sweep._next_step, sweep._suggest

    def meet(barrier) -> None:
        try:
            barrier.wait(3)
        except threading.BrokenBarrierError:  # the other worker waits for the claim lock (or is done)
            pass

    def next_step_together(study, o):
        step = next_step(study, o)
        if step == "run":
            meet(both_run)
        return step

    def suggest_then_meet(trial, sampler, grid):
        params = suggest(trial, sampler, grid)
        meet(both_sampled)
        return params

    sweep._next_step, sweep._suggest = next_step_together, suggest_then_meet
    sweep.run_worker(opts)


def test_two_workers_sampling_at_once_never_both_stand_down(tmp_path):
    """Two workers claim a trial at the same moment: the claim lock lets one sample at a time, so the grid point is
    trained once, instead of both workers drawing it, each seeing the other's duplicate and standing down."""
    import multiprocessing

    import optuna
    from optuna.trial import TrialState

    from inkmath.training import sweep

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    opts = {"out": str(tmp_path / "sweep"), "storage": storage, "study": "race", "sampler": "grid",
            "grid": {"lr": [1e-3]}, "seed": 0, "heartbeat": 60, "grace": 120, "threads": 1, "config": None,
            "sets": {"dataset": f"folder:{tmp_path}"}, "trials": 1}
    sweep.open_study(storage, "race", "grid", opts["grid"])  # created once, before the workers load it
    ctx = multiprocessing.get_context("fork")
    both_run, both_sampled = ctx.Barrier(2), ctx.Barrier(2)  # without the lock both workers sample, then both check
    workers = [ctx.Process(target=_race_worker, args=(opts, both_run, both_sampled)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    states = [t.state for t in optuna.load_study(study_name="race", storage=storage).get_trials(deepcopy=False)]
    print(states, (tmp_path / "sweep" / "trial_runs.log").read_text())
    assert states.count(TrialState.COMPLETE) == 1, states
