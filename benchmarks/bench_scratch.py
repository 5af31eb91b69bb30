"""NumPy engine vs PyTorch CPU on the same models and data, side by side in one run.

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 INKMATH_DATA=../shared/data \\
        python benchmarks/bench_scratch.py [--models seed003-m4 seed-cnn inkres] [--agreement mnist hasy crohme crohme-m]
        [--out benchmarks/results/scratch.md]

Speed, for each model: training steps (forward + backward + optimizer step, Adam, batch 64) and inference (eval
mode, batch 256), in images per second, best of ``--repeats`` timed windows, the two engines' windows taking turns.
Both engines get one thread unless the environment says otherwise; with one thread the clock is the process's CPU
time (``time.process_time``), which on a shared, busy machine measures the work done rather than the time spent
waiting for a core (``--clock wall`` for wall time). Data: the first images of MNIST (through the mnist preset)
when available, else seeded random images of the same shape.

Agreement, for each shipped set of weights named by ``--agreement``: every image of the test set its card names,
read by both engines; top-1 of each, the number of images where both give the same first class, and the largest
difference between their logits. The results page takes both tables from ``scratch.md`` (``scratch.json``,
``scratch-2.json``).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def torch_twin(name: str, num_classes: int, size: int):
    """The torch model with the same architecture (registry models, or the seed003 models written out)."""
    import torch.nn as nn

    from inkmath.models import create_model, list_models

    if name in list_models():
        return create_model(name, num_classes=num_classes, in_size=size)
    if name == "seed003-m4":
        f = ((size - 2) // 2 - 4) // 2
        return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 12, 5), nn.ReLU(),
                             nn.MaxPool2d(2), nn.Flatten(), nn.Linear(12 * f * f, num_classes))
    if name == "seed003-m3":
        f = (size - 2) // 2
        return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(8 * f * f, num_classes))
    raise SystemExit(f"no torch twin for {name!r}")


def load_data(size: int, n: int) -> tuple[np.ndarray, np.ndarray, str]:
    from inkmath import InkmathError

    try:
        from inkmath.data import load_dataset
        from inkmath.preprocess import prepare_batch

        ds = load_dataset("mnist:train")
        preset = "mnist" if size == 28 else "symbol32"
        x = prepare_batch(ds.images[:n], preset, ds.ink)
        return x, ds.labels[:n].astype(np.int64), f"MNIST train[:{n}] through preset {preset!r}"
    except InkmathError:
        rng = np.random.default_rng(0)
        return rng.random((n, 1, size, size), dtype=np.float32), rng.integers(0, 10, n), "random images"


CLOCK = time.process_time


def best_rates(steps: list, images_per_call: int, seconds: float, repeats: int) -> list[float]:
    """Images per second of each step: the fastest of ``repeats`` windows of about ``seconds`` each (after a
    warm-up), the steps' windows taking turns so that a change of the machine's load falls on all of them alike."""
    for step in steps:
        step()
        step()
    best = [0.0] * len(steps)
    for _ in range(repeats):
        for k, step in enumerate(steps):
            calls, t0 = 0, CLOCK()
            while True:
                step()
                calls += 1
                elapsed = CLOCK() - t0
                if elapsed >= seconds:
                    break
            best[k] = max(best[k], calls * images_per_call / elapsed)
    return best


def bench_model(name: str, x: np.ndarray, y: np.ndarray, train_bs: int, infer_bs: int, seconds: float,
                repeats: int) -> dict:
    import torch

    from inkmath.scratch import Adam, SoftmaxCrossEntropy, create_numpy_model

    size, c = x.shape[-1], 10
    np_model = create_numpy_model(name, c, size, seed=0)
    opt = Adam(np_model, lr=1e-3)
    ce = SoftmaxCrossEntropy()
    t_model = torch_twin(name, c, size)
    t_opt = torch.optim.Adam(t_model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    rng = np.random.default_rng(0)
    n = len(x)

    def batch_idx(bs):
        i = int(rng.integers(0, n - bs + 1))
        return slice(i, i + bs)

    def np_train():
        s = batch_idx(train_bs)
        ce(np_model.forward(x[s], train=True), y[s])
        np_model.backward(ce.backward())
        opt.step()

    def torch_train():
        s = batch_idx(train_bs)
        t_model.train()
        t_opt.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(t_model(xt[s]), yt[s]).backward()
        t_opt.step()

    def np_infer():
        np_model.forward(x[batch_idx(infer_bs)], train=False)

    def torch_infer():
        t_model.eval()
        with torch.inference_mode():
            t_model(xt[batch_idx(infer_bs)])

    r = {"model": name, "size": size,
         "params": np_model.num_parameters()}
    r["np_train"], r["torch_train"] = best_rates([np_train, torch_train], train_bs, seconds, repeats)
    r["np_infer"], r["torch_infer"] = best_rates([np_infer, torch_infer], infer_bs, seconds, repeats)
    return r


def agreement(weights: str) -> dict:
    """The shipped ``weights`` read by PyTorch and by the NumPy engine on every image of its card's test set."""
    from inkmath.evaluation.evaluate import dataset_scores
    from inkmath.predict import Predictor

    preds = {engine: Predictor.load(weights, engine=engine) for engine in ("torch", "numpy")}
    spec = preds["torch"].card["metrics"]["test"]["spec"]
    read = {engine: dataset_scores(pred, spec) for engine, pred in preds.items()}
    scores, labels = {engine: s for engine, (s, _) in read.items()}, read["torch"][1]
    first = {engine: s.argmax(axis=1) for engine, s in scores.items()}
    return {"weights": weights, "spec": spec, "images": len(labels),
            "top1": {engine: float((f == labels).mean()) for engine, f in first.items()},
            "same": int((first["torch"] == first["numpy"]).sum()),
            "max_diff": float(np.abs(scores["torch"] - scores["numpy"]).max())}


def machine() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next((l.split(":", 1)[1].strip() for l in out.splitlines() if l.startswith("Model name")), "?")
    except (OSError, subprocess.CalledProcessError):
        model = platform.processor() or "?"
    return f"{model}, {os.cpu_count()} logical CPUs"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["seed003-m4", "seed-cnn", "inkres"])
    ap.add_argument("--train-batch", type=int, default=64)
    ap.add_argument("--infer-batch", type=int, default=256)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of one timed window")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--agreement", nargs="*", default=["mnist", "hasy", "crohme", "crohme-m"],
                    help="shipped weights whose test-set predictions are compared between the engines (none: skip)")
    ap.add_argument("--clock", choices=["auto", "cpu", "wall"], default="auto",
                    help="auto: CPU time with one thread, wall time with more")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scratch.md")
    args = ap.parse_args(argv)

    import torch

    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    torch.set_num_threads(threads)
    global CLOCK
    use_cpu = args.clock == "cpu" or (args.clock == "auto" and threads == 1)
    CLOCK = time.process_time if use_cpu else time.perf_counter
    clock_desc = "process CPU time" if use_cpu else "wall time"
    rows = []
    data_cache: dict[int, tuple] = {}
    for name in args.models:
        size = 28 if name.startswith("seed003") or name == "mnist-cnn" else 32
        if size not in data_cache:
            data_cache[size] = load_data(size, 2048)
        x, y, data_desc = data_cache[size]
        r = bench_model(name, x, y, args.train_batch, args.infer_batch, args.seconds, args.repeats)
        r["data"] = data_desc
        rows.append(r)
        print(f"{name:12s} train numpy {r['np_train']:8.0f} img/s  torch {r['torch_train']:8.0f} img/s  "
              f"ratio {r['torch_train'] / r['np_train']:.2f}x | infer numpy {r['np_infer']:8.0f}  "
              f"torch {r['torch_infer']:8.0f}  ratio {r['torch_infer'] / r['np_infer']:.2f}x", flush=True)

    agreed = []
    for name in args.agreement:
        a = agreement(name)
        agreed.append(a)
        print(f"{name:12s} {a['spec']}: top-1 torch {a['top1']['torch']:.4f} numpy {a['top1']['numpy']:.4f}, "
              f"same first class {a['same']} of {a['images']}, max logit difference {a['max_diff']:.2g}", flush=True)

    cmd = "OMP_NUM_THREADS={t} OPENBLAS_NUM_THREADS={t} python benchmarks/bench_scratch.py {a}".format(
        t=threads, a=" ".join(argv if argv is not None else sys.argv[1:])).strip()
    lines = [
        "# NumPy engine (`inkmath.scratch`) vs PyTorch CPU",
        "",
        f"Command: `{cmd}`",
        "",
        f"Machine: {machine()}; {threads} thread(s) for both engines; load average at the end "
        f"{os.getloadavg()[0]:.2f} (a shared machine: other jobs were running).",
        f"Versions: Python {platform.python_version()}, NumPy {np.__version__}, torch {torch.__version__}.",
        f"Training: forward + backward + Adam step, batch {args.train_batch}. Inference: eval mode, batch "
        f"{args.infer_batch}. Images/s by {clock_desc}, best of {args.repeats} windows of {args.seconds:g} s. "
        "Ratio = torch / numpy (how many times faster PyTorch is).",
        "",
        "| model | input | params | train numpy img/s | train torch img/s | train ratio | "
        "infer numpy img/s | infer torch img/s | infer ratio |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['model']} | {r['size']}x{r['size']} | {r['params']:,} | {r['np_train']:.0f} | "
                     f"{r['torch_train']:.0f} | {r['torch_train'] / r['np_train']:.2f}x | {r['np_infer']:.0f} | "
                     f"{r['torch_infer']:.0f} | {r['torch_infer'] / r['np_infer']:.2f}x |")
    lines += ["", "Data: " + "; ".join(sorted({r['data'] for r in rows})), ""]
    if agreed:
        lines += ["## The shipped weights on their test sets, read by both engines", "",
                  "| weights | test set | images | top-1 torch | top-1 numpy | images given the same first class | "
                  "max logit difference |", "|---|---|---:|---:|---:|---:|---:|"]
        lines += [f"| {a['weights']} | {a['spec']} | {a['images']} | {a['top1']['torch']:.4f} | "
                  f"{a['top1']['numpy']:.4f} | {a['same']} | {a['max_diff']:.2g} |" for a in agreed]
        lines.append("")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text("\n".join(lines))
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from common import write_json_results

    print(*write_json_results(args.out, cmd))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
