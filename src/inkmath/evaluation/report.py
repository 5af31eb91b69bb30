"""Experiment reports: one self-contained HTML page (PNG figures embedded as base64) plus the PNGs, rebuilt from a
run's own files - weights, card, ``metrics.csv``, ``batches.csv`` - and one evaluation pass, without retraining.

The numbers (top-k, per-class precision/recall/F1, confusion matrix, most-confused pairs) come from
``inkmath.evaluation.evaluate.evaluate_weights``, the function behind ``inkmath eval --json``, so the report and the command agree.
The galleries (predicted vs actual, confident mistakes) need per-image scores, which that function does not
return; they are computed once more here with the same ``Predictor`` and the same prepared images.
"""

from __future__ import annotations

import base64
import csv
import html
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_text
from inkmath.data import load_dataset, prepared_images
from inkmath.evaluation.evaluate import evaluate_weights
from inkmath.models.summary import layer_table
from inkmath.weights import card_settings, load_model, resolve_weights

# (key, title): every figure a report holds; the HTML gives each an ``<img id="fig-KEY">``.
FIGURES = [
    ("samples", "Sample images with their labels"),
    ("classes", "Class distribution"),
    ("graph", "Model graph"),
    ("loss_batches", "Training loss by batch"),
    ("epochs", "Loss and accuracy by epoch"),
    ("predictions", "Predicted vs actual"),
    ("confusion", "Confusion matrix"),
    ("mistakes", "Most confident mistakes"),
    ("filters", "First-layer filters"),
    ("activations", "First-layer activation maps"),
]


@dataclass
class RunFiles:
    """Where a run's files are: the weights, their card, and the training logs (may be missing)."""

    weights: Path
    card: dict
    metrics_csv: Path | None
    batches_csv: Path | None


def find_run_files(source: str | Path) -> RunFiles:
    """Shipped weights keep ``NAME.metrics.csv`` beside ``NAME.safetensors``; a run folder keeps ``metrics.csv``."""
    path, card = resolve_weights(source)

    def pick(kind: str) -> Path | None:
        for cand in (path.parent / f"{path.stem}.{kind}.csv", path.parent / f"{kind}.csv"):
            if cand.is_file():
                return cand
        return None

    return RunFiles(path, card, pick("metrics"), pick("batches"))


def _read_csv(path: Path | None) -> list[dict]:
    if path is None:
        return []
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def _scores(source: str, ds, model_names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(probabilities (N, C), labels in the model's class order (N,), prepared images (N, S, S) uint8)."""
    from inkmath.predict import Predictor, softmax

    pred = Predictor.load(source, engine="torch")
    labels = ds.labels
    if ds.vocab.names != tuple(model_names):  # the same name mapping as evaluate_weights
        labels = np.array([pred.vocab.index(n) for n in ds.vocab.names])[labels]
    x = prepared_images(ds, pred.preset.name)
    logits = [pred.logits(x[i:i + 512, None].astype(np.float32) / 255.0) for i in range(0, len(x), 512)]
    probs = softmax(np.concatenate(logits)) if logits else np.zeros((0, len(model_names)), np.float32)
    return probs, labels, x


def _confused_classes(cm: np.ndarray, n: int) -> np.ndarray:
    """The ``n`` classes most involved in errors (as true or predicted class), in class order."""
    off = cm.copy()
    np.fill_diagonal(off, 0)
    involvement = off.sum(axis=0) + off.sum(axis=1)
    order = np.argsort(-involvement, kind="stable")[:n]
    return np.sort(order[involvement[order] > 0]) if involvement.max(initial=0) > 0 else np.sort(order)


def _first_conv(model):
    import torch

    for name, mod in model.named_modules():
        if isinstance(mod, torch.nn.Conv2d):
            return name, mod
    return None, None


def graph_nodes(model, in_size: int, layers: list[dict]) -> list[dict]:
    """The model's data-flow graph from ``torch.fx`` (so residual additions show), with output shapes.

    A model that fx cannot trace (data-dependent control flow) is drawn as the chain of its leaf layers.
    """
    import torch
    import torch.fx
    from torch.fx.passes.shape_prop import ShapeProp

    input_node = {"name": "x", "label": "input", "output": [1, in_size, in_size], "parameters": 0, "inputs": []}
    try:
        gm = torch.fx.symbolic_trace(model)
        ShapeProp(gm).propagate(torch.zeros(1, 1, in_size, in_size))
    except (torch.fx.proxy.TraceError, RuntimeError, TypeError, AttributeError, NotImplementedError):
        # untraceable code (data-dependent control flow): the chain of leaf layers is the fallback
        chain = [input_node]
        for i, r in enumerate(layers):
            chain.append({"name": f"n{i}", "label": f"{r['layer']}: {r['type']}", "output": r["output"],
                          "parameters": r["parameters"], "inputs": [chain[-1]["name"]]})
        return chain
    modules = dict(gm.named_modules())
    nodes = []
    for n in gm.graph.nodes:
        if n.op == "output":
            continue
        meta = n.meta.get("tensor_meta")
        shape = list(meta.shape[1:]) if meta is not None and hasattr(meta, "shape") else []
        if n.op == "placeholder":
            nodes.append({**input_node, "name": n.name})
            continue
        if n.op == "call_module":
            mod = modules[n.target]
            label, params = f"{n.target}: {type(mod).__name__}", sum(p.numel() for p in mod.parameters())
        else:
            label, params = getattr(n.target, "__name__", str(n.target)), 0
        nodes.append({"name": n.name, "label": label, "output": shape, "parameters": params,
                      "inputs": [a.name for a in n.all_input_nodes]})
    return nodes


def build_report(source: str | Path, dataset: str | None = None, out: str | Path | None = None,
                 data_dir=None, top_confused: int = 25, samples: int = 32, seed: int = 0) -> dict:
    """Write ``report.html``, the PNGs and ``report.json`` into ``out``; return {"html", "figures", "eval", ...}."""
    from inkmath.models import count_parameters

    t0 = time.monotonic()
    run = find_run_files(source)
    card = run.card
    spec = dataset or (card.get("data") or {}).get("test")
    if not spec:
        raise InkmathError(f"The card of {source} names no test data; pass --dataset SPEC (e.g. mnist:test)")
    name = card.get("name") or run.weights.stem
    out = Path(out) if out else (run.weights.parent / "report" if run.weights.stem == "weights"
                                 else Path("reports") / name)
    out.mkdir(parents=True, exist_ok=True)
    names = list(card["classes"]["names"])
    rng = np.random.default_rng(seed)

    # ---- numbers: the same function as `inkmath eval --json`
    ev = evaluate_weights(str(source), spec, "torch", data_dir)
    ds = load_dataset(spec, data_dir)
    probs, labels, prepared = _scores(str(source), ds, tuple(names))
    pred = probs.argmax(1) if len(probs) else np.zeros(0, int)
    conf = probs.max(1) if len(probs) else np.zeros(0)
    top1 = float((pred == labels).mean()) if len(labels) else float("nan")
    if len(labels) and abs(top1 - ev["top1"]) > 1e-9:
        raise InkmathError(f"report scores disagree with evaluate_weights (top-1 {top1} vs {ev['top1']}); "
                           "the weights or data changed during the report")
    cm = np.asarray(ev["confusion_matrix"])
    figs: dict[str, Path] = {}
    notes: dict[str, str] = {}

    pick = _data_figures(ds, labels, names, spec, samples, rng, out, figs)
    model, _ = load_model(source)
    layers = _model_figures(model, card, out, figs, notes)
    history = _training_figures(run, out, figs, notes)
    _prediction_figures(ds, labels, pred, conf, names, cm, samples, top_confused, rng, out, figs)
    _first_layer_figures(model, prepared, pick, labels, names, out, figs, notes)

    result = {
        "weights": str(source), "weights_file": str(run.weights), "name": name, "dataset": spec,
        "model": card["model"], "parameters": count_parameters(model), "layers": layers,
        "figures": {k: str(v) for k, v in figs.items()}, "notes": notes,
        "eval": {k: v for k, v in ev.items() if k != "confusion_matrix"},
        "history": history, "seconds": 0.0,
    }
    result["seconds"] = round(time.monotonic() - t0, 1)
    atomic_write_text(out / "report.json", json.dumps(result, indent=1, default=str) + "\n")
    html_path = out / "report.html"
    atomic_write_text(html_path, render_html(result, card, figs, notes, run))
    result["html"] = str(html_path)
    return result


def _data_figures(ds, labels, names, spec, samples, rng, out: Path, figs: dict) -> np.ndarray:
    """Sample images (one of each class first, when they fit) and the images per class; returns the samples shown."""
    from inkmath.evaluation import plots

    n_show = min(samples, len(ds))
    if len(names) <= n_show:  # one image of each class first, so every class is seen once
        firsts = [int(np.flatnonzero(labels == c)[0]) for c in range(len(names)) if (labels == c).any()]
        rest = rng.permutation(np.setdiff1d(np.arange(len(ds)), firsts))[:max(0, n_show - len(firsts))]
        pick = np.array(firsts + list(rest), int)[:n_show]
    else:
        pick = rng.choice(len(ds), n_show, replace=False)
    figs["samples"] = plots.image_grid([ds.images[i] for i in pick], [names[labels[i]] for i in pick],
                                       out / "samples.png", suptitle=f"{spec}: {n_show} of {len(ds)} images")
    counts = np.bincount(labels, minlength=len(names))
    figs["classes"] = plots.class_bars(names, counts, out / "classes.png", title=f"{spec}: images per class")
    return pick


def _model_figures(model, card: dict, out: Path, figs: dict, notes: dict) -> list:
    """The model's graph; returns its layer table."""
    from inkmath.evaluation import plots

    layers = layer_table(model, card["in_size"])
    graph = plots.model_graph(graph_nodes(model, card["in_size"], layers), out / "graph.png")
    figs["graph"] = graph["png"]
    notes["graph"] = (f"Rendered by {graph['renderer']}" + ("" if graph["renderer"] == "graphviz" else
                      " (graphviz `dot` is not installed)") + f"; DOT source: {graph['dot'].name}.")
    return layers


def _training_figures(run, out: Path, figs: dict, notes: dict) -> list:
    """The training curves, from the run's files; returns the per-epoch history."""
    from inkmath.evaluation import plots

    history = _read_csv(run.metrics_csv)
    batches = _read_csv(run.batches_csv)
    if batches:
        steps = np.array([b["step"] for b in batches])
        per_epoch = None
        if history and len(history) > 1:
            by_epoch = {}
            for b in batches:
                by_epoch.setdefault(int(b["epoch"]), []).append(b["step"])
            starts = sorted(min(v) for v in by_epoch.values())
            per_epoch = float(np.median(np.diff(starts))) if len(starts) > 1 else None
        figs["loss_batches"] = plots.loss_by_batch(steps, np.array([b["loss"] for b in batches]),
                                                   out / "loss_batches.png", per_epoch)
    else:
        notes["loss_batches"] = "No batches.csv beside the weights: the training loss by batch is not available."
    if history:
        figs["epochs"] = plots.epoch_curves(history, out / "epochs.png")
    else:
        notes["epochs"] = "No metrics.csv beside the weights: the per-epoch curves are not available."
    return history


def _prediction_figures(ds, labels, pred, conf, names, cm, samples: int, top_confused: int, rng, out: Path,
                        figs: dict) -> None:
    """A gallery of predictions, the confusion matrix (its most confused classes) and the most confident mistakes."""
    from inkmath.evaluation import plots

    gal = rng.choice(len(ds), min(samples, len(ds)), replace=False) if len(ds) else np.zeros(0, int)
    figs["predictions"] = plots.image_grid(
        [ds.images[i] for i in gal], [f"{names[labels[i]]}\n-> {names[pred[i]]}\n{conf[i]:.2f}" for i in gal],
        out / "predictions.png", colors=["green" if pred[i] == labels[i] else "red" for i in gal],
        suptitle="true -> predicted (probability); red: wrong")
    if len(names) > top_confused:
        keep = _confused_classes(cm, top_confused)
        title = f"the {len(keep)} classes most involved in errors (of {len(names)})"
    else:
        keep = np.arange(len(names))
        title = "confusion matrix (rows: true class, share of the row)"
    figs["confusion"] = plots.confusion_heatmap(cm[np.ix_(keep, keep)], [names[i] for i in keep],
                                                out / "confusion.png", title)
    wrong = np.flatnonzero(pred != labels)
    worst = wrong[np.argsort(-conf[wrong], kind="stable")][:samples]
    figs["mistakes"] = plots.image_grid(
        [ds.images[i] for i in worst], [f"{names[labels[i]]}\n-> {names[pred[i]]}\n{conf[i]:.3f}" for i in worst],
        out / "mistakes.png", colors=["red"] * len(worst),
        suptitle=f"the {len(worst)} most confident of {len(wrong)} mistakes: true -> predicted (probability)")


def _first_layer_figures(model, prepared, pick, labels, names, out: Path, figs: dict, notes: dict) -> None:
    """What the first convolution learned: its kernels, and its first channels on a few inputs."""
    import torch

    from inkmath.evaluation import plots

    conv_name, conv = _first_conv(model)
    if conv is None:
        notes["filters"] = notes["activations"] = "The model has no convolution layer."
        return
    figs["filters"] = plots.filter_grid(conv.weight.detach().numpy(), out / "filters.png",
                                        f"{conv_name}: {conv.out_channels} kernels {tuple(conv.kernel_size)}")
    acts = []
    hook = conv.register_forward_hook(lambda m, i, o: acts.append(o.detach()))
    show = pick[:4]
    with torch.no_grad():
        model(torch.from_numpy(prepared[show, None].astype(np.float32) / 255.0))
    hook.remove()
    figs["activations"] = plots.activation_maps(
        [prepared[i] for i in show], list(acts[0].numpy()) if acts else [], [names[labels[i]] for i in show],
        out / "activations.png", title=f"input (as prepared) and the first channels of layer {conv_name!r} ({type(conv).__name__})")


# ------------------------------------------------------------------------------------------------ HTML
CSS = """
body { font-family: system-ui, sans-serif; max-width: 1150px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.5em 0; }
td, th { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
th { background: #f3f5f8; } td.l, th.l { text-align: left; }
img { max-width: 100%; } .note { color: #666; font-size: 0.9em; }
code { background: #f3f5f8; padding: 1px 4px; } .scroll { max-height: 520px; overflow-y: auto; display: inline-block; }
"""


def _esc(x) -> str:
    return html.escape(str(x))


def _img(key: str, path: Path, alt: str) -> str:
    data = base64.b64encode(Path(path).read_bytes()).decode()
    return f'<img id="fig-{key}" alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _table(header: list[str], rows: list[list], left: int = 1, attrs: list[str] | None = None,
           table_id: str = "") -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{_esc(h)}</th>' for i, h in enumerate(header))
    body = []
    for r_i, row in enumerate(rows):
        cells = "".join(f'<td class="{"l" if i < left else ""}">{_esc(v)}</td>' for i, v in enumerate(row))
        body.append(f"<tr{attrs[r_i] if attrs else ''}>{cells}</tr>")
    tid = f' id="{table_id}"' if table_id else ""
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(r: dict, card: dict, figs: dict[str, Path], notes: dict[str, str], run: RunFiles) -> str:
    ev = r["eval"]
    titles = dict(FIGURES)

    def figure(key: str) -> str:
        if key in figs:
            text = f"<figure>{_img(key, figs[key], titles[key])}</figure>"
            return text + (f'<p class="note">{_esc(notes[key])}</p>' if key in notes else "")
        return f'<p class="note" id="missing-{key}">{_esc(notes.get(key, "not available"))}</p>'

    test = (card.get("metrics") or {}).get("test") or {}
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>inkmath report: {_esc(r['name'])}"
             f"</title><style>{CSS}</style></head><body>",
             f"<h1>inkmath report: {_esc(r['name'])}</h1>",
             f"<p>Model <code>{_esc(r['model'])}</code>, {r['parameters']:,} parameters, {card['num_classes']} classes, "
             f"input {card['in_size']}x{card['in_size']}, preset <code>{_esc(card['preset'])}</code>. "
             f"Weights: <code>{_esc(r['weights_file'])}</code>.</p>",
             f"<p>Trained with <code>{_esc(card.get('train_command', '?'))}</code> on <code>"
             f"{_esc((card.get('data') or {}).get('train', '?'))}</code>"
             + (f"; the card's test top-1 is {test['top1']:.4f} on <code>{_esc(test['spec'])}</code>" if test else "")
             + ".</p>",
             "<h2 id='summary'>Evaluation</h2>",
             f"<p>On <code>{_esc(r['dataset'])}</code> ({ev['n']} images), as <code>inkmath eval {_esc(r['weights'])} "
             f"{_esc(r['dataset'])} --json</code> computes it:</p>",
             _table(["top-1", "top-3", "top-5", "macro F1", "images"],
                    [[f"{ev['top1']:.4f}", f"{ev['top3']:.4f}", f"{ev['top5']:.4f}", f"{ev['macro_f1']:.4f}", ev["n"]]],
                    left=0, table_id="topk"),
             "<h2>Data</h2>", figure("samples"), figure("classes"),
             "<h2>Model</h2>",
             _table(["layer", "type", "output shape", "parameters"],
                    [[x["layer"], x["type"], "x".join(map(str, x["output"])), f"{x['parameters']:,}"] for x in r["layers"]]
                    + [["total", "", "", f"{r['parameters']:,}"]], left=2, table_id="layers"),
             figure("graph"),
             "<h2>Training</h2>",
             f"<p class='note'>From {_esc(run.batches_csv.name if run.batches_csv else 'no batches.csv')} and "
             f"{_esc(run.metrics_csv.name if run.metrics_csv else 'no metrics.csv')}.</p>",
             figure("loss_batches"), figure("epochs")]

    cfg = card_settings(card)
    if cfg.get("label_smoothing") or cfg.get("augment", "none") != "none":
        parts.append(f"<p class='note'>The training loss is measured on augmented batches (augment "
                     f"<code>{_esc(cfg.get('augment', 'none'))}</code>) with label smoothing "
                     f"{cfg.get('label_smoothing', 0):g}, so it sits above the validation loss.</p>")
    if r["history"]:
        keys = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "val_top5", "lr", "seconds"]
        parts.append(_table(keys, [[f"{h.get(k, float('nan')):.4g}" if k != "epoch" else int(h[k]) for k in keys]
                                   for h in r["history"]], left=0, table_id="history"))
    parts += ["<h2>Predictions</h2>", figure("predictions"), figure("confusion"),
              "<h3>Most confused pairs</h3>",
              _table(["true", "predicted", "count", "share of true"],
                     [[m["true"], m["predicted"], m["count"], f"{m['share_of_true']:.4f}"] for m in ev["most_confused"]],
                     left=2, table_id="most-confused"),
              "<h3>Per-class precision, recall and F1</h3>",
              "<p class='note'>Sorted by F1, weakest first.</p>"]
    per = sorted(ev["per_class"], key=lambda c: (c["f1"] if c["support"] else 2.0, c["class"]))
    parts.append("<div class='scroll'>" + _table(
        ["class", "LaTeX", "precision", "recall", "F1", "support"],
        [[c["class"], c["latex"], f"{c['precision']:.4f}", f"{c['recall']:.4f}", f"{c['f1']:.4f}", c["support"]]
         for c in per], left=2, attrs=[f' data-class="{_esc(c["class"])}"' for c in per], table_id="per-class")
        + "</div>")
    parts += [figure("mistakes"), "<h2>Inside the first layer</h2>", figure("filters"), figure("activations"),
              f"<p class='note'>Built by <code>inkmath report</code> in {r['seconds']} s from the run's files.</p>",
              "</body></html>"]
    return "\n".join(parts)
