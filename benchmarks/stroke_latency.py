"""Per-expression latency of the reader (issue 77): 40 validation drawings of at most 30 strokes, at canvas scale, or
their WAP-like images (``--images``).

Inputs: ``COUNT`` expressions drawn by ``random.Random(SEED)`` from the CROHME 2011-2013 test ink (the validation) of
1 to ``MAX_STROKES`` strokes, in archive order; each drawing is scaled and centred into a ``CANVAS`` canvas (CSS
pixels, ``MARGIN`` pixels of margin, keeping its aspect; ``tests/webpage.fit``) and rounded to 0.01 px, as the web
page sends a drawing (``bench_web.py``'s payloads are rounded so).

Each drawing is read by ``recognize_strokes(strokes, predictor, solve=False)`` in this process, the classifier on
ONNX Runtime and NumPy's BLAS, OpenCV and torch on one thread each (as ``inkmath serve`` runs it). One warm-up read
(the first drawing, once) is made before timing and reported apart: in a fresh process it pays for loading the
models (and, with an empty cache, for their ONNX exports). Then every drawing is read ``--rounds`` times; its
figure is the median of its reads' wall time; p50 / p90 / max are over the drawings.

    INKMATH_DATA=../shared/data python benchmarks/stroke_latency.py [--rounds 3] [--fresh-cache] [--profile 5]
    INKMATH_DATA=../shared/data python benchmarks/stroke_latency.py --old /tmp/base-tree [--rounds 3]

``--images``: the same 40 expressions drawn as the image path's validation renderings (``wap_like.render_wap_like``,
one seeded size each) and read by ``recognize_image(image, predictor, solve=False, ink="white")``.
``--fresh-cache``: ``INKMATH_CACHE`` set to a new empty folder first (a fresh clone's first run).
``--profile N``: the N slowest drawings read again under cProfile, the functions of most cumulative time printed.
``--old TREE``: this tree's reader and ``TREE``'s (its ``src``, e.g. a ``git archive`` of the commit before) as two
resident worker processes, asked one read at a time in alternation (old new, then new old), so the machine's load
drifts alike on both; the per-drawing ratio new / old of wall and of CPU time, and whether the readings (LaTeX and
confidence) are the same.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve()
SEED = 77
COUNT = 40
MAX_STROKES = 30
CANVAS = (900.0, 400.0)  # a desktop page's drawing area (style.css: full width, at most 460 px high)
MARGIN = 40.0


def canvas_scaled(strokes: list, width: float = CANVAS[0], height: float = CANVAS[1], margin: float = MARGIN) -> list:
    """``strokes`` scaled and centred into a width x height canvas, keeping its aspect (``tests/webpage.fit``),
    rounded to 0.01 px."""
    import numpy as np

    pts = np.concatenate(strokes)
    lo, hi = pts.min(0), pts.max(0)
    s = min((width - 2 * margin) / max(hi[0] - lo[0], 1e-9), (height - 2 * margin) / max(hi[1] - lo[1], 1e-9))
    off = np.array([width, height]) / 2 - (lo + hi) / 2 * s
    return [np.round(st * s + off, 2) for st in strokes]


def chosen_inputs(count: int = COUNT, seed: int = SEED, max_strokes: int = MAX_STROKES,
                  images: bool = False) -> list[tuple[str, object]]:
    """(id, canvas-scaled strokes) of ``count`` validation expressions of 1..``max_strokes`` strokes, drawn by seed;
    with ``images``, (id, its WAP-like rendering) instead, the sizes drawn from one generator seeded by ``seed``."""
    import numpy as np

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    archive = data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz"
    if not archive.is_file():
        raise SystemExit(f"{archive} not found: set INKMATH_DATA")
    pool = []
    for expr in iter_inkml(archive):
        strokes = [np.asarray(s, float)[:, :2] for s in expr.strokes if len(s)]
        if 1 <= len(strokes) <= max_strokes and expr.latex_truth:
            pool.append((expr, strokes))
    picked = sorted(random.Random(seed).sample(range(len(pool)), min(count, len(pool))))
    if images:
        try:
            from inkmath.equation.core.wap_like import render_wap_like
        except ImportError:  # a tree from before the house's stage packages (``--old``): the benchmark's copy
            from wap_val import render_wap_like

        rng = np.random.default_rng(seed)
        return [(pool[k][0].id, render_wap_like(pool[k][0], rng)) for k in picked]
    return [(pool[k][0].id, canvas_scaled(pool[k][1])) for k in picked]


def _setup(fresh_cache: bool, benchmarks: Path = HERE.parent):
    """One thread for every numeric library (before NumPy loads), the cache, and the classifier as served (loaded
    by the ``benchmarks`` folder of the tree read, which knows its own ``src``)."""
    from inkmath.cli.common import limit_blas_threads

    limit_blas_threads()
    if fresh_cache:
        os.environ["INKMATH_CACHE"] = tempfile.mkdtemp(prefix="inkmath-cache-")
    sys.path.insert(0, str(benchmarks))
    import torch

    torch.set_num_threads(1)
    from bench_decoder import load_predictor

    from inkmath.equation import recognize

    return load_predictor(recognize.DEFAULT_WEIGHTS, "onnx", 1)


def _read(data, predictor):
    """(wall ms, CPU ms, reading) of one read: strokes (a list) or a WAP-like image (an array, white ink)."""
    from inkmath.equation.recognize import recognize_image, recognize_strokes

    w, c = time.perf_counter(), time.process_time()
    if isinstance(data, list):
        rec = recognize_strokes(data, predictor, solve=False)
    else:
        rec = recognize_image(data, predictor, solve=False, ink="white")
    return (time.perf_counter() - w) * 1000, (time.process_time() - c) * 1000, rec


def percentiles(ms: list[float]) -> dict:
    s = sorted(ms)
    return {"p50": statistics.median(s), "p90": s[min(len(s) - 1, int(round(0.9 * (len(s) - 1))))], "max": s[-1]}


def in_process(args) -> dict:
    start = time.perf_counter()
    predictor = _setup(args.fresh_cache)
    inputs = chosen_inputs(args.count, images=args.images)
    first_ms, _, _ = _read(inputs[0][1], predictor)
    loading_ms = (time.perf_counter() - start) * 1000
    walls: dict[str, list[float]] = {i: [] for i, _ in inputs}
    cpus: dict[str, list[float]] = {i: [] for i, _ in inputs}
    for _ in range(args.rounds):
        for i, strokes in inputs:
            w, c, _ = _read(strokes, predictor)
            walls[i].append(w)
            cpus[i].append(c)
    wall = {i: statistics.median(v) for i, v in walls.items()}
    cpu = {i: statistics.median(v) for i, v in cpus.items()}
    out = {"drawings": len(inputs), "rounds": args.rounds, "first read ms": round(first_ms, 1),
           "start to first reading ms": round(loading_ms, 1),
           **{f"{k} ms": round(v, 1) for k, v in percentiles(list(wall.values())).items()},
           **{f"CPU {k} ms": round(v, 1) for k, v in percentiles(list(cpu.values())).items()},
           "input": "WAP-like images" if args.images else "strokes",
           "cache": "empty (new folder)" if args.fresh_cache else "warm", "load": round(os.getloadavg()[0], 2)}
    print(out)
    slowest = sorted(wall, key=lambda i: -wall[i])
    for i in slowest[:8]:
        print(f"  {i}: {wall[i]:.1f} ms wall, {cpu[i]:.1f} ms CPU")
    if args.profile:
        profile([(i, dict(inputs)[i]) for i in slowest[:args.profile]], predictor)
    return out


def profile(inputs: list, predictor, top: int = 30) -> None:
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for _, data in inputs:
        _read(data, predictor)
    prof.disable()
    stats = pstats.Stats(prof)
    stats.sort_stats("cumulative").print_stats(r"inkmath", top)
    stats.sort_stats("tottime").print_stats(top)


def worker(count: int, images: bool) -> int:
    """Read input i (a line on stdin) and print 'wall ms, CPU ms, confidence, LaTeX', until stdin ends."""
    predictor = _setup(False, Path.cwd() / "benchmarks")
    inputs = [s for _, s in chosen_inputs(count, images=images)]
    _read(inputs[0], predictor)
    print(len(inputs), flush=True)
    for line in sys.stdin:
        w, c, rec = _read(inputs[int(line)], predictor)
        print(f"{w:.3f}\t{c:.3f}\t{rec.confidence:.4f}\t{rec.latex}", flush=True)
    return 0


def side_by_side(args) -> dict:
    def start(tree: Path) -> tuple[subprocess.Popen, int]:
        env = dict(os.environ, PYTHONPATH=str(tree / "src"), OMP_NUM_THREADS="1")
        flags = ["--images"] if args.images else []
        p = subprocess.Popen([sys.executable, str(HERE), "--worker", "--count", str(args.count), *flags], cwd=tree,
                             env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        return p, int(p.stdout.readline())

    def ask(p: subprocess.Popen, i: int) -> tuple[float, float, str, str]:
        p.stdin.write(f"{i}\n")
        p.stdin.flush()
        w, c, conf, latex = p.stdout.readline().rstrip("\n").split("\t", 3)
        return float(w), float(c), conf, latex

    (old, n), (new, _) = start(args.old), start(args.new)
    walls = {"old": [[] for _ in range(n)], "new": [[] for _ in range(n)]}
    cpus = {"old": [[] for _ in range(n)], "new": [[] for _ in range(n)]}
    readings: dict = {"old": {}, "new": {}}
    try:
        for r in range(args.rounds):
            for i in range(n):
                order = [("old", old), ("new", new)] if (i + r) % 2 == 0 else [("new", new), ("old", old)]
                for name, p in order:
                    w, c, conf, latex = ask(p, i)
                    walls[name][i].append(w)
                    cpus[name][i].append(c)
                    readings[name][i] = (latex, conf)
    finally:
        for p in (old, new):
            p.stdin.close()
            p.wait()
    out = {"drawings": n, "rounds": args.rounds, "input": "WAP-like images" if args.images else "strokes",
           "old": args.old_label or args.old.name, "load": round(os.getloadavg()[0], 2)}
    for name in ("old", "new"):
        out.update({f"{name} {k} ms": round(v, 1) for k, v in
                    percentiles([statistics.median(v) for v in walls[name]]).items()})
        out[f"{name} CPU p50 ms"] = round(statistics.median(statistics.median(v) for v in cpus[name]), 1)
    ratio = [statistics.median(a) / statistics.median(b) for a, b in zip(walls["new"], walls["old"])]
    cpu_ratio = [statistics.median(a) / statistics.median(b) for a, b in zip(cpus["new"], cpus["old"])]
    out["wall ratio p50"] = round(statistics.median(ratio), 3)
    out["CPU ratio p50"] = round(statistics.median(cpu_ratio), 3)
    out["total CPU ratio"] = round(sum(map(statistics.median, cpus["new"])) / sum(map(statistics.median, cpus["old"])), 3)
    out["same LaTeX"] = sum(readings["old"][i][0] == readings["new"][i][0] for i in range(n))
    out["same LaTeX and confidence"] = sum(readings["old"][i] == readings["new"][i] for i in range(n))
    print(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="reads of each drawing (its figure: their median)")
    ap.add_argument("--count", type=int, default=COUNT)
    ap.add_argument("--images", action="store_true", help="read the expressions' WAP-like images, not their strokes")
    ap.add_argument("--fresh-cache", action="store_true", help="INKMATH_CACHE set to a new empty folder first")
    ap.add_argument("--profile", type=int, default=0, help="read the N slowest again under cProfile")
    ap.add_argument("--old", type=Path, default=None, help="another source tree, read side by side with this one")
    ap.add_argument("--old-label", default=None, help="the other tree's name in the results (default: its folder)")
    ap.add_argument("--new", type=Path, default=HERE.parent.parent, help=argparse.SUPPRESS)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--result", type=Path, default=None, help="write the figures as a results file")
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.count, args.images)
    out = side_by_side(args) if args.old else in_process(args)
    if args.result:
        write(args, out)
    return 0


def write(args, out: dict) -> None:
    sys.path.insert(0, str(HERE.parents[1] / "src"))
    from inkmath.evaluation.results import write_result

    command = "python benchmarks/stroke_latency.py " + " ".join(sys.argv[1:])
    if args.images:
        how = (f"benchmarks/stroke_latency.py --images: {COUNT} CROHME 2011-2013 (validation) expressions of at most "
               f"{MAX_STROKES} strokes drawn by seed {SEED}, each drawn as the image path's WAP-like validation "
               "rendering (a size drawn from a generator of the same seed); `recognize_image(solve=False)` in one "
               "process, ONNX Runtime, BLAS, OpenCV and torch on one thread; an image's figure is the median wall time "
               "of its reads; p50 / p90 / max over the images, a warm-up read excluded and reported apart. The "
               "issue's limit: p50 <= 40 ms.")
        title = "Image reader latency per expression (issue 77)"
    else:
        how = (f"benchmarks/stroke_latency.py: {COUNT} CROHME 2011-2013 (validation) drawings of at most "
               f"{MAX_STROKES} strokes drawn by seed {SEED}, scaled into a {CANVAS[0]:.0f} x {CANVAS[1]:.0f} px "
               "canvas as the web page sends them; `recognize_strokes(solve=False)` in one process, ONNX Runtime, "
               "BLAS, OpenCV and torch on one thread; a drawing's figure is the median wall time of its reads; p50 / "
               "p90 / max over the drawings, a warm-up read (the first drawing) excluded and reported apart. The "
               "issue's limits: p50 <= 30 ms, max <= 200 ms.")
        title = "Stroke reader latency per drawing (issue 77)"
    write_result(args.result, "speed", title, command, how, [out])


if __name__ == "__main__":
    sys.exit(main())
