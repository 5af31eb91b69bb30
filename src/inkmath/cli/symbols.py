"""Symbol commands: ``eval``, ``predict``, ``submit``, ``models``, ``summary``, ``export``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.predict import PREDICT_WEIGHTS
from inkmath.cli.common import console as _console
from inkmath.cli.common import jsonable as _jsonable
from inkmath.cli.common import positive_int, report_file_error
from inkmath.equation.synth import crohme_wap  # noqa: F401 (registers the crohme-wap, crohme-page and crohme-real data sets)


def register(subparsers) -> None:
    p = subparsers.add_parser("eval", help="evaluate weights on a data set: top-k, per-class P/R/F1, confusions")
    p.add_argument("weights", help="shipped name (e.g. mnist, hasy) or a .safetensors / run folder")
    p.add_argument("dataset", help="data spec, e.g. mnist:test")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy", "onnx"],
                   help="inference engine: torch, numpy (no torch needed) or onnx (ONNX Runtime)")
    p.add_argument("--data-dir", help="folder holding the data sets (default $INKMATH_DATA or ./data)")
    p.add_argument("--json", action="store_true", help="one JSON object on one line")
    p.add_argument("--result", metavar="FILE", help="also write a result file for the results page (JSON)")
    p.set_defaults(func=cmd_eval)

    p = subparsers.add_parser("predict", help="top-k symbols with LaTeX for image files")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (png, jpg, bmp, ...), one symbol each")
    p.add_argument("--weights", default=None,
                   help=f"shipped name or path (default: {PREDICT_WEIGHTS}, CROHME's 101 symbols: digits, letters, "
                        f"operators, distilled from the expression reader's crohme-m; `inkmath models` lists the "
                        f"others)")
    p.add_argument("--top", type=positive_int, default=5, help="readings per file, best first")
    p.add_argument("--ink", default="auto", choices=["auto", "white", "black"],
                   help="ink colour: auto guesses from the border, white = white ink on black, black = dark on light")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy", "onnx"],
                   help="inference engine: torch, numpy (no torch needed) or onnx (ONNX Runtime)")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=cmd_predict)

    p = subparsers.add_parser("submit", help="write a Kaggle-style id,label CSV for a folder of images")
    p.add_argument("weights", help="shipped name (e.g. mnist, hasy) or a .safetensors / run folder")
    p.add_argument("images", nargs="+", help="image files or folders (searched recursively)")
    p.add_argument("--out", default="submission.csv", help="CSV file to write (id = file name without suffix)")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy", "onnx"],
                   help="inference engine: torch, numpy (no torch needed) or onnx (ONNX Runtime)")
    p.set_defaults(func=cmd_submit)

    p = subparsers.add_parser("models", help="list registry models, and every shipped model with what it is for")
    _add_shape_options(p)
    p.set_defaults(func=cmd_models)

    p = subparsers.add_parser("summary", help="layer, output shape and parameters of a model")
    p.add_argument("model", help="registry model (see `inkmath models`)")
    _add_shape_options(p)
    p.set_defaults(func=cmd_summary)

    p = subparsers.add_parser("export", help="ship a finished run's weights under a name (weights, card, metrics)")
    p.add_argument("run", help="run folder")
    p.add_argument("--name", required=True, help="name to ship the weights under (what --weights then takes)")
    p.add_argument("--dest", help="folder (default: the package's weights folder)")
    p.set_defaults(func=cmd_export)


def _add_shape_options(p) -> None:
    """The model shape that parameter counts are given for (``models``, ``summary``)."""
    p.add_argument("--classes", type=positive_int, default=369, help="number of classes the counts are for")
    p.add_argument("--size", type=positive_int, default=32, help="input side in pixels the counts are for")
    p.add_argument("--json", action="store_true", help="one JSON object instead of tables")


def cmd_eval(args) -> int:
    from inkmath.evaluation.evaluate import evaluate_weights

    report = evaluate_weights(args.weights, args.dataset, args.engine, args.data_dir)
    if args.result:
        from inkmath.evaluation.results import HOW_SYMBOLS, symbols_row, write_result
        from inkmath.weights import resolve_weights

        command = f"inkmath eval {args.weights} {args.dataset}"
        command += f" --engine {args.engine}" if args.engine != "torch" else ""
        write_result(args.result, "symbols", "Symbol recognition", command, HOW_SYMBOLS,
                     [symbols_row(report, resolve_weights(args.weights)[1])])
    if args.json:
        print(json.dumps(_jsonable(report)))
        return 0
    from rich.table import Table

    con = _console()
    con.print(f"[bold]{args.weights}[/] on [bold]{args.dataset}[/] ({report['n']} images, engine {args.engine})")
    con.print(f"top-1 {report['top1']:.4f}   top-3 {report['top3']:.4f}   top-5 {report['top5']:.4f}   "
              f"macro F1 {report['macro_f1']:.4f}")
    t = Table(title="most confused (true -> predicted)")
    for c in ("true", "predicted", "count", "share of true"):
        t.add_column(c, overflow="fold")
    for m in report["most_confused"]:
        t.add_row(m["true"], m["predicted"], str(m["count"]), f"{m['share_of_true']:.3f}")
    con.print(t)
    worst = sorted((c for c in report["per_class"] if c["support"]), key=lambda c: c["f1"])[:10]
    t = Table(title="weakest classes")
    for c in ("class", "precision", "recall", "F1", "support"):
        t.add_column(c, overflow="fold")
    for c in worst:
        t.add_row(c["class"], f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", str(c["support"]))
    con.print(t)
    return 0


def _read_images(paths: list[str]):
    """Yield (path, image or None, error or None) for each file; a bad file never stops the others."""
    from inkmath.imageio import read_image

    for p in paths:
        try:
            yield p, read_image(p), None
        except InkmathError as e:
            yield p, None, e


def cmd_predict(args) -> int:
    from inkmath.predict import default_predict_weights
    from inkmath.predict import Predictor

    pred = Predictor.load(args.weights or default_predict_weights(), engine=args.engine)  # a bad name: exit 2, once
    failed = 0
    rows = []
    for path, image, error in _read_images(args.images):
        if error is None:
            try:
                top = pred.predict([image], ink=args.ink, top=args.top)[0]
            except InkmathError as e:
                error = e
        if error is not None:
            failed += 1
            report_file_error(path, error, as_json=args.json)
            continue
        if args.json:
            print(json.dumps({"file": path, "weights": pred.card["name"], "predictions": [p.to_dict() for p in top]}),
                  flush=True)
        else:
            rows.append((path, top))
    if rows:
        _console().print(prediction_table(rows, pred))
    return 1 if failed else 0


def prediction_table(rows, pred):
    """A rich table: file (on its first row), rank, label, LaTeX, probability; cells never wrap mid-entry.

    The label is printed once: the LaTeX column is filled only where it differs from the label (lt -> <).
    """
    from rich.table import Table
    from rich.text import Text  # labels such as [ are plain text, never rich markup

    n = len(pred.vocab)
    t = Table(title=f"weights {pred.card['name']} ({n} classes, {pred.engine})", title_justify="left",
              caption="LaTeX: shown where it differs from the label", caption_justify="left")
    t.add_column("file", overflow="fold")
    t.add_column("rank", justify="right", no_wrap=True)
    t.add_column("label", no_wrap=True)
    t.add_column("LaTeX", no_wrap=True)
    t.add_column("probability", justify="right", no_wrap=True)
    for path, top in rows:
        for k, p in enumerate(top, 1):
            t.add_row(Text(str(path) if k == 1 else ""), str(k), Text(p.label),
                      Text(p.latex if p.latex != p.label else ""), f"{p.prob:.3f}",
                      end_section=k == len(top))
    return t


def cmd_submit(args) -> int:
    import csv
    import io

    from inkmath.atomic import atomic_write_text
    from inkmath.imageio import IMAGE_SUFFIXES
    from inkmath.predict import Predictor

    files: list[str] = []
    for item in args.images:
        p = Path(item)
        if p.is_dir():
            files += sorted(str(f) for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(item)
    if not files:
        raise InkmathError(f"No images found in {', '.join(args.images)}; give image files or folders holding them")
    first: dict[str, str] = {}
    for f in files:  # the id is the file name without suffix: two files with one name would give one id twice
        stem = Path(f).stem
        if stem in first:
            raise InkmathError(f"{first[stem]} and {f} both give the id {stem!r}; each id must be one image's: "
                               "rename one, or submit them apart")
        first[stem] = f
    pred = Predictor.load(args.weights, engine=args.engine)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "label"])
    failed = 0
    for path, image, error in _read_images(files):
        if error is None:
            try:
                w.writerow([Path(path).stem, pred.predict([image], top=1)[0][0].label])
                continue
            except InkmathError as e:
                error = e
        failed += 1
        report_file_error(path, error)
    atomic_write_text(Path(args.out), buf.getvalue())
    print(f"wrote {len(files) - failed} rows to {args.out}" + (f"; {failed} file(s) failed" if failed else ""),
          file=sys.stderr)
    return 1 if failed else 0


def cmd_models(args) -> int:
    from rich.table import Table

    from inkmath.models import count_parameters, create_model, list_models
    from inkmath.weights import describe_shipped

    rows = [{"model": n, "parameters": count_parameters(create_model(n, args.classes, args.size)), "description": d}
            for n, d in list_models().items()]
    shipped = describe_shipped()
    if args.json:
        print(json.dumps(_jsonable({"models": rows, "weights": shipped})))
        return 0
    t = Table(title=f"models (parameters for {args.classes} classes, {args.size}x{args.size} input)")
    for c in ("model", "parameters", "description"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(r["model"], f"{r['parameters']:,}", r["description"])
    con = _console()
    con.print(t)
    t = Table(title="shipped weights (src/inkmath/weights; recipes under configs/)")
    for c in ("weights", "for", "model", "parameters", "measured"):
        t.add_column(c, overflow="fold")
    for s in shipped:
        name = s["name"] + "".join(f" ({a})" for a in s["aliases"])
        t.add_row(name, s["purpose"], s["model"], f"{s['parameters']:,}", s["metric"])
    con.print(t)
    return 0


def cmd_summary(args) -> int:
    from rich.table import Table

    from inkmath.models import count_parameters, create_model
    from inkmath.models.summary import layer_table

    model = create_model(args.model, args.classes, args.size)
    try:
        rows = layer_table(model, args.size)
    except RuntimeError:  # torch: a layer's output would have no pixels
        smallest = next((s for s in range(args.size + 1, 257) if _input_fits(args.model, args.classes, s)), None)
        if smallest is None:
            raise
        raise InkmathError(f"--size {args.size} is too small for {args.model}: its layers shrink the input to "
                           f"nothing; give --size {smallest} or more") from None
    if args.json:
        print(json.dumps({"model": args.model, "layers": rows, "parameters": count_parameters(model)}))
        return 0
    t = Table(title=f"{args.model}: {args.classes} classes, input 1x{args.size}x{args.size}")
    for c in ("layer", "type", "output shape", "parameters"):
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(r["layer"], r["type"], "x".join(map(str, r["output"])), f"{r['parameters']:,}")
    t.add_row("total", "", "", f"{count_parameters(model):,}")
    _console().print(t)
    return 0


def _input_fits(model_name: str, classes: int, size: int) -> bool:
    """Whether a ``size`` x ``size`` input passes through the model (``inkmath summary``'s forward pass)."""
    from inkmath.models import create_model
    from inkmath.models.summary import layer_table

    try:
        layer_table(create_model(model_name, classes, size), size)
    except RuntimeError:
        return False
    return True


def cmd_export(args) -> int:
    from inkmath.weights import export_run

    path = export_run(Path(args.run), args.name, Path(args.dest) if args.dest else None)
    print(path)
    return 0
