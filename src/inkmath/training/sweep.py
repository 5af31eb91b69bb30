"""``inkmath sweep``: hyper-parameter grids and TPE searches with Optuna, stored in SQLite so they resume.

Each trial trains with ``inkmath.training.loop.fit`` into its own folder (``OUT/trials/trial-NNNN``) from a base
recipe plus ``--set`` overrides plus the trial's parameters, and reports the best validation accuracy.

Why the study survives a kill: the SQLite storage records every finished trial, and a grid sampler never hands out
a finished grid point again. A trial left RUNNING by a killed process is found by Optuna's heartbeat (no beat for
``grace`` seconds), marked FAIL and re-queued with the same parameters (``RetryHeartbeatStaleTrialCallback``).
The re-queued trial keeps the original trial's folder, so its training resumes from the last checkpoint instead
of starting over. Several processes (``--workers N`` or separate commands) can share one study.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import time
import warnings
from pathlib import Path

import yaml

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_text
from inkmath.training.config import make_config

SEED_LRS = (1e-3, 2.5e-3, 5e-3, 7.5e-3, 1e-2)
SEED_EPOCHS = (1, 3, 5, 7)
TPE_SPACE = {  # name: (kind, low/choices, high)
    "lr": ("log", 3e-4, 3e-2),
    "weight_decay": ("log", 1e-6, 1e-2),
    "batch_size": ("cat", (32, 64, 128, 256), None),
    "label_smoothing": ("float", 0.0, 0.2),
    "augment": ("cat", ("none", "light"), None),
}
CLAIM_LOCK = ".claim.lock"  # held by the worker claiming a trial, released when its parameters are stored
RUN_LOG = "trial_runs.log"  # one line per trial start / finish: lets tests and people count trial runs


# ------------------------------------------------------------------------------------------------ parsing
def _number(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse_grid(items: list[str] | None) -> dict[str, list]:
    """``["lr=1e-3,5e-3", "epochs=1,3"]`` -> {"lr": [0.001, 0.005], "epochs": [1, 3]}; default: the seeds' grid."""
    if not items:
        return {"lr": list(SEED_LRS), "epochs": list(SEED_EPOCHS)}
    grid: dict[str, list] = {}
    for item in items:
        key, eq, values = item.partition("=")
        if not eq or not values:
            raise InkmathError(f"--grid expects KEY=V1,V2,..., got {item!r}")
        grid[key.strip().replace("-", "_")] = [_number(v.strip()) for v in values.split(",") if v.strip()]
    return grid


def parse_sets(items: list[str] | None) -> dict[str, str]:
    out = {}
    for item in items or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise InkmathError(f"--set expects KEY=VALUE, got {item!r}")
        out[key.strip().replace("-", "_")] = value
    return out


# ------------------------------------------------------------------------------------------------ study
def open_study(storage_url: str, study: str, sampler: str, grid: dict[str, list] | None, seed: int = 0,
               heartbeat: int = 10, grace: int = 60):
    """Create or load the study; the storage fails and re-queues trials whose heartbeat stopped."""
    import optuna
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    if not storage_url.startswith("sqlite:///"):
        raise InkmathError(f"--storage must be sqlite:///PATH.db, got {storage_url!r}")
    Path(storage_url[len("sqlite:///"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    storage = RDBStorage(storage_url, engine_kwargs={"connect_args": {"timeout": 60}},
                         heartbeat_interval=heartbeat, grace_period=grace,
                         heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3))
    if sampler == "grid":
        samp = optuna.samplers.GridSampler(grid, seed=seed)
    elif sampler == "tpe":
        samp = optuna.samplers.TPESampler(seed=seed, n_startup_trials=5)
    else:
        raise InkmathError(f"Unknown sampler {sampler!r}; choose grid or tpe")
    for attempt in range(5):  # two workers creating the same study at once: one wins, the other loads it
        try:
            return optuna.create_study(study_name=study, storage=storage, sampler=samp, direction="maximize",
                                       load_if_exists=True)
        except optuna.exceptions.DuplicatedStudyError:
            time.sleep(0.5 + attempt)
    raise InkmathError(f"Could not create or load study {study!r} in {storage_url}")


def _suggest(trial, sampler: str, grid: dict[str, list]) -> dict:
    if sampler == "grid":
        return {k: trial.suggest_categorical(k, v) for k, v in grid.items()}
    params = {}
    for name, (kind, a, b) in TPE_SPACE.items():
        if kind == "log":
            params[name] = trial.suggest_float(name, a, b, log=True)
        elif kind == "float":
            params[name] = trial.suggest_float(name, a, b)
        else:
            params[name] = trial.suggest_categorical(name, list(a))
    return params


def _original_number(trial) -> int:
    """A re-queued trial works in the folder of the trial it retries, so training resumes from its checkpoint."""
    frozen = [t for t in trial.study.get_trials(deepcopy=False) if t.number == trial.number]
    history = (frozen[0].system_attrs.get("retry_history") if frozen else None) or []
    return int(history[0]) if history else trial.number


def _log_run(out: Path, text: str) -> None:
    # O_APPEND writes of one short line are atomic, so several workers can share the log
    fd = os.open(out / RUN_LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, (text + "\n").encode())
    finally:
        os.close(fd)


@contextlib.contextmanager
def _exclusive(path: Path):
    """An exclusive lock on ``path`` across processes. The OS releases it when its process dies, so a killed worker
    never blocks the others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def _folder_lock(run: Path):
    """A trial folder's lock: a killed trial never blocks its retry, while a slow-but-alive one makes its retry wait
    instead of training in the same folder."""
    return _exclusive(run / ".trial.lock")


def make_objective(out: Path, study_name: str, sampler: str, grid: dict, recipe: str | None, sets: dict,
                   claimed=lambda: None):
    """The trial's training. ``claimed`` is called once the trial's parameters are stored and it has not stood down
    as a duplicate: the worker holds the study's claim lock until then (see ``run_worker``)."""
    from inkmath.training.loop import fit, load_history

    def objective(trial) -> float:
        import optuna
        from optuna.trial import TrialState as S

        params = _suggest(trial, sampler, grid)
        key = _original_number(trial)
        if sampler == "grid":  # a grid point already done or running elsewhere (the sampler's fallback): stand down
            same = [t for t in trial.study.get_trials(deepcopy=False, states=(S.COMPLETE, S.RUNNING))
                    if t.number != trial.number and t.params == params]
            if same:
                _log_run(out, f"skip trial={trial.number} key={key}: duplicate of trial {same[0].number}")
                raise optuna.TrialPruned(f"grid point {params} is already run by trial {same[0].number}")
        claimed()
        run = out / "trials" / f"trial-{key:04d}"
        cfg = make_config(recipe, {**sets, **params, "out": str(run), "name": f"{study_name}-trial-{key}"})
        trial.set_user_attr("run_dir", str(run))
        _log_run(out, f"start trial={trial.number} key={key} pid={os.getpid()} params={json.dumps(params)}")
        t0 = time.monotonic()
        with _folder_lock(run):  # waits while a live worker still trains here (a trial wrongly declared stale)
            if not (run / "weights.safetensors").exists():  # else: trained, but killed before Optuna heard of it
                fit(cfg, resume=(run / "checkpoint_last.pt").exists(), progress=False)
        history = load_history(run)
        if not history:
            raise InkmathError(f"trial {trial.number} wrote no metrics.csv in {run}")
        val = [r["val_acc"] for r in history if not math.isnan(r["val_acc"])]
        if not val:
            raise InkmathError("the sweep needs a validation set: set val or val_fraction > 0 in the recipe")
        trial.set_user_attr("final_val_acc", val[-1])
        trial.set_user_attr("seconds", time.monotonic() - t0)
        _log_run(out, f"done trial={trial.number} key={key} value={max(val):.6f}")
        return max(val)

    return objective


def _grid_points(grid: dict) -> list[tuple]:
    import itertools

    return list(itertools.product(*grid.values()))


def _taken(study, keys: list[str], states) -> list[tuple]:
    return [tuple(t.params.get(k) for k in keys) for t in study.get_trials(deepcopy=False, states=states)]


def _next_step(study, opts: dict) -> str:
    """"run" a trial, "wait" for other workers' running trials, or "done"."""
    from optuna.trial import TrialState as S

    if study.get_trials(deepcopy=False, states=(S.WAITING,)):
        return "run"  # a re-queued trial
    running = study.get_trials(deepcopy=False, states=(S.RUNNING,))
    if opts["sampler"] == "grid":
        keys = list(opts["grid"])
        taken = set(_taken(study, keys, (S.COMPLETE, S.FAIL, S.PRUNED, S.RUNNING)))
        if any(p not in taken for p in _grid_points(opts["grid"])):
            return "run"
    else:
        complete = len(study.get_trials(deepcopy=False, states=(S.COMPLETE,)))
        if complete + len(running) < int(opts["trials"]):
            return "run"
    return "wait" if running else "done"


def run_worker(opts: dict) -> None:
    """One worker: one trial at a time until the grid (or ``trials`` TPE trials) is complete.

    Running single trials lets the worker look at the study between trials: it never starts a grid point that
    another worker is running (GridSampler would duplicate it at the end of a grid), and it waits while other
    workers' trials run, failing and re-queueing them if their heartbeat stops.
    """
    import optuna

    import torch

    torch.set_num_threads(max(1, int(opts["threads"])))
    out = Path(opts["out"])
    out.mkdir(parents=True, exist_ok=True)
    study = open_study(opts["storage"], opts["study"], opts["sampler"], opts["grid"], opts["seed"],
                       opts["heartbeat"], opts["grace"])
    while True:
        optuna.storages.fail_stale_trials(study)
        step = _next_step(study, opts)
        if step == "done":
            return
        if step == "wait":
            time.sleep(max(1.0, min(5.0, opts["heartbeat"] / 2)))
            continue
        try:
            # Claiming a trial (sampling its parameters and checking for a duplicate) is one worker at a time: two
            # workers sampling at once could both draw the same grid point and both stand down, losing it.
            with contextlib.ExitStack() as claim:
                claim.enter_context(_exclusive(out / CLAIM_LOCK))
                objective = make_objective(out, opts["study"], opts["sampler"], opts["grid"], opts["config"],
                                           opts["sets"], claimed=claim.close)
                study.optimize(objective, n_trials=1, catch=())
        except (ValueError, optuna.exceptions.UpdateFinishedTrialError) as e:
            # another worker saw no heartbeat for `grace` seconds, failed this trial and re-queued it; the retry
            # picks up this trial's folder (see _folder_lock), so nothing is lost
            if not isinstance(e, optuna.exceptions.UpdateFinishedTrialError) and "Cannot tell" not in str(e):
                raise
            _log_run(out, f"lost pid={os.getpid()}: {e}")


def worker_entry(opts: dict) -> None:
    run_worker(opts)


# ------------------------------------------------------------------------------------------------ outputs
def summarize(storage: str, study_name: str, out: Path, grid: dict | None = None, config: str | None = None,
              sets: dict | None = None, command: str = "") -> dict:
    """Write trials.csv, the grid heatmap, parameter importances and the best recipe; return a summary."""
    import optuna
    from optuna.trial import TrialState

    from inkmath.evaluation import plots

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        raise InkmathError(f"No study {study_name!r} in {storage}") from None
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    names = sorted({k for t in trials for k in t.params})
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["number", "state", "value", *names, "run_dir"])
    for t in trials:
        w.writerow([t.number, t.state.name, "" if t.value is None else t.value,
                    *[t.params.get(k, "") for k in names], t.user_attrs.get("run_dir", "")])
    atomic_write_text(out / "trials.csv", buf.getvalue())
    summary: dict = {"study": study_name, "storage": storage, "trials": len(trials), "complete": len(done),
                     "states": {s.name: sum(t.state == s for t in trials) for s in TrialState if
                                any(t.state == s for t in trials)}}
    files = {"trials": "trials.csv"}
    grid_keys = list(grid) if grid else names
    if len(grid_keys) == 2 and done:
        files["heatmap"] = "heatmap.png"
        plots.grid_heatmap(done, grid_keys[0], grid_keys[1], out / "heatmap.png",
                           title=f"{study_name}: best validation accuracy")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            importances = {k: float(v) for k, v in optuna.importance.get_param_importances(study).items()}
        # optuna warns (instead of failing) when it has too few trials and then returns equal, meaningless shares
        doubts = [str(w.message) for w in caught if issubclass(w.category, UserWarning)
                  and not issubclass(w.category, optuna.exceptions.ExperimentalWarning)]
        if doubts:
            raise ValueError("; ".join(doubts))
        summary["importances"] = importances
        files["importances"] = "importances.png"
        plots.importance_bars(importances, out / "importances.png")
    except (RuntimeError, ValueError, ZeroDivisionError) as e:  # too few trials, or no parameter varies
        summary["importances"] = None
        summary["importances_error"] = f"parameter importances could not be computed: {e}"
    if done:
        best = study.best_trial
        summary["best"] = {"number": best.number, "value": best.value, "params": best.params,
                           "run_dir": best.user_attrs.get("run_dir")}
        files["best_recipe"] = "best.yaml"
        write_best_recipe(best, out / "best.yaml", study_name, config, sets or {}, command)
    summary["files"] = files
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1, default=str) + "\n")
    return summary


def write_best_recipe(best, path: Path, study_name: str, config: str | None, sets: dict, command: str) -> None:
    """The best trial's resolved config as a recipe for ``inkmath train --config``."""
    run = Path(best.user_attrs.get("run_dir", ""))
    if (run / "config.yaml").exists():
        values = yaml.safe_load((run / "config.yaml").read_text())
    else:
        values = make_config(config, {**sets, **best.params}).to_dict()
    values["out"] = f"runs/{study_name}-best"
    values["name"] = f"{study_name}-best"
    make_config(None, values)  # refuse to write a recipe that would not load
    head = (f"# Best trial {best.number} of study {study_name!r}: validation accuracy {best.value:.4f}\n"
            f"# parameters: {json.dumps(best.params)}\n" + (f"# sweep: {command}\n" if command else "") +
            f"# inkmath train --config {path.name}\n")
    atomic_write_text(path, head + yaml.safe_dump(values, sort_keys=False))
