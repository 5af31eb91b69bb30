"""Where a 10-symbol read's time goes: process time per stage (inclusive), from images and from strokes.

The CROHME 2014 test expressions of 10 symbols (``bench_recognize.crohme_inputs``) are read by the shipped reader
(ONNX Runtime and NumPy's BLAS on one thread each, as `inkmath serve` runs it; solve off), each stage wrapped by a timer: the classifier's runs (and how many crops it
read), image segmentation's parts (components, names, touching symbols, bars), the learned grouping, the near
neighbours, stroke segmentation, and the decoder (symbol-context model, parses). Figures are CPU ms a read; under
load they inflate, so compare stages within one run.

    INKMATH_DATA=../shared/data python benchmarks/image_read_stages.py [--repeats 3] [--crohme 10]
"""

from __future__ import annotations

import argparse
import collections
import functools
import sys
import time
from pathlib import Path

from inkmath.cli.common import limit_blas_threads  # imports neither NumPy nor OpenCV

limit_blas_threads()  # NumPy's BLAS and OpenCV on one thread, as `inkmath serve` runs the reader (before NumPy loads)

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--crohme", type=int, default=10)
    ap.add_argument("--engine", default="onnx")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    from bench_decoder import load_predictor
    from bench_recognize import crohme_inputs

    from inkmath.equation import recognize
    from inkmath.equation.reader import decode
    from inkmath.equation.image import alternatives as image_alternatives
    from inkmath.equation.image import grouping as image_grouping
    from inkmath.equation.image import segmentation as image_segmentation
    from inkmath.equation.strokes import segment
    from inkmath.equation.reader import symbols

    spent: collections.Counter = collections.Counter()

    def timed(module, name: str, label: str) -> None:
        fn = getattr(module, name)

        @functools.wraps(fn)
        def wrapper(*a, **k):
            c = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[label] += time.process_time() - c

        setattr(module, name, wrapper)

    pred = load_predictor(recognize.DEFAULT_WEIGHTS, args.engine, 1)  # as `inkmath serve`: ONNX Runtime on one thread
    logits = pred.logits

    def counted(batch):
        c = time.process_time()
        try:
            return logits(batch)
        finally:
            spent["  classifier runs"] += time.process_time() - c
            spent["  crops read (count)"] += len(batch)

    pred.logits = counted
    for module, name, label in (
            (image_segmentation, "segment_image_nbest", "segmentation, images"),
            (image_segmentation, "image_parts", "  image_parts"),
            (image_segmentation, "components", "    components"),
            (image_segmentation, "written_names", "    written_names"),
            (image_segmentation, "cut_bars", "    cut_bars"),
            (image_segmentation, "split_touching", "    split_touching"),
            (image_segmentation, "hanging_legs", "    hanging_legs"),
            (image_segmentation, "open_parens", "    open_parens"),
            (image_grouping, "learned_groupings", "  learned_groupings"),
            (image_grouping, "score_pairs", "    score_pairs"),
            (image_alternatives, "near_pairs", "  near_pairs"),
            (segment, "segment_strokes_nbest", "segmentation, strokes"),
            (recognize, "_finish", "decoder"),
            (symbols, "read_symbols_many", "  symbol-context model"),
            (decode, "_structure", "  parses")):
        timed(module, name, label)
    real = crohme_inputs(args.crohme)
    for kind, read in (("images", recognize.recognize_image), ("strokes", recognize.recognize_strokes)):
        data = [img if kind == "images" else strokes for _, strokes, img in real]
        for d in data:
            read(d, pred, solve=False)
        spent.clear()
        c = time.process_time()
        for _ in range(args.repeats):
            for d in data:
                read(d, pred, solve=False)
        n = args.repeats * len(data)
        print(f"{kind}: {(time.process_time() - c) * 1000 / n:.1f} ms CPU a read ({n} reads)")
        for label, v in spent.items():
            print(f"  {label:32s} {v / n:7.1f}" if "count" in label else f"  {label:32s} {v * 1000 / n:7.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
