"""The image reader of two source trees side by side: CPU a read of this tree (new) against another (old, e.g. a
`git archive` copy of main), for changes that have no switch of their own.

Each tree's reader runs in a resident worker process (ONNX Runtime, NumPy's BLAS and OpenCV on one thread each, as
`inkmath serve` runs it; solve off) that has read every input once. The driver asks the two workers for one read
at a time, in alternation (old new, then new old for the next input), so the machine's load drifts alike on both;
each pair gives a ratio of the two reads' process CPU time. Inputs: the CROHME 2014 test expressions of 10 symbols
as images (``bench_recognize.crohme_inputs``, timing only). The figure to quote is the median of the pair ratios.

    INKMATH_DATA=../shared/data python benchmarks/image_read_ab.py --old /tmp/main-copy [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def worker(crohme: int) -> int:
    """Read input i (a line on stdin) once and print the read's CPU ms, until stdin ends."""
    from inkmath.cli.common import limit_blas_threads

    limit_blas_threads()  # before NumPy loads
    sys.path.insert(0, str(HERE.parent))
    import torch

    torch.set_num_threads(1)
    from bench_decoder import load_predictor
    from bench_recognize import crohme_inputs

    from inkmath.equation import recognize

    pred = load_predictor(recognize.DEFAULT_WEIGHTS, "onnx", 1)
    images = [img for _, _, img in crohme_inputs(crohme)]
    for img in images:
        recognize.recognize_image(img, pred, solve=False)
    print(len(images), flush=True)
    for line in sys.stdin:
        c = time.process_time()
        recognize.recognize_image(images[int(line)], pred, solve=False)
        print(f"{(time.process_time() - c) * 1000:.4f}", flush=True)
    return 0


def start(tree: Path, crohme: int) -> tuple[subprocess.Popen, int]:
    """A worker reading with ``tree``'s sources (its ``src``) and this script; (process, number of inputs)."""
    env = dict(os.environ, PYTHONPATH=str(tree / "src"), OMP_NUM_THREADS="1")
    p = subprocess.Popen([sys.executable, str(HERE), "--worker", "--crohme", str(crohme)], cwd=tree, env=env,
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    return p, int(p.stdout.readline())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", type=Path, help="the other source tree (its src/ is imported)")
    ap.add_argument("--new", type=Path, default=HERE.parent.parent, help="default: this tree")
    ap.add_argument("--rounds", type=int, default=20, help="reads of each input by each tree")
    ap.add_argument("--crohme", type=int, default=10)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.crohme)
    if args.old is None:
        ap.error("--old is required")
    (old, n), (new, _) = start(args.old.resolve(), args.crohme), start(args.new.resolve(), args.crohme)

    def read(p: subprocess.Popen, i: int) -> float:
        p.stdin.write(f"{i}\n")
        p.stdin.flush()
        return float(p.stdout.readline())

    ratios, a, b = [], [], []
    for r in range(args.rounds):
        for i in range(n):
            if (r + i) % 2 == 0:
                x = read(old, i)
                y = read(new, i)
            else:
                y = read(new, i)
                x = read(old, i)
            a.append(x)
            b.append(y)
            ratios.append(y / x)
    for p in (old, new):
        p.stdin.close()
        p.wait()
    q = statistics.quantiles(ratios, n=4)
    print(f"{len(ratios)} pairs: CPU ratio new/old p50 {statistics.median(ratios):.3f} (quartiles {q[0]:.3f}-"
          f"{q[2]:.3f}), sums {sum(b) / sum(a):.3f}; CPU ms a read p50 old {statistics.median(a):.1f}, new "
          f"{statistics.median(b):.1f}; load {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
