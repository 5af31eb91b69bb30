"""benchmarks/train_budget.py: the plan that trains every reader model, and its two-lane, resumable runner."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import train_budget  # noqa: E402
from train_budget import Step  # noqa: E402

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "inkmath" / "weights"


def test_the_plan_trains_every_reader_model_with_its_cards_command():
    steps = train_budget.reader_plan()
    by_name = {s.name: s for s in steps}
    for name in train_budget.reader_model_names():
        card = json.loads((WEIGHTS / f"{name}.json").read_text())
        assert by_name[name].command == card["train_command"]
    order = [s.name for s in steps]
    for s in steps:  # every step comes after what it waits for, and waits only for steps of the plan
        assert all(order.index(a) < order.index(s.name) for a in s.after), s
    # the context models read hypothesis tables of the newly trained classifier
    assert set(train_budget.TABLES) <= set(by_name["symbol-context"].after)
    assert all("crohme-m:export" in by_name[t].after for t in train_budget.TABLES)
    # a model learning from a classifier's readings waits for that classifier, trained in the plan as well
    assert "crohme-m:export" in by_name["image-touch"].after
    assert "crohme-m:int8" in by_name["image-touch"].after  # it reads the classifier's 8-bit model (engine: onnx)
    assert "crohme-m:export" in by_name["image-merge"].after
    assert "crohme-m:int8" not in by_name["image-merge"].after  # it reads with PyTorch
    assert not any(s.name.startswith("crohme:") for s in steps)  # no model of the reader learns from crohme
    # a distilled context model waits for its teachers, trained in the plan too, and for the image tables it reads
    for name in train_budget.reader_model_names():
        recipe = train_budget.context_recipe(name)
        assert set(recipe.get("teachers") or ()) <= set(by_name[name].after)
        if train_budget.image_parts(recipe):
            assert set(train_budget.IMAGE_TABLES) <= set(by_name[name].after)
            assert (max(train_budget.image_parts(recipe)) > 31) == (
                set(train_budget.IMAGE_MORE_TABLES) <= set(by_name[name].after))


def _marker(tmp: Path, name: str, seconds: float = 0.3, fail: bool = False) -> str:
    code = (f"import time; t = time.time(); time.sleep({seconds}); "
            f"open({str(tmp / name)!r}, 'w').write(f'{{t}} {{time.time()}}')" + ("; raise SystemExit(3)" if fail else ""))
    return f"python -c {json.dumps(code)}"


def _span(tmp: Path, name: str) -> tuple[float, float]:
    start, end = (tmp / name).read_text().split()
    return float(start), float(end)


def test_steps_run_two_at_a_time_after_what_they_wait_for(tmp_path):
    steps = [Step("a", _marker(tmp_path, "a")), Step("b", _marker(tmp_path, "b")),
             Step("c", _marker(tmp_path, "c"), ("a", "b"))]
    state = train_budget.run_plan(steps, 2, tmp_path / "state.json", tmp_path, None, tmp_path / "logs", poll=0.05)
    assert all(state["steps"][n]["returncode"] == 0 for n in "abc")
    a, b, c = (_span(tmp_path, n) for n in "abc")
    assert a[0] < b[1] and b[0] < a[1]  # a and b overlapped: two lanes
    assert c[0] >= max(a[1], b[1])  # c started after both ended


def test_a_failed_step_stops_what_waits_for_it_and_a_rerun_skips_what_finished(tmp_path):
    steps = [Step("a", _marker(tmp_path, "a", 0.05)), Step("bad", _marker(tmp_path, "bad", 0.05, fail=True)),
             Step("after-bad", _marker(tmp_path, "after-bad", 0.05), ("bad",))]
    state_path = tmp_path / "state.json"
    state = train_budget.run_plan(steps, 2, state_path, tmp_path, None, tmp_path / "logs", poll=0.05)
    assert state["steps"]["bad"]["returncode"] == 3
    assert "after-bad" not in state["steps"] and not (tmp_path / "after-bad").exists()
    first_a = (tmp_path / "a").read_text()
    state = train_budget.run_plan(steps, 2, state_path, tmp_path, None, tmp_path / "logs", poll=0.05)
    assert (tmp_path / "a").read_text() == first_a  # finished: not run again
    assert len(state["invocations"]) == 2


def test_the_classifier_trains_from_other_stage_recipes_each_starting_from_the_one_before(tmp_path):
    (tmp_path / "one-stage.yaml").write_text("model: inkres-m\nepochs: 2\n")
    (tmp_path / "ft.yaml").write_text("init: runs/one-stage\nepochs: 1\n")
    (tmp_path / "bad-ft.yaml").write_text("init: runs/elsewhere\n")
    one, ft, bad = (str(tmp_path / f) for f in ("one-stage.yaml", "ft.yaml", "bad-ft.yaml"))
    by_name = {s.name: s for s in train_budget.reader_plan(WEIGHTS, (one,))}
    assert "crohme-m:stage-1" not in by_name  # one stage: it is the classifier's step itself
    assert by_name["crohme-m"].command == f"inkmath train --config {one} --out runs/one-stage"
    assert by_name["crohme-m"].after == ()
    assert by_name["crohme-m:export"].command == "inkmath export runs/one-stage --name crohme-m"
    two = {s.name: s for s in train_budget.reader_plan(WEIGHTS, (one, ft))}
    assert two["crohme-m:stage-1"].command.endswith("--out runs/one-stage")
    assert two["crohme-m"].after == ("crohme-m:stage-1",)
    assert two["crohme-m:export"].command == "inkmath export runs/ft --name crohme-m"
    with pytest.raises(SystemExit, match="starts from 'runs/elsewhere'"):
        train_budget.reader_plan(WEIGHTS, (one, bad))


def test_steps_run_on_the_trees_code_and_cache_with_sleeping_openmp_threads(tmp_path):
    steps = [Step("env", 'python -c "import os, sys; open(sys.argv[1], \'w\').write(os.environ[\'OMP_WAIT_POLICY\'] + '
                         f'\' \' + os.environ[\'INKMATH_CACHE\'])" {tmp_path / "seen"}')]
    train_budget.run_plan(steps, 1, tmp_path / "state.json", tmp_path, train_budget.step_env(tmp_path),
                          tmp_path / "logs", poll=0.05)
    assert (tmp_path / "seen").read_text() == f"PASSIVE {tmp_path / '.cache'}"


def test_the_schedule_starts_steps_as_the_runner_does():
    steps = [Step("long", "x"), Step("a", "x"), Step("b", "x", ("a",)), Step("c", "x", ("long",))]
    times = train_budget.schedule(steps, 2, {"long": 10, "a": 2, "b": 3, "c": 1})
    assert times == {"long": (0, 10), "a": (0, 2), "b": (2, 5), "c": (10, 11)}
    assert train_budget.schedule(steps, 1, {"long": 10, "a": 2, "b": 3, "c": 1})["c"] == (15, 16)


def test_step_minutes_come_by_recipe_first_then_by_name():
    steps = [Step("crohme-m", "inkmath train --config configs/a.yaml --out runs/a"), Step("latex-lm", "python -m x")]
    assert train_budget.step_minutes(steps, {"configs/a.yaml": 5, "crohme-m": 9, "latex-lm": 1}) == \
        {"crohme-m": 5, "latex-lm": 1}
    assert train_budget.step_minutes(steps, {"crohme-m": 9}) == {"crohme-m": 9, "latex-lm": None}


def test_an_estimate_from_a_file_that_is_not_step_minutes_is_a_one_line_error(tmp_path, capsys):
    bad = tmp_path / "minutes.json"
    bad.write_text(json.dumps({"crohme-m": 5.0}))  # the minutes not under "minutes"
    with pytest.raises(SystemExit, match="is not a JSON file of step minutes"):
        train_budget.main(["--estimate", str(bad)])
    with pytest.raises(SystemExit, match="is not a JSON file of step minutes"):
        train_budget.main(["--estimate", str(tmp_path / "missing.json")])
