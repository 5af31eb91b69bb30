"""Symbol prediction speed of the shipped weights: batch-1 latency (prepare + model) and batched throughput.

    python benchmarks/bench_predict.py [--engines torch,numpy,onnx]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, machine_line, write_result  # noqa: E402

from inkmath import InkmathError  # noqa: E402
from inkmath.predict import Predictor  # noqa: E402
from inkmath.weights import list_shipped  # noqa: E402


def sample_images(n: int, size: int = 45) -> list[np.ndarray]:
    """Synthetic black-on-white strokes (photo-like input) so every model sees the same work."""
    import cv2

    rng = np.random.default_rng(0)
    out = []
    for _ in range(n):
        im = np.full((size, size), 255, np.uint8)
        pts = rng.integers(5, size - 5, (4, 2)).astype(np.int32)
        cv2.polylines(im, [pts], False, 0, 2)
        out.append(im)
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--engines", default="torch,numpy,onnx")
    ap.add_argument("--repeats", type=int, default=200)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(2)
    info = machine()
    images = sample_images(512)
    rows = []
    for name in list_shipped():
        for engine in args.engines.split(","):
            try:
                p = Predictor.load(name, engine=engine)
            except (InkmathError, ImportError) as e:
                print(f"skip {name}/{engine}: {e}")
                continue
            for im in images[:10]:
                p.predict([im])
            lat = []
            for i in range(args.repeats):
                t = time.perf_counter()
                p.predict([images[i % len(images)]])
                lat.append(time.perf_counter() - t)
            p.predict(images[:64])
            t = time.perf_counter()
            p.predict(images, batch_size=256)
            thr = len(images) / (time.perf_counter() - t)
            lat.sort()
            rows.append((name, engine, f"{1000 * statistics.median(lat):.2f}", f"{1000 * lat[int(0.95 * len(lat))]:.2f}",
                         f"{thr:.0f}", f"{1e6 / thr:.0f}"))
            print(rows[-1], flush=True)
    body = [f"Machine: {machine_line(info)}; torch threads 2.",
            "Each call prepares the image (polarity, crop, pad, resize) and runs the model.", "",
            "| weights | engine | batch-1 latency p50 (ms) | p95 (ms) | batched throughput (symbols/s, batch 256) | µs per symbol batched |",
            "|---|---|---|---|---|---|"]
    body += ["| " + " | ".join(r) + " |" for r in rows]
    print(write_result("predict", "python benchmarks/bench_predict.py " + " ".join(sys.argv[1:]), "\n".join(body)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
