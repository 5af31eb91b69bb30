"""End-to-end latency of reading a 10-symbol expression: strokes or an image -> symbols -> layout -> LaTeX -> answer.

Inputs, all with exactly 10 symbols:
- `2x^2+3x-5=0` written with the project's synthetic handwriting (inkmath.synth), as strokes and as a photo-like
  image (the strokes rasterised dark on light paper, with noise);
- real handwriting: the CROHME 2014 test expressions with exactly 10 symbols (traceGroups), as strokes and as their
  rendering (white ink on black, as the WAP bitmaps).

Each call is timed on the wall clock in one process (one thread for the classifier), warm: the classifier and the
solver are loaded before timing. Stages are timed separately too (segmentation + classification, layout + LaTeX,
answer) so a regression points at its stage.

    INKMATH_DATA=../shared/data python benchmarks/bench_recognize.py [--engines torch,onnx] [--repeats 20]
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

EXPRESSION = "2x^2+3x-5=0"


def synthetic_inputs() -> tuple[list, np.ndarray]:
    from inkmath import ink, synth

    strokes = synth.write(EXPRESSION, seed=3)
    img, _ = ink.rasterize(strokes, padding=20)
    rng = np.random.default_rng(0)
    photo = 235 - img.astype(np.float32) * (180 / 255) + rng.normal(0, 8, img.shape)  # dark ink on grey paper
    return strokes, np.clip(photo, 0, 255).astype(np.uint8)


def crohme_inputs(n: int) -> list[tuple[str, list, np.ndarray]]:
    from inkmath import ink
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml

    archive = data_dir() / "crohme" / "crohme2014_test_inkml.tar.xz"
    out = []
    if not archive.is_file():
        print(f"note: {archive} not found; only the synthetic expression is timed", file=sys.stderr)
        return out
    for expr in iter_inkml(archive):
        if len(expr.groups) == 10:
            strokes = [np.asarray(s, float)[:, :2] for s in expr.strokes if len(s)]
            img, _ = ink.rasterize(strokes, padding=10)
            out.append((expr.id, strokes, img))
        if len(out) >= n:
            break
    return out


def time_calls(fn, repeats: int) -> list[float]:
    fn()  # warm
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def stage_times(kind: str, data, predictor, repeats: int) -> dict[str, float]:
    """Median ms of each stage for one input."""
    from inkmath.equation.image.segmentation import segment_image
    from inkmath.equation.core.latex import to_latex, to_mathml
    from inkmath.equation.reader.parse import parse
    from inkmath.equation.strokes.segment import segment_strokes
    from inkmath.equation.solve.answer import answer
    from inkmath.equation.reader.symbols import choose_tokens

    seg = (lambda: segment_strokes(data, predictor)) if kind == "strokes" else (lambda: segment_image(data, predictor))
    symbols = seg()
    tokens = choose_tokens(symbols)
    tree = parse(symbols, tokens)

    def layout():
        t = parse(symbols, choose_tokens(symbols))
        to_latex(t)
        to_mathml(t)

    return {"segment+classify": statistics.median(time_calls(seg, repeats)),
            "layout+latex+mathml": statistics.median(time_calls(layout, repeats)),
            "answer": statistics.median(time_calls(lambda: answer(tree), repeats))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engines", default="torch,onnx")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--crohme", type=int, default=20, help="how many 10-symbol CROHME expressions")
    ap.add_argument("--weights", default=None,
                    help="the symbol classifier (default: the expression reader's, recognize.DEFAULT_WEIGHTS)")
    ap.add_argument("--out", default="recognize")
    args = ap.parse_args(argv)
    if args.weights is None:
        from inkmath.equation.recognize import DEFAULT_WEIGHTS

        args.weights = DEFAULT_WEIGHTS

    import torch

    torch.set_num_threads(1)
    from inkmath.equation.recognize import recognize_image, recognize_strokes
    from inkmath.equation.solve.answer import start_workers
    from inkmath.predict import Predictor

    start_workers()
    info = machine()
    strokes, photo = synthetic_inputs()
    real = crohme_inputs(args.crohme)
    rows, stage_rows = [], []
    for engine in args.engines.split(","):
        pred = Predictor.load(args.weights, engine=engine)
        rec_s = recognize_strokes(strokes, pred)
        rec_i = recognize_image(photo, pred)
        for label, fn, latex in (
            (f"`{EXPRESSION}` synthetic strokes", lambda: recognize_strokes(strokes, pred), rec_s.latex),
            (f"`{EXPRESSION}` synthetic photo {photo.shape[1]}x{photo.shape[0]}", lambda: recognize_image(photo, pred),
             rec_i.latex),
        ):
            t = time_calls(fn, args.repeats)
            rows.append((engine, label, latex, statistics.median(t), float(np.percentile(t, 90)), len(t)))
        for kind, data in (("strokes", strokes), ("image", photo)):
            st = stage_times(kind, data, pred, args.repeats)
            stage_rows.append((engine, kind, st))
        if real:
            for kind in ("strokes", "image"):
                per = []
                for _, s, img in real:
                    call = (lambda s=s: recognize_strokes(s, pred)) if kind == "strokes" else \
                        (lambda img=img: recognize_image(img, pred))
                    per.append(statistics.median(time_calls(call, max(3, args.repeats // 4))))
                rows.append((engine, f"CROHME 2014, {len(real)} expressions of 10 symbols, {kind}", "-",
                             statistics.median(per), float(np.percentile(per, 90)), len(per)))
        print(f"{engine} done", file=sys.stderr)

    lines = [f"Machine: {machine_line(info)}; classifier `{args.weights}` with 1 thread; solver worker pool started; "
             "warm (models loaded before timing). Wall-clock ms per call.", "",
             "| engine | input | read as | median ms | p90 ms | calls or expressions |", "|---|---|---|---:|---:|---:|"]
    lines += [f"| {e} | {lab} | `{lx}` | {m:.1f} | {p:.1f} | {n} |" if lx != "-" else
              f"| {e} | {lab} | - | {m:.1f} | {p:.1f} | {n} |" for e, lab, lx, m, p, n in rows]
    lines += ["", f"Stages for `{EXPRESSION}` (median ms):", "",
              "| engine | input | segment + classify | layout + LaTeX + MathML | answer (SymPy) |", "|---|---|---:|---:|---:|"]
    lines += [f"| {e} | {k} | {st['segment+classify']:.1f} | {st['layout+latex+mathml']:.1f} | {st['answer']:.1f} |"
              for e, k, st in stage_rows]
    lines += ["", f"Load average at the end: {' '.join(f'{v:.2f}' for v in __import__('os').getloadavg())}."]
    cmd = "INKMATH_DATA=../shared/data python benchmarks/bench_recognize.py " + " ".join(argv or sys.argv[1:])
    path = write_result(args.out, cmd.strip(), "\n".join(lines))
    print("\n".join(lines))
    print(f"written: {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
