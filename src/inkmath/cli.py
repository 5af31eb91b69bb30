"""The ``inkmath`` command: parses arguments, calls the library, prints results (rich for people, JSON for tools)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import sys
from pathlib import Path

from inkmath import InkmathError, __version__

# Modules that add their own sub-commands with ``register(subparsers)``.
COMMAND_MODULES = [
    "inkmath.data.download",
    "inkmath.equation.cli",
    "inkmath.equation.crohme_eval",
    "inkmath.scratch.cli",
    "inkmath.web.cli",
    "inkmath.onnx_export",
    "inkmath.evaluation.report_cli",
    "inkmath.evaluation.sweep",
]


def _console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))


# ------------------------------------------------------------------------------------------------ train
def cmd_train(args) -> int:
    from inkmath.training.config import make_config

    overrides = {"dataset": args.dataset, "model": args.model, "out": args.out, "epochs": args.epochs,
                 "batch_size": args.batch_size, "lr": args.lr, "seed": args.seed, "engine": args.engine,
                 "augment": args.augment, "limit": args.limit, "test": args.test, "val": args.val,
                 "threads": args.threads, "name": args.name, "precision": args.precision}
    for item in args.set or []:
        key, eq, value = item.partition("=")
        if not eq:
            raise InkmathError(f"--set expects KEY=VALUE, got {item!r}")
        overrides[key.replace("-", "_")] = value
    cfg = make_config(args.config, overrides)
    if cfg.engine == "numpy":
        from inkmath.scratch.cli import train_from_config

        return train_from_config(cfg, resume=args.resume)
    if cfg.engine != "torch":
        raise InkmathError(f"Unknown engine {cfg.engine!r}; choose torch or numpy")
    from inkmath.training.loop import fit

    result = fit(cfg, resume=args.resume, progress=not args.quiet)
    if "metrics" in result:
        print(json.dumps(_jsonable({"out": result["out"], "weights": result["weights"], "metrics": result["metrics"]})))
    return 0


# ------------------------------------------------------------------------------------------------ eval
def evaluate_weights(weights: str, spec: str, engine: str = "torch", data_dir=None) -> dict:
    """Top-1/3/5, per-class P/R/F1, confusion matrix and most-confused pairs of shipped or trained weights."""
    import numpy as np

    from inkmath.data import load_dataset, prepared_images
    from inkmath.evaluation.metrics import classification_report
    from inkmath.predict import Predictor

    pred = Predictor.load(weights, engine=engine)
    ds = load_dataset(spec, data_dir)
    labels = ds.labels
    if ds.vocab.names != pred.vocab.names:  # map the data set's classes onto the model's by name
        missing = [n for n in ds.vocab.names if n not in pred.vocab.names]
        if missing:
            raise InkmathError(f"{spec} has classes the model {weights!r} does not know: {missing[:10]}")
        mapping = np.array([pred.vocab.index(n) for n in ds.vocab.names])
        labels = mapping[labels]
    x = prepared_images(ds, pred.preset.name)
    scores = np.concatenate([pred.logits(x[i:i + 512, None].astype(np.float32) / 255.0)
                             for i in range(0, len(x), 512)]) if len(x) else np.zeros((0, len(pred.vocab)))
    report = classification_report(scores, labels, pred.vocab)
    report.update({"weights": weights, "dataset": spec, "engine": engine})
    return report


def cmd_eval(args) -> int:
    report = evaluate_weights(args.weights, args.dataset, args.engine, args.data_dir)
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
        t.add_column(c)
    for m in report["most_confused"]:
        t.add_row(m["true"], m["predicted"], str(m["count"]), f"{m['share_of_true']:.3f}")
    con.print(t)
    worst = sorted((c for c in report["per_class"] if c["support"]), key=lambda c: c["f1"])[:10]
    t = Table(title="weakest classes")
    for c in ("class", "precision", "recall", "F1", "support"):
        t.add_column(c)
    for c in worst:
        t.add_row(c["class"], f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", str(c["support"]))
    con.print(t)
    return 0


# ------------------------------------------------------------------------------------------------ predict / submit
def _read_images(paths: list[str]):
    """Yield (path, image or None, error or None) for each file; a bad file never stops the others."""
    from inkmath.data.images import decode_image

    for p in paths:
        try:
            data = Path(p).read_bytes()
        except OSError as e:
            yield p, None, f"cannot read the file ({e.strerror or e})"
            continue
        try:
            yield p, decode_image(data, Path(p).name), None
        except InkmathError as e:
            yield p, None, str(e)


def cmd_predict(args) -> int:
    from inkmath.predict import Predictor

    pred = Predictor.load(args.weights, engine=args.engine)
    failed = 0
    con = _console()
    for path, image, error in _read_images(args.images):
        if error is None:
            try:
                top = pred.predict([image], ink=args.ink, top=args.top)[0]
            except InkmathError as e:
                error = str(e)
        if error is not None:
            failed += 1
            if args.json:
                print(json.dumps({"file": path, "error": error}))
            else:
                _console(stderr=True).print(f"[red]{path}: {error}[/]")
            continue
        if args.json:
            print(json.dumps({"file": path, "weights": pred.card["name"], "predictions": [p.to_dict() for p in top]}))
        else:
            con.print(f"[bold]{path}[/]: " + "  ".join(f"{p.label} [dim]{p.latex}[/] {p.prob:.3f}" for p in top),
                      highlight=False)
    return 1 if failed else 0


def cmd_submit(args) -> int:
    import csv
    import io

    from inkmath.data.images import IMAGE_SUFFIXES
    from inkmath.predict import Predictor
    from inkmath.training.checkpoint import atomic_write_text

    files: list[str] = []
    for item in args.images:
        p = Path(item)
        if p.is_dir():
            files += sorted(str(f) for f in p.rglob("*") if f.suffix.lower() in IMAGE_SUFFIXES)
        else:
            files.append(item)
    if not files:
        raise InkmathError(f"No images found in {args.images}")
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
                error = str(e)
        failed += 1
        _console(stderr=True).print(f"[red]{path}: {error}[/]")
    atomic_write_text(Path(args.out), buf.getvalue())
    _console(stderr=True).print(f"wrote {len(files) - failed} rows to {args.out}" + (f"; {failed} file(s) failed" if failed else ""))
    return 1 if failed else 0


# ------------------------------------------------------------------------------------------------ models
def cmd_models(args) -> int:
    from rich.table import Table

    from inkmath.models import count_parameters, create_model, list_models
    from inkmath.weights import list_shipped, list_shipped_models

    rows = [{"model": n, "parameters": count_parameters(create_model(n, args.classes, args.size)), "description": d}
            for n, d in list_models().items()]
    shipped = [{"weights": n, "model": c["model"], "classes": c["num_classes"], "preset": c["preset"],
                "metrics": c.get("metrics", {})} for n, c in list_shipped().items()]
    reader = [{"weights": n, "model": c.get("model"), "purpose": c.get("purpose", ""), "parameters": c.get("parameters"),
               "metrics": c.get("metrics", {})} for n, c in list_shipped_models().items() if "num_classes" not in c]
    if args.json:
        print(json.dumps(_jsonable({"models": rows, "weights": shipped, "reader_models": reader})))
        return 0
    t = Table(title=f"models (parameters for {args.classes} classes, {args.size}x{args.size} input)")
    for c in ("model", "parameters", "description"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["model"], f"{r['parameters']:,}", r["description"])
    con = _console()
    con.print(t)
    t = Table(title="shipped weights")
    for c in ("weights", "model", "classes", "preset", "test top-1"):
        t.add_column(c)
    for s in shipped:
        test = s["metrics"].get("test") or {}
        t.add_row(s["weights"], s["model"], str(s["classes"]), s["preset"],
                  f"{test['top1']:.4f} on {test['spec']}" if test else "")
    con.print(t)
    if reader:
        t = Table(title="the expression reader's other models")
        for c in ("weights", "model", "parameters", "purpose"):
            t.add_column(c)
        for r in reader:
            t.add_row(r["weights"], str(r["model"]), f"{r['parameters']:,}" if r["parameters"] else "", r["purpose"])
        con.print(t)
    return 0


def layer_table(model, in_size: int) -> list[dict]:
    """Each leaf module with its output shape and parameter count, from one forward pass with hooks."""
    import torch

    rows: list[dict] = []
    hooks = []
    for name, mod in model.named_modules():
        if len(list(mod.children())) == 0:
            def hook(m, inp, out, name=name):
                rows.append({"layer": name, "type": type(m).__name__, "output": list(out.shape[1:]),
                             "parameters": sum(p.numel() for p in m.parameters())})
            hooks.append(mod.register_forward_hook(hook))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, in_size, in_size))
    for h in hooks:
        h.remove()
    return rows


def cmd_summary(args) -> int:
    from rich.table import Table

    from inkmath.models import count_parameters, create_model

    model = create_model(args.model, args.classes, args.size)
    rows = layer_table(model, args.size)
    if args.json:
        print(json.dumps({"model": args.model, "layers": rows, "parameters": count_parameters(model)}))
        return 0
    t = Table(title=f"{args.model}: {args.classes} classes, input 1x{args.size}x{args.size}")
    for c in ("layer", "type", "output shape", "parameters"):
        t.add_column(c)
    for r in rows:
        t.add_row(r["layer"], r["type"], "x".join(map(str, r["output"])), f"{r['parameters']:,}")
    t.add_row("total", "", "", f"{count_parameters(model):,}")
    _console().print(t)
    return 0


def cmd_export(args) -> int:
    from inkmath.weights import export_run

    path = export_run(Path(args.run), args.name, Path(args.dest) if args.dest else None)
    print(path)
    return 0


def cmd_demo(args) -> int:
    """The main job on the bundled examples: symbols with the shipped classifiers, equations read and solved."""
    from importlib import resources

    from inkmath.data.images import decode_image
    from inkmath.predict import Predictor
    from inkmath.weights import list_shipped

    con = _console()
    folder = Path(str(resources.files("inkmath").joinpath("examples")))
    shipped = list_shipped()
    con.print(f"[bold]inkmath {__version__}[/] demo - shipped weights: {', '.join(shipped) or 'none'}")
    con.print("\n[bold]Symbols[/] (`inkmath predict`)")
    digits = Predictor.load("mnist") if "mnist" in shipped else None
    for f in sorted(folder.glob("digit_*.png")):
        if digits is None:
            con.print("  the mnist weights are not shipped in this installation")
            break
        top = digits.predict([decode_image(f.read_bytes(), f.name)], top=3)[0]
        con.print(f"  {f.name}: " + ", ".join(f"{p.label} ({p.prob:.3f})" for p in top), highlight=False)
    con.print("\n[bold]Expressions[/] (`inkmath recognize`)")
    from inkmath.equation.recognize import recognize_image

    failed = 0
    for f in sorted(folder.glob("*.png")):
        if f.name.startswith("digit_"):
            continue
        try:
            rec = recognize_image(decode_image(f.read_bytes(), f.name))
        except InkmathError as e:
            con.print(f"  [red]{f.name}: {e}[/]")
            failed += 1
            continue
        answer = rec.answer or {}
        con.print(f"  {f.name}: [cyan]{rec.latex}[/]  ->  {answer.get('text') or answer.get('reason') or ''}",
                  highlight=False)
    con.print("\nDraw your own: `inkmath serve`, then open http://127.0.0.1:8000")
    return 1 if failed else 0


# ------------------------------------------------------------------------------------------------ parser
def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="inkmath", description="Read handwritten mathematics: symbols, expressions, LaTeX, answers.")
    ap.add_argument("--version", action="version", version=f"inkmath {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("train", help="train a model on a data set (checkpoints, resume, metrics.csv)")
    p.add_argument("dataset", nargs="?", help="training data spec, e.g. mnist:train, hasy:fold=1:train (or from --config)")
    p.add_argument("--model", help="registry model (see `inkmath models`)")
    p.add_argument("--config", help="YAML recipe (configs/*.yaml); flags override it")
    p.add_argument("--out", help="run folder (checkpoints, metrics.csv, weights)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out where it stopped")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--seed", type=int)
    p.add_argument("--augment", choices=["none", "light", "strong"])
    p.add_argument("--limit", type=int, help="train on a stratified subset of N images")
    p.add_argument("--val", help="validation data spec (default: a share of the training set)")
    p.add_argument("--test", help="test data spec, evaluated at the end with the best weights")
    p.add_argument("--engine", choices=["torch", "numpy"], help="torch (default) or the NumPy-only engine")
    p.add_argument("--threads", type=int, help="CPU threads")
    p.add_argument("--precision", choices=["fp32", "bf16", "auto"],
                   help="fp32 (default) or bf16 autocast, about 2x faster on CPUs with AMX/AVX512-BF16; auto picks")
    p.add_argument("--name", help="name written into the weights' card")
    p.add_argument("--set", action="append", metavar="KEY=VALUE", help="any other config key, e.g. --set label_smoothing=0.1")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("eval", help="evaluate weights on a data set: top-k, per-class P/R/F1, confusions")
    p.add_argument("weights", help="shipped name (e.g. mnist, hasy) or a .safetensors / run folder")
    p.add_argument("dataset", help="data spec, e.g. mnist:test")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy", "onnx"])
    p.add_argument("--data-dir", help="folder holding the data sets (default $INKMATH_DATA or ./data)")
    p.add_argument("--json", action="store_true", help="one JSON object on one line")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("predict", help="top-k symbols with LaTeX for image files")
    p.add_argument("images", nargs="+")
    p.add_argument("--weights", default="default", help="shipped name or path (default: the largest vocabulary)")
    p.add_argument("--top", type=int, default=5)
    p.add_argument("--ink", default="auto", choices=["auto", "white", "black"])
    p.add_argument("--engine", default="torch", choices=["torch", "numpy", "onnx"])
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("submit", help="write a Kaggle-style id,label CSV for a folder of images")
    p.add_argument("weights")
    p.add_argument("images", nargs="+", help="image files or folders")
    p.add_argument("--out", default="submission.csv")
    p.add_argument("--engine", default="torch", choices=["torch", "numpy", "onnx"])
    p.set_defaults(func=cmd_submit)

    p = sub.add_parser("models", help="list registry models with parameter counts, and shipped weights")
    p.add_argument("--classes", type=int, default=369)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_models)

    p = sub.add_parser("summary", help="layer, output shape and parameters of a model")
    p.add_argument("model")
    p.add_argument("--classes", type=int, default=369)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("export", help="ship a finished run's weights under a name (weights, card, metrics)")
    p.add_argument("run", help="run folder")
    p.add_argument("--name", required=True)
    p.add_argument("--dest", help="folder (default: the package's weights folder)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("demo", help="run the shipped models on the bundled examples (what `make demo` does)")
    p.set_defaults(func=cmd_demo)

    for mod in COMMAND_MODULES:
        if importlib.util.find_spec(mod) is not None:
            module = importlib.import_module(mod)
            if hasattr(module, "register"):
                module.register(sub)
    return ap


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except InkmathError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
