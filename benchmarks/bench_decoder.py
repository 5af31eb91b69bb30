"""What the decoder adds to reading a 10-symbol expression: the old path and the decoder's, side by side.

Old path: ``segment_strokes`` / ``segment_image`` -> ``symbols.choose_tokens`` (the context model) -> ``parse`` ->
LaTeX and MathML (one reading).
New path: ``recognize_strokes`` / ``recognize_image`` without solving: the segmenter's k best groupings, the
decoder's beam (parses, language model, calibration), LaTeX and MathML of the best, 5 alternatives.
Both are timed in one process, alternately call by call (A B A B ...), so the machine's load drifts alike on both;
the figure to quote is the median of the per-pair ratios. Inputs: the synthetic ``2x^2+3x-5=0`` of
``bench_recognize.py`` as strokes and as a photo, and CROHME 2014 test expressions of 10 symbols (strokes).

    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py [--engine onnx] [--repeats 30]
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-weights crohme   # the reader with the
        default classifier (new) against the same reader with another (old), side by side, wall and CPU time
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-merge OLD.safetensors   # strokes: the
        reader with the shipped stroke-merge model (new) against the same reader with another (old)
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-context symbol-context   # the reader with
        its symbol-context model(s) (new) against the same reader with another (old; a name or a .safetensors path)
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-layout   # strokes: the reader with its
        first reading read again by the chosen layout (layout_choice, new) against the same reader without (old)
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-pen   # strokes: the reader with its pen
        model (new) against the same reader without (old), side by side
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-rendering   # strokes: the reader as shipped
        (new) against the same reader without the image reader's look at the ink drawn (old; ``rendered``)
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-threads 0   # the reader with ONNX Runtime on
        one thread (new, as `inkmath serve`) against its default of a thread per core (old), side by side
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-float   # the reader with its classifier in 8
        bits (new, as shipped on ONNX Runtime) against its float graph (old), side by side
    INKMATH_DATA=../shared/data python benchmarks/bench_decoder.py --vs-image-search 3,1   # images: the reader as
        shipped (new) against the same reader with 3 groupings and a beam of 1 after the first (old)

NumPy's BLAS runs on one thread (as in `inkmath recognize` and `inkmath serve`) unless OPENBLAS_NUM_THREADS /
OMP_NUM_THREADS say otherwise; ONNX Runtime on ``--threads`` (default 1).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

from inkmath.cli.common import limit_blas_threads  # imports neither NumPy nor OpenCV

# NumPy's BLAS (and OpenCV's pool) on one thread, as ``inkmath recognize`` and ``inkmath serve`` run the reader, set
# before NumPy loads: with BLAS's default of a thread per core, the reader's small matrix products woke a second
# thread that spun on the other core, which doubled the CPU a read took and, on a busy machine, its wall time
# (docs/decisions/speed.md)
limit_blas_threads()


sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_recognize import EXPRESSION, crohme_inputs, synthetic_inputs  # noqa: E402


def old_path(kind: str, data, predictor) -> str:
    from inkmath.equation.image.segmentation import segment_image
    from inkmath.equation.core.latex import to_latex, to_mathml
    from inkmath.equation.reader.parse import parse
    from inkmath.equation.strokes.segment import segment_strokes
    from inkmath.equation.reader.symbols import choose_tokens

    symbols = segment_strokes(data, predictor) if kind == "strokes" else segment_image(data, predictor)
    tree = parse(symbols, choose_tokens(symbols))
    to_mathml(tree)
    return to_latex(tree)


def new_path(kind: str, data, predictor) -> str:
    from inkmath.equation.recognize import recognize_image, recognize_strokes

    fn = recognize_strokes if kind == "strokes" else recognize_image
    return fn(data, predictor, solve=False).latex


def one_grouping(kind: str, data, predictor) -> str:
    """The image reader as before its groupings (``--groupings``' baseline): the rules' grouping alone, read with
    the beam of 6 it had then (the groupings' reader has 4, then 1 per other grouping)."""
    import dataclasses

    from inkmath.equation.recognize import default_decoder, recognize_image

    dec = default_decoder("image")
    dec = dataclasses.replace(dec, segmentations=1, weights=dataclasses.replace(dec.weights, beam=6))
    return recognize_image(data, predictor, solve=False, decoder=dec).latex


def _new_path_with(module, name: str, value, kind: str, data, predictor) -> str:
    """``new_path`` with ``module``'s attribute ``name`` set to ``value`` for the call (then restored)."""
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        return new_path(kind, data, predictor)
    finally:
        setattr(module, name, saved)


def with_search(max_drop: float | None = None, segmentations: int | None = None, alt_beam: int | None = None,
                image_segmentations: int | None = None):
    """``new_path`` read by the shipped decoder of its kind with another search: ``max_drop`` (the readings parsed
    lie within it of the best), from strokes the segmenter's ``segmentations`` best groupings, from images
    ``image_segmentations`` groupings, and ``alt_beam`` readings of each grouping after the first (``--vs-max-drop`` /
    ``--vs-groupings`` / ``--vs-image-search``' baseline: the shipped reader is new, this one old)."""
    import dataclasses

    from inkmath.equation.recognize import default_decoder, recognize_image, recognize_strokes

    def read(kind: str, data, predictor) -> str:
        dec = default_decoder(kind)
        if max_drop is not None:
            dec = dataclasses.replace(dec, weights=dataclasses.replace(dec.weights, max_drop=max_drop))
        if alt_beam is not None:
            dec = dataclasses.replace(dec, weights=dataclasses.replace(dec.weights, alt_beam=alt_beam))
        k = segmentations if kind == "strokes" else image_segmentations
        if k is not None:
            dec = dataclasses.replace(dec, segmentations=k)
        fn = recognize_strokes if kind == "strokes" else recognize_image
        return fn(data, predictor, solve=False, decoder=dec).latex

    return read


def without_offered(kind: str, data, predictor) -> str:
    """The reader without the second layout among its alternatives (``--offered``' baseline)."""
    import dataclasses

    from inkmath.equation.recognize import default_decoder, recognize_image, recognize_strokes

    dec = default_decoder(kind)
    dec = dataclasses.replace(dec, alternative_layout=None,
                              weights=dataclasses.replace(dec.weights, offered_layouts=0))
    fn = recognize_strokes if kind == "strokes" else recognize_image
    return fn(data, predictor, solve=False, decoder=dec).latex


def margin_layout_reader(kind: str, data, predictor) -> str:
    """The reader without its first reading read again by the chosen layout (``--vs-layout``' baseline): every
    reading's layout the rules checked by the structure model at a margin (``parse.parse_scored``)."""
    import dataclasses

    from inkmath.equation.recognize import default_decoder, recognize_image, recognize_strokes

    dec = dataclasses.replace(default_decoder(kind), final_layout=None)
    fn = recognize_strokes if kind == "strokes" else recognize_image
    return fn(data, predictor, solve=False, decoder=dec).latex


def images_vs_strokes(pairs: list[tuple], predictor, repeats: int) -> dict:
    """The reader on the same expressions from strokes (old) and from their images (new), alternately call by
    call: the images' cost as a ratio of the strokes'."""
    from inkmath.equation.recognize import recognize_image, recognize_strokes

    ratios, cratios, a, b = [], [], [], []
    for strokes, img in pairs:
        recognize_strokes(strokes, predictor, solve=False)
        recognize_image(img, predictor, solve=False)
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            recognize_strokes(strokes, predictor, solve=False)
            ws, cs = time.perf_counter() - t, time.process_time() - c
            t, c = time.perf_counter(), time.process_time()
            recognize_image(img, predictor, solve=False)
            wi, ci = time.perf_counter() - t, time.process_time() - c
            a.append(ws * 1000)
            b.append(wi * 1000)
            ratios.append(wi / ws)
            cratios.append(ci / max(cs, 1e-9))
    return {"strokes_p50_ms": statistics.median(a), "images_p50_ms": statistics.median(b),
            "ratio_p50": statistics.median(ratios), "cpu_ratio_p50": statistics.median(cratios), "calls": len(a)}


def side_by_side(kind: str, data, predictor, repeats: int, old=old_path) -> dict:
    old(kind, data, predictor)
    new_path(kind, data, predictor)
    a, b, ca, cb = [], [], [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        old(kind, data, predictor)
        a.append((time.perf_counter() - t) * 1000)
        ca.append((time.process_time() - c) * 1000)
        t, c = time.perf_counter(), time.process_time()
        new_path(kind, data, predictor)
        b.append((time.perf_counter() - t) * 1000)
        cb.append((time.process_time() - c) * 1000)
    return {"old_p50_ms": statistics.median(a), "new_p50_ms": statistics.median(b),
            "ratio_p50": statistics.median([y / x for x, y in zip(a, b)]), "calls": repeats,
            "old_cpu_p50_ms": statistics.median(ca), "new_cpu_p50_ms": statistics.median(cb),
            "cpu_ratio_p50": statistics.median([y / max(x, 1e-9) for x, y in zip(ca, cb)])}


def versus(kind: str, base, what: str, args, pred, synthetic) -> int:
    """Print the reader against ``base`` side by side, on the synthetic input and on the CROHME 10-symbol ones."""
    r = side_by_side(kind, synthetic, pred, args.repeats, base)
    label = "strokes" if kind == "strokes" else "photo"
    rows = [{"input": f"`{EXPRESSION}` synthetic {label}: {what}", "engine": args.engine,
             **{k: round(v, 2) for k, v in r.items()}}]
    return print_rows(rows + crohme_rows((kind,), base, what, args, pred), args)


def crohme_rows(kinds, base, what: str | None, args, pred, real=None) -> list[dict]:
    """For each kind, one row of the reader against ``base`` side by side on the CROHME 10-symbol expressions
    (``real``: already loaded), the medians over the expressions."""
    real = crohme_inputs(args.crohme) if real is None else real
    rows = []
    for kind in kinds:
        per = [side_by_side(kind, s if kind == "strokes" else img, pred, max(3, args.repeats // 6), base)
               for _, s, img in real]
        if per:
            label = f"CROHME 2014, {len(per)} expressions of 10 symbols, {kind}" + (f": {what}" if what else "")
            rows.append(median_row(label, args.engine, per))
    return rows


def print_rows(rows: list[dict], args, compared: bool = True) -> int:
    """Print the rows; a comparison's (``compared``: old against new in one process) also go into ``--result``."""
    print(json.dumps({"rows": rows, "load": [round(v, 2) for v in os.getloadavg()], **threads_used(args)}, indent=1))
    if compared and args.result:
        from inkmath.evaluation.results import write_result

        write_result(args.result, "speed", "Side by side in one process (bench_decoder.py, 10-symbol expressions)",
                     "python benchmarks/bench_decoder.py " + " ".join(args.argv),
                     "bench_decoder.py: the two readers of a row alternately in one process, solve off; p50 of wall "
                     "time and of process CPU per expression; the ratio is new over old.", rows)
    return 0


def median_row(label: str, engine: str, per: list[dict]) -> dict:
    """One result row from several inputs' side-by-side figures: the medians of their p50s and ratios."""
    return {"input": label, "engine": engine,
            **{k: round(statistics.median(p[k] for p in per), 2 if k.endswith("_ms") else 3)
               for k in per[0] if k != "calls"},
            "calls": sum(p["calls"] for p in per)}


def threads_used(args) -> dict:
    return {"threads": {"onnxruntime": args.threads or "default", "blas": os.environ.get("OPENBLAS_NUM_THREADS"),
                        "opencv": os.environ.get("OPENCV_FOR_THREADS_NUM")}}


def load_predictor(name: str, engine: str, threads: int, int8: bool | None = None):
    """The classifier as the web server's ``ModelStore`` loads it: ONNX Runtime on ``threads`` intra-op threads
    (0: its default), in 8 bits where the weights ship their ranges (``int8`` None; False: the float graph)."""
    from inkmath.predict import Predictor

    if engine != "onnx":
        return Predictor.load(name, engine=engine)
    from inkmath.onnx_run import load_onnx_runner
    from inkmath.weights import resolve_weights

    path, card = resolve_weights(name)
    return Predictor(load_onnx_runner(path, card, threads=threads or None, int8=int8), card, "onnx")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--engine", default="onnx")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--crohme", type=int, default=10)
    ap.add_argument("--weights", default=None, help="the classifier (default: the reader's)")
    ap.add_argument("--vs-weights", default=None, metavar="NAME",
                    help="time the reader (new) against the same reader with this classifier (old)")
    ap.add_argument("--groupings", action="store_true",
                    help="images only: the reader with its groupings against the rules' grouping alone")
    ap.add_argument("--vs-merge", default=None, metavar="FILE",
                    help="strokes only: time the reader (new) against the same reader with this stroke-merge model")
    ap.add_argument("--vs-context", default=None, metavar="NAME",
                    help="time the reader (new) against the same reader with this symbol-context model (old; "
                         "comma-separated: their mean)")
    ap.add_argument("--offered", action="store_true",
                    help="strokes only: the reader with the second layout offered among the alternatives against "
                         "without it")
    ap.add_argument("--vs-layout", action="store_true",
                    help="strokes: the reader with its first reading read again by the chosen layout (new) against "
                         "the same reader without (old)")
    ap.add_argument("--vs-pen", action="store_true",
                    help="strokes: the reader as shipped (new) against the same reader without its pen model (old)")
    ap.add_argument("--vs-rendering", action="store_true",
                    help="strokes: the reader as shipped (new) against the strokes read alone (old), side by side")
    ap.add_argument("--images-vs-strokes", action="store_true",
                    help="the CROHME expressions read from their images against from their strokes, alternately")
    ap.add_argument("--threads", type=int, default=1,
                    help="ONNX Runtime's intra-op threads (default 1, as `inkmath serve` runs each reader; 0: its own "
                         "choice, a thread per core)")
    ap.add_argument("--vs-threads", type=int, default=None, metavar="N",
                    help="time the reader (new: --threads) against the same reader with ONNX Runtime on N intra-op "
                         "threads (old; 0: its default), alternately")
    ap.add_argument("--vs-float", action="store_true",
                    help="onnx: time the reader as shipped (new: its classifier in 8 bits, onnx_int8) against the "
                         "same reader on the classifier's float graph (old), alternately")
    ap.add_argument("--vs-max-drop", type=float, default=None, metavar="D",
                    help="time the reader as shipped (new) against the same reader whose search parses only the "
                         "readings within D of the best (old: DecoderWeights.max_drop D), on the CROHME expressions' "
                         "strokes and images")
    ap.add_argument("--vs-groupings", type=int, default=None, metavar="K",
                    help="strokes: time the reader as shipped (new) against the same reader reading the segmenter's K "
                         "best groupings (old; with --vs-max-drop, both changed)")
    ap.add_argument("--vs-image-search", default=None, metavar="K,B",
                    help="images: time the reader as shipped (new) against the same reader reading K groupings with "
                         "B readings of each after the first (old: image_segmentation.IMAGE_SEGMENTATIONS K, "
                         "DecoderWeights.alt_beam B)")
    ap.add_argument("--runs", type=int, default=1, help="measure this many times in turn (default 1)")
    ap.add_argument("--result", default=None, metavar="FILE",
                    help="also write the rows as a result file (benchmarks/results/reader-speed.json; a comparison's "
                         "--vs-* rows: their own file)")
    args = ap.parse_args(argv)
    args.argv = list(argv if argv is not None else sys.argv[1:])
    import torch

    torch.set_num_threads(1)
    from inkmath.equation.recognize import DEFAULT_WEIGHTS

    pred = load_predictor(args.weights or DEFAULT_WEIGHTS, args.engine, args.threads)
    strokes, photo = synthetic_inputs()
    rows = []
    if args.vs_weights or args.vs_threads is not None or args.vs_float:
        other = (load_predictor(args.vs_weights, args.engine, args.threads) if args.vs_weights else
                 load_predictor(args.weights or DEFAULT_WEIGHTS, args.engine, args.threads, int8=False)
                 if args.vs_float else load_predictor(args.weights or DEFAULT_WEIGHTS, args.engine, args.vs_threads))
        old_label = (f"the reader with {args.vs_weights} (old) vs {args.weights or DEFAULT_WEIGHTS} (new)"
                     if args.vs_weights else "the classifier's float graph (old) vs as shipped, in 8 bits where "
                                             "its ranges ship (new)" if args.vs_float else
                     f"ONNX Runtime on {args.vs_threads or 'its default'} threads (old) vs "
                     f"{args.threads or 'its default'} (new)")

        def with_other(kind, data, _predictor):
            return new_path(kind, data, other)

        return print_rows(crohme_rows(("strokes", "image"), with_other, old_label, args, pred), args)
    if args.images_vs_strokes:
        real = crohme_inputs(args.crohme)
        r = images_vs_strokes([(s, img) for _, s, img in real], pred, max(3, args.repeats // 6))
        rows.append({"input": f"CROHME 2014, {len(real)} expressions of 10 symbols: strokes (old) vs images (new)",
                     "engine": args.engine, **{k: round(v, 3) for k, v in r.items()}})
        return print_rows(rows, args)
    if args.vs_merge:
        from inkmath.equation.recognize import recognize_strokes

        def with_other_merge(kind, data, predictor):
            return recognize_strokes(data, predictor, solve=False, merge_model=args.vs_merge).latex

        what = f"the reader with stroke-merge {args.vs_merge} (old) vs the shipped one (new)"
        return versus("strokes", with_other_merge, what, args, pred, strokes)
    if args.vs_context:
        import dataclasses

        from inkmath.equation.reader import symbols
        from inkmath.equation.recognize import ContextCandidates, default_decoder, recognize_image, recognize_strokes

        strokes_decoder, image_decoder = (  # the reader's decoders with the other context models, images' too
            dataclasses.replace(default_decoder(kind), symbol_model=ContextCandidates(kind == "image", args.vs_context))
            for kind in ("strokes", "image"))

        def with_other_context(kind, data, predictor):
            if kind == "strokes":
                return recognize_strokes(data, predictor, solve=False, decoder=strokes_decoder,
                                         image_decoder=image_decoder).latex
            return recognize_image(data, predictor, solve=False, decoder=image_decoder).latex

        what = (f"the reader with symbol-context {args.vs_context} (old) vs the shipped "
                f"{'+'.join(symbols.READER_CONTEXT_MODELS)} (new; images: "
                f"{'+'.join(symbols.IMAGE_CONTEXT_MODELS or symbols.READER_CONTEXT_MODELS)})")
        return print_rows(crohme_rows(("strokes", "image"), with_other_context, what, args, pred), args)
    if args.vs_pen:
        from inkmath.equation import recognize

        def without_pen(kind, data, predictor):
            return _new_path_with(recognize, "reader_pen", lambda predictor, name=None: None, kind, data, predictor)

        what = "the reader without its pen model (old) vs with it (new: pen_symbols, the shipped pen-symbols)"
        r = side_by_side("strokes", strokes, pred, args.repeats, without_pen)
        rows = [{"input": f"`{EXPRESSION}` synthetic strokes: {what}", "engine": args.engine,
                 **{k: round(v, 2) for k, v in r.items()}}]
        return print_rows(rows + crohme_rows(("strokes",), without_pen, what, args, pred), args)
    if args.vs_rendering:
        from inkmath.equation import second_look as rendered

        def strokes_alone(kind, data, predictor):
            return _new_path_with(rendered, "GATE", 0.0, kind, data, predictor)

        what = (f"the reader of strokes alone (old) vs with the image reader's look at the ink drawn below a "
                f"confidence of {rendered.GATE} (new: rendered)")
        r = side_by_side("strokes", strokes, pred, args.repeats, strokes_alone)
        rows = [{"input": f"`{EXPRESSION}` synthetic strokes: {what}", "engine": args.engine,
                 **{k: round(v, 2) for k, v in r.items()}}]
        return print_rows(rows + crohme_rows(("strokes",), strokes_alone, what, args, pred), args)
    if args.vs_image_search is not None:
        try:
            k, b = (int(v) for v in args.vs_image_search.split(","))
        except ValueError:
            ap.error(f"--vs-image-search takes K,B (two whole numbers, e.g. 3,1), not {args.vs_image_search!r}")
        what = f"the image reader with {k} groupings and alt_beam {b} (old) vs as shipped (new)"
        smaller = with_search(alt_beam=b, image_segmentations=k)
        return print_rows(crohme_rows(("image",), smaller, what, args, pred), args)
    if args.vs_max_drop is not None or args.vs_groupings is not None:
        smaller = ", ".join(([f"max_drop {args.vs_max_drop}"] if args.vs_max_drop is not None else []) +
                            ([f"{args.vs_groupings} groupings"] if args.vs_groupings is not None else []))
        what = f"the reader with {smaller} (old) vs as shipped (new)"
        kinds = ("strokes",) if args.vs_max_drop is None else ("strokes", "image")
        return print_rows(crohme_rows(kinds, with_search(args.vs_max_drop, args.vs_groupings), what, args, pred),
                          args)
    if args.vs_layout:
        what = "the reader without (old) and with (new) its first reading read again by the chosen layout"
        return versus("strokes", margin_layout_reader, what, args, pred, strokes)
    if args.groupings or args.offered:
        kind = "strokes" if args.offered else "image"
        base, what = ((one_grouping, "1 grouping (old) vs the groupings (new)") if args.groupings else
                      (without_offered, "no second layout offered (old) vs offered (new)"))
        return versus(kind, base, what, args, pred, strokes if args.offered else photo)
    real = crohme_inputs(args.crohme)
    for run in range(1, args.runs + 1):
        load = round(os.getloadavg()[0], 1)
        for kind, label, data in (("strokes", f"`{EXPRESSION}` synthetic strokes", strokes),
                                  ("image", f"`{EXPRESSION}` synthetic photo", photo)):
            r = side_by_side(kind, data, pred, args.repeats)
            rows.append({"run": run, "input": label, "engine": args.engine, **{k: round(v, 2) for k, v in r.items()}})
        rows += [{"run": run, **row} for row in crohme_rows(("strokes", "image"), old_path, None, args, pred, real)]
        for row in rows[-4:]:
            row["load before"] = load
    print_rows(rows, args, compared=False)
    if args.result:
        from inkmath.evaluation.results import write_result

        used = threads_used(args)["threads"]
        names = {"old_p50_ms": "before the decoder p50 ms", "new_p50_ms": "reader p50 ms", "ratio_p50": "ratio",
                 "old_cpu_p50_ms": "before the decoder CPU p50 ms", "new_cpu_p50_ms": "reader CPU p50 ms",
                 "cpu_ratio_p50": "CPU ratio"}
        rows = [{names.get(k, k): v for k, v in row.items()} for row in rows]
        write_result(args.result, "speed", "The reader's speed (10-symbol expressions, ONNX Runtime)",
                     "python benchmarks/bench_decoder.py " + " ".join(args.argv),
                     f"bench_decoder.py: the path before the decoder (first grouping, first candidates, one parse) "
                     f"and the shipped reader alternately in one process, solve off; p50 of wall time and of process "
                     f"CPU per expression; {args.runs} run(s) in one process, the load average before each in its "
                     f"rows. ONNX Runtime on {used['onnxruntime']} intra-op thread(s), NumPy's BLAS on "
                     f"{used['blas']} and OpenCV on {used['opencv']}, as `inkmath serve` runs the reader. The issue's limit: 50 ms p50 for a "
                     f"10-symbol expression (the CROHME rows' 'reader p50 ms'). Figures move with the machine's load; "
                     f"compare changes side by side (--vs-threads, --vs-weights, ...).", rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
