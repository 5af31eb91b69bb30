"""Train every model the expression reader ships from its committed recipe, on two lanes, and time the whole
(issue 22: "all the reader's models together train in at most 90 minutes on this 2-core machine").

    python benchmarks/train_budget.py --plan                  # the steps, their order and what each waits for
    python benchmarks/train_budget.py --tree /tmp/budget --result benchmarks/results/training-budget.json
    python benchmarks/train_budget.py --classifier-recipe configs/crohme-m-budget.yaml configs/crohme-m-budget-ft2.yaml
    python benchmarks/train_budget.py --estimate benchmarks/train_budget_minutes.json   # the schedule from step costs

What runs: each reader model's card's ``train_command`` (the models: ``READER_MODELS`` and the ones the reader's
ensembles name, ``symbols.READER_CONTEXT_MODELS``, ``symbols.IMAGE_CONTEXT_MODELS`` and
``layout_choice.CHOOSER_MODELS``, and the teachers a distilled model's recipe names), plus what those commands need
first and what makes their output the shipped file (the classifier's stages before its card's command, its export,
its 8-bit ranges and the context models' hypothesis tables: ``classifier_stages``, ``AFTER`` and, for the context
models reading the image reader's tables, ``IMAGE_AFTER`` and ``IMAGE_MORE_AFTER``). The classifier trains from its
shipped recipes, or from other stage recipes (``--classifier-recipe``, e.g. a recipe proposed to fit the budget
before it is shipped). It all runs in a fresh clone of this checkout's HEAD (``--tree``) with its own cache
(``INKMATH_CACHE`` inside the tree), so that every table is built inside the budget and nothing shipped or cached here
is touched. Two steps run at a time (``--lanes``), each as
its recipe sets its threads; a step starts as soon as a lane is free and what it waits for is done, in plan order.

Resumable: the state file in the tree records each finished step; run the same command again and finished steps
are skipped (the trainers resume their own interrupted runs). The total is the sum of the invocations' wall times.
Run it on a machine nobody else uses: the figure is a wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

# the reader's single models (its ensembles' members are added from the constants that name them)
READER_MODELS = ("crohme-m", "pen-symbols", "stroke-merge", "late-stroke", "image-merge", "image-touch",
                 "layout-relation", "latex-lm", "structure")
CLASSIFIER = "crohme-m"
HYPOTHESES = "python -m inkmath.equation.synth.hypotheses"
# OpenMP's waiting threads sleep instead of spinning: with two lanes on two cores, a two-thread step's spinning
# thread takes the core from the other lane. Measured side by side under load (training-budget.md,
# benchmarks/train_step_profile.py, best of 2 rounds): the classifier's two-thread step cost 13.2 CPU ms an image
# spinning and 3.0 sleeping (one thread: 3.0), and ran 2.75x faster; what a step computes does not change.
OMP_WAIT_POLICY = "PASSIVE"
TABLES = ("tables:train-a", "tables:train-b", "tables:val-truth", "tables:val-pipeline")
# the image reader's tables (``image_hypotheses``), for the image reader's context models (``IMAGE_CONTEXT_MODELS``)
IMAGE_TABLES = ("tables:image-train-a", "tables:image-train-b", "tables:image-val")


@dataclass(frozen=True)
class Step:
    name: str
    command: str  # as a recipe writes it: "python -m ..." or "inkmath ..."
    after: tuple[str, ...] = ()


def _train_shards(first: int, last: int, image: bool = False) -> str:
    """The command building training-table parts ``first``..``last`` of 64: the stroke reader's truth segmentation,
    or (``image``) the image reader's tables (``image_hypotheses``) with its own groupings."""
    shards = ",".join(str(i) for i in range(first, last + 1))
    return (f"{HYPOTHESES} crohme2014_train_inkml.tar.xz --weights {CLASSIFIER} --strength 1.0 --shards 64 "
            f"--shard {shards} {'--image' if image else '--no-pipeline'}")


# the shipped classifier's recipes, one stage each: ``inkmath train --config C --out runs/<C's stem>``, each stage
# starting from the one before (its ``init``); the last stage is the card's ``train_command``, then the export
SHIPPED_CLASSIFIER_RECIPES = ("configs/crohme-m.yaml", "configs/crohme-m-ft2.yaml")


def classifier_stages(recipes: tuple[str, ...]) -> tuple[list[Step], str, Step]:
    """The classifier's steps from its stage recipes: the stages before the last, the last stage's command (the
    plan's ``crohme-m`` step) and the export of its run. A stage must start from the stage before (``init``)."""
    import yaml

    outs = [f"runs/{Path(r).stem}" for r in recipes]
    for i, r in enumerate(recipes):
        recipe = yaml.safe_load((ROOT / r).read_text(encoding="utf-8"))
        want = outs[i - 1] if i else None
        if recipe.get("init") != want:
            raise SystemExit(f"error: stage recipe {r} starts from {recipe.get('init')!r}, the plan from {want!r} "
                             "(each stage starts from the run of the stage before; the first from nothing)")
    commands = [f"inkmath train --config {r} --out {o}" for r, o in zip(recipes, outs)]
    before = [Step(f"{CLASSIFIER}:stage-{i + 1}", c, (f"{CLASSIFIER}:stage-{i}",) if i else ())
              for i, c in enumerate(commands[:-1])]
    export = Step(f"{CLASSIFIER}:export", f"inkmath export {outs[-1]} --name {CLASSIFIER}", (CLASSIFIER,))
    return before, commands[-1], export


# a recipe that learns from a classifier's readings (its ``classifier:``) waits for that classifier's last step;
# ``crohme`` is no reader model (it reads nothing at run time); a recipe that learned from its readings would have it
# trained here too, from its own recipe (distilled from the new crohme-m). None does since image-merge reads crohme-m
# (training-budget.md): with that chain the plan took about 40 minutes more than the 90 allowed
CLASSIFIER_READY = {"crohme-m": "crohme-m:export", "crohme": "crohme:export"}
# a recipe reading the classifier through ONNX Runtime (``engine: onnx``) reads its 8-bit model, whose ranges must be
# calibrated on the new weights first (image-touch failed at once in the first budget run without this)
ONNX_READY = {"crohme-m": "crohme-m:int8"}
CROHME_S = [Step("crohme:stage-1", "inkmath train --config configs/crohme.yaml --out runs/crohme", ("crohme-m:export",)),
            Step("crohme:ft2", "inkmath train --config configs/crohme-ft2.yaml --out runs/crohme-ft2", ("crohme:stage-1",)),
            Step("crohme:export", "inkmath export runs/crohme-ft2 --name crohme", ("crohme:ft2",))]
# the classifier's 8-bit ranges (23 s), calibrated first: what reads it through ONNX Runtime waits for them
INT8 = Step("crohme-m:int8", "python -m inkmath.onnx_int8 crohme-m", ("crohme-m:export",))
AFTER = [Step(TABLES[0], _train_shards(0, 31), ("crohme-m:export",)),
         Step(TABLES[1], _train_shards(32, 63), ("crohme-m:export",)),
         Step(TABLES[2], f"{HYPOTHESES} val --weights {CLASSIFIER} --shards 8 --shard 0,1,2,3,4,5,6,7 --no-pipeline",
              ("crohme-m:export",)),
         Step(TABLES[3], f"{HYPOTHESES} val --weights {CLASSIFIER} --shards 16 --shard 0", ("crohme-m:export",))]
IMAGE_AFTER = [Step(IMAGE_TABLES[0], _train_shards(0, 15, image=True), ("crohme-m:export",)),
               Step(IMAGE_TABLES[1], _train_shards(16, 31, image=True), ("crohme-m:export",)),
               Step(IMAGE_TABLES[2], f"{HYPOTHESES} val --weights {CLASSIFIER} --image --shards 4 --shard 0",
                    ("crohme-m:export",))]
# the image reader's training parts 32-63, for a recipe that reads them (symbol-context-distilled)
IMAGE_MORE_TABLES = ("tables:image-train-c", "tables:image-train-d")
IMAGE_MORE_AFTER = [Step(IMAGE_MORE_TABLES[0], _train_shards(32, 47, image=True), ("crohme-m:export",)),
                    Step(IMAGE_MORE_TABLES[1], _train_shards(48, 63, image=True), ("crohme-m:export",))]


def reader_model_names(weights_dir: Path = ROOT / "src" / "inkmath" / "weights") -> list[str]:
    from inkmath.equation.reader.layout_choice import CHOOSER_MODELS
    from inkmath.equation.reader.symbols import IMAGE_CONTEXT_MODELS, READER_CONTEXT_MODELS

    names = list(READER_MODELS)
    context = [*READER_CONTEXT_MODELS, *(IMAGE_CONTEXT_MODELS or ())]
    teachers = [t for name in context for t in context_recipe(name, weights_dir).get("teachers") or ()]
    for name in (*CHOOSER_MODELS, *teachers, *context):  # a distilled model's teachers train before it
        if name not in names:
            names.append(name)
    return names


def model_card(name: str, weights_dir: Path = ROOT / "src" / "inkmath" / "weights") -> dict | None:
    """A shipped model's card (None where it has none)."""
    card = weights_dir / f"{name}.json"
    return json.loads(card.read_text(encoding="utf-8")) if card.exists() else None


def context_recipe(name: str, weights_dir: Path = ROOT / "src" / "inkmath" / "weights") -> dict:
    """A symbol-context model's recipe, as its card records it ({} for a card without one)."""
    return (model_card(name, weights_dir) or {}).get("recipe") or {}


def image_parts(recipe: dict) -> set[int]:
    """The image reader's training-table parts a context model's recipe reads."""
    return {int(k) for key in ("use_image_truth_shards", "use_image_pipeline_shards") for k in recipe.get(key) or ()}


def reader_plan(weights_dir: Path = ROOT / "src" / "inkmath" / "weights",
                classifier_recipes: tuple[str, ...] = SHIPPED_CLASSIFIER_RECIPES) -> list[Step]:
    """The steps in plan order: the classifier's chain first (the longest), then every other model. The classifier
    trains from ``classifier_recipes`` (by default the shipped ones: the plan then runs its card's command)."""
    names = reader_model_names(weights_dir)
    cards = {n: model_card(n, weights_dir) for n in names}
    for name, card in cards.items():
        if card is None:
            raise SystemExit(f"error: the reader's model {name} has no card ({weights_dir / f'{name}.json'}): ship "
                             "it with one first")
    recipes = {n: card.get("recipe") or {} for n, card in cards.items()}
    context = {n for n, r in recipes.items() if r.get("model") == "symbol-context-transformer"}
    parts = {n: image_parts(recipes[n]) for n in context}
    image_context = {n for n in context if parts[n]}  # those reading the image reader's tables
    more_parts = {n for n in image_context if max(parts[n]) > 31}  # those reading parts 32-63 too
    stages, last_stage, export = classifier_stages(classifier_recipes)
    steps: list[Step] = []
    for name in sorted(names, key=lambda n: (n != CLASSIFIER, n in context)):
        command = cards[name]["train_command"]
        if name == CLASSIFIER:
            steps += [*stages, Step(name, last_stage, (stages[-1].name,) if stages else ()), export, INT8, *AFTER,
                      *(IMAGE_AFTER if image_context else ()), *(IMAGE_MORE_AFTER if more_parts else ())]
            continue
        before = []
        after = ((*TABLES, *(IMAGE_TABLES if name in image_context else ()),
                  *(IMAGE_MORE_TABLES if name in more_parts else ()),
                  *(recipes[name].get("teachers") or ())) if name in context else ())
        reads, engine = recipe_field(command, "classifier"), recipe_field(command, "engine")
        if reads == "crohme" and not any(s.name == "crohme:export" for s in steps):
            before = CROHME_S
        if reads in CLASSIFIER_READY:
            after = (*after, CLASSIFIER_READY[reads])
        if engine == "onnx" and reads in ONNX_READY:  # read through ONNX Runtime: its 8-bit ranges must match it
            after = (*after, ONNX_READY[reads])
        steps += before
        steps.append(Step(name, command, tuple(after)))
    # the models learning from the classifier's readings (image-merge, image-touch) start first after its export: the
    # tables, which only the context models wait for, go just before the first context model
    late = [s for s in steps if s in AFTER or s in IMAGE_AFTER or s in IMAGE_MORE_AFTER]
    steps = [s for s in steps if s not in late]
    first_context = next((i for i, s in enumerate(steps) if s.name in context), len(steps))
    return steps[:first_context] + late + steps[first_context:]


def recipe_field(command: str, key: str) -> str | None:
    """A field of a train command's recipe (``--config FILE``), if it has one: ``classifier``, the classifier whose
    readings it learns from; ``engine``, how it runs that classifier."""
    import yaml

    words = shlex.split(command)
    if "--config" not in words:
        return None
    recipe = yaml.safe_load((ROOT / words[words.index("--config") + 1]).read_text(encoding="utf-8"))
    return recipe.get(key) if isinstance(recipe, dict) else None


def argv_of(command: str) -> list[str]:
    """The command as this interpreter runs it (``python`` is this Python; ``inkmath`` its ``python -m inkmath``)."""
    words = shlex.split(command)
    if words[0] == "python":
        return [sys.executable, *words[1:]]
    if words[0] == "inkmath":
        return [sys.executable, "-m", "inkmath", *words[1:]]
    raise SystemExit(f"error: cannot run step command {command!r}: it must start with python or inkmath")


def step_minutes(steps: list[Step], given: dict[str, float]) -> dict[str, float | None]:
    """Each step's minutes from ``given``, keyed by the step's recipe (``--config FILE``: the classifier's stages
    differ by recipe) or else by its name; None where neither is given."""
    minutes = {}
    for s in steps:
        words = shlex.split(s.command)
        recipe = words[words.index("--config") + 1] if "--config" in words else None
        minutes[s.name] = given.get(recipe, given.get(s.name))
    return minutes


def schedule(steps: list[Step], lanes: int, minutes: dict[str, float]) -> dict[str, tuple[float, float]]:
    """When each step would start and end (minutes) if it took ``minutes[name]``, started as ``run_plan`` starts
    steps: in plan order, as soon as a lane is free and what it waits for is done."""
    times: dict[str, tuple[float, float]] = {}
    free = [0.0] * lanes
    waiting = list(steps)
    while waiting:
        lane = min(range(lanes), key=free.__getitem__)
        ready = [s for s in waiting if all(a in times and times[a][1] <= free[lane] for a in s.after)]
        if not ready:  # nothing can start on this lane before the next step it waits for ends
            free[lane] = min(end for _, end in times.values() if end > free[lane])
            continue
        s = ready[0]
        times[s.name] = (free[lane], free[lane] + minutes[s.name])
        free[lane] = times[s.name][1]
        waiting.remove(s)
    return times


def load_state(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"steps": {}, "invocations": []}


def save_state(path: Path, state: dict) -> None:
    from inkmath.atomic import atomic_write_text

    atomic_write_text(path, json.dumps(state, indent=1) + "\n")


def run_plan(steps: list[Step], lanes: int, state_path: Path, cwd: Path, env: dict, logs: Path,
             poll: float = 1.0) -> dict:
    """Run the steps not yet done, at most ``lanes`` at a time, each after what it waits for; record each finished
    step (seconds, exit code) in the state file as it ends. A failed step stops what waits for it."""
    names = {s.name for s in steps}
    for s in steps:
        unknown = [a for a in s.after if a not in names]
        if unknown:
            raise SystemExit(f"error: step {s.name} waits for unknown steps {unknown}")
    state = load_state(state_path)
    done = {n for n, r in state["steps"].items() if r["returncode"] == 0}
    failed: set[str] = set()
    running: dict[str, tuple[subprocess.Popen, float]] = {}
    logs.mkdir(parents=True, exist_ok=True)
    started = time.time()
    while True:
        for name, (proc, t0) in list(running.items()):
            if proc.poll() is None:
                continue
            del running[name]
            state["steps"][name] = {"seconds": round(time.time() - t0, 1), "returncode": proc.returncode,
                                    "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            (done if proc.returncode == 0 else failed).add(name)
            save_state(state_path, state)
        blocked = {s.name for s in steps if any(a in failed for a in s.after)}
        failed |= blocked - done
        waiting = [s for s in steps if s.name not in done | failed | set(running)]
        for s in waiting:
            if len(running) >= lanes:
                break
            if all(a in done for a in s.after):
                log = open(logs / f"{s.name.replace(':', '_')}.log", "w")
                running[s.name] = (subprocess.Popen(argv_of(s.command), cwd=cwd, env=env, stdout=log,
                                                    stderr=subprocess.STDOUT), time.time())
        if not running:
            break
        time.sleep(poll)
    state["invocations"].append({"lanes": lanes, "seconds": round(time.time() - started, 1)})
    save_state(state_path, state)
    return state


def step_env(tree: Path) -> dict:
    """The environment every step runs in: the tree's code, its own cache, OpenMP threads that wait asleep."""
    return dict(os.environ, PYTHONPATH=str(tree / "src"), INKMATH_CACHE=str(tree / ".cache"),
                OMP_WAIT_POLICY=OMP_WAIT_POLICY)


def make_tree(tree: Path) -> None:
    if not (tree / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(ROOT), str(tree)], check=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--plan", action="store_true", help="print the steps and exit")
    ap.add_argument("--tree", type=Path, default=Path("/tmp/inkmath-budget"),
                    help="the fresh clone to train in (made if missing; reused to resume)")
    ap.add_argument("--lanes", type=int, default=2)
    ap.add_argument("--classifier-recipe", nargs="+", default=list(SHIPPED_CLASSIFIER_RECIPES),
                    help="the classifier's stage recipes, in order (default: the shipped ones)")
    ap.add_argument("--result", default=None, help="also write the timings as a result file")
    ap.add_argument("--estimate", type=Path, default=None,
                    help="print when each step would start and end from a JSON file of step minutes, and exit")
    args = ap.parse_args(argv)
    steps = reader_plan(classifier_recipes=tuple(args.classifier_recipe))
    if args.estimate:
        given = json.loads(args.estimate.read_text(encoding="utf-8")) if args.estimate.is_file() else None
        if not isinstance(given, dict) or not isinstance(given.get("minutes"), dict):
            raise SystemExit(f"error: {args.estimate} is not a JSON file of step minutes: give "
                             '{"minutes": {"STEP": MINUTES, ...}}')
        minutes = step_minutes(steps, given["minutes"])
        missing = [s.name for s in steps if minutes[s.name] is None]
        if missing:
            raise SystemExit(f"error: {args.estimate} gives no minutes for steps {missing}")
        times = schedule(steps, args.lanes, minutes)
        for s in steps:
            print(f"{s.name:24s} {times[s.name][0]:6.1f} -> {times[s.name][1]:6.1f} min")
        print(f"all, on {args.lanes} lanes: {max(end for _, end in times.values()):.1f} min")
        return 0
    if args.plan:
        for s in steps:
            print(f"{s.name:24s} after {', '.join(s.after) or '-':40s} {s.command}")
        return 0
    if not os.environ.get("INKMATH_DATA"):
        raise SystemExit("error: INKMATH_DATA is not set: point it at the data sets (e.g. ../shared/data)")
    tree = args.tree.resolve()
    make_tree(tree)
    state = run_plan(steps, args.lanes, tree / "budget-state.json", tree, step_env(tree), tree / "budget-logs")
    total = sum(i["seconds"] for i in state["invocations"])
    bad = [n for n in (s.name for s in steps) if state["steps"].get(n, {}).get("returncode") != 0]
    print(json.dumps({"minutes": round(total / 60, 1), "unfinished": bad, "steps": state["steps"]}, indent=1))
    if bad:
        print(f"error: {len(bad)} steps did not finish ({', '.join(bad)}): see {tree / 'budget-logs'}",
              file=sys.stderr)
        return 1
    if args.result:
        from inkmath.evaluation.results import head_commit, write_result

        rows = [{"step": s.name, "command": s.command, "minutes": round(state["steps"][s.name]["seconds"] / 60, 1)}
                for s in steps] + [{"step": "all, on %d lanes (wall)" % args.lanes, "minutes": round(total / 60, 1)}]
        command = f"python benchmarks/train_budget.py --tree {args.tree} --result {args.result}"
        trained = head_commit(tree)  # the commit the run trained from, not this checkout's
        write_result(args.result, "training-budget", "Training every model of the expression reader from its recipe",
                     command, __doc__.split("\n\n")[2], rows, commit=trained)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
