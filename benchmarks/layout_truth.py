"""The layout reader alone: CROHME expressions read from their *true* symbols (the traceGroups' boxes and labels).

    INKMATH_DATA=/work/shared/data python benchmarks/layout_truth.py [val|test|train|ARCHIVE]
        [--layout default,rules,rules-alone,structure,combined:0.5,...] [--json] [--results FILE]

Segmentation and classification are taken from the truth, so every expression read wrong is a layout mistake (or a
label the reader reads otherwise, such as '\\cdot' for '.'). Each layout reads the same expressions:

- ``default``: what ``parse`` uses (``layout_choice.chosen_layout``);
- ``choice:G``: the default with another ``layout_choice.GATE`` (``choice:none``: the candidates made for every line);
  ``choice:G:K``: also another ``layout_choice.K`` (the structure model's trees among the candidates);
- ``single``: the default with the candidates scored by the shipped structure model alone (no ``CHOOSER_MODELS``
  ensemble);
- ``ensemble:A.safetensors+B.safetensors``: the default with the candidates scored by the shipped structure model
  and these averaged (``layout_choice.StructureEnsemble``); ``ensemble:A.safetensors+...:G``: with gate G as above;
- ``margin``: the rules checked by the structure model at ``parse.STRUCTURE_MARGIN`` (the default before it);
- ``rules``: the geometric rules with the learnt relation model checking their script relations;
- ``rules-alone``: the geometric rules alone;
- ``structure``: the learnt structure model and its tree decoder (``structure_model``);
- ``combined:P``: the structure model's tree where it gives it probability P or more, else ``rules``';
- ``rescored:M``: ``rules``' tree unless the structure model finds its own best tree exp(M) times likelier;
- ``rescored-alone:M``: the same over ``rules-alone``.

Prints the share of expressions whose normalised LaTeX equals the truth, for each layout after the first how
many expressions it gains and loses against the first, and the mean wall time of a parse (the layouts parse each
expression in turn, so the machine's load falls alike on all: compare them as ratios).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": "crohme2014_test_inkml.tar.xz",
            "train": "crohme2014_train_inkml.tar.xz"}


def make_layout(name: str, weights: Path | None = None):
    from inkmath.equation.reader.layout_choice import chosen_layout
    from inkmath.equation.reader.layout_rules import rule_layout
    from inkmath.equation.reader.parse import default_layout, margin_layout
    from inkmath.equation.reader.structure_model import (
        combined_layout, learnt_layout, load_structure_model, rescored_layout,
    )

    model = load_structure_model(str(weights)) if weights and name.startswith(
        ("structure", "combined", "rescored", "default")) \
        else None

    if name == "default":
        return default_layout() if model is None else chosen_layout(model)
    if name.startswith("choice:"):  # the choice with another gate (``layout_choice.GATE``; "none": no gate), and K
        from inkmath.equation.reader.layout_choice import K

        g, _, k = name.split(":", 1)[1].partition(":")
        return chosen_layout(model, gate=None if g == "none" else float(g), k=int(k) if k else K)
    if name == "single":  # the default with its candidates scored by the shipped structure model alone
        return chosen_layout(model, chooser=model or load_structure_model())
    if name.startswith("ensemble:"):  # the candidates scored by the shipped model and these others, averaged
        from inkmath.equation.reader.layout_choice import GATE, StructureEnsemble

        paths, _, g = name.split(":", 1)[1].partition(":")
        extra = [load_structure_model(p) for p in paths.split("+")]
        gate = GATE if not g else None if g == "none" else float(g)
        return chosen_layout(model, chooser=StructureEnsemble([model or load_structure_model()] + extra), gate=gate)
    if name == "margin":
        return margin_layout()
    if name == "rules":
        return rule_layout()
    if name == "rules-alone":
        return rule_layout(relation_model=None)
    if name == "structure":
        return learnt_layout(model)
    if name.startswith("combined:"):
        return combined_layout(model, rule_layout(), float(name.split(":", 1)[1]))
    if name.startswith("rescored:"):
        return rescored_layout(model, rule_layout(), float(name.split(":", 1)[1]))
    if name.startswith("rescored-alone:"):
        return rescored_layout(model, rule_layout(relation_model=None), float(name.split(":", 1)[1]))
    raise SystemExit(f"unknown layout {name!r}: default, rules, rules-alone, structure or combined:P")


def main(argv: list[str] | None = None) -> int:
    from inkmath.data import data_dir
    from inkmath.evaluation.crohme import by_folder
    from inkmath.equation.core.latex import to_latex
    from inkmath.equation.core.metrics import normalize_latex
    from inkmath.equation.reader.parse import parse
    from inkmath.training.recipes.layout import true_symbol_expressions
    from inkmath.evaluation.results import folder_name

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val", help="val, test, train or an InkML archive (default: val)")
    ap.add_argument("--layout", default="default", help="comma-separated layouts to compare (default: default)")
    ap.add_argument("--json", action="store_true", help="print one JSON line per layout")
    ap.add_argument("--structure-weights", type=Path, help="a structure model file (default: the shipped one)")
    ap.add_argument("--results", type=Path, help="also write the figures as a results file (benchmarks/results/)")
    args = ap.parse_args(argv)
    archive = Path(data_dir()) / "crohme" / ARCHIVES[args.set] if args.set in ARCHIVES else Path(args.set)
    names = args.layout.split(",")
    layouts = [make_layout(n, args.structure_weights) for n in names]
    right = [[] for _ in names]
    seconds = [0.0] * len(names)
    total = 0
    folders: list[str] = []  # each expression's folder in the set (the validation archive's three years' tests)
    for expr, hyps, truth, tokens in true_symbol_expressions(archive):
        total += 1
        folders.append(expr.folder)
        for k, layout in enumerate(layouts):
            t0 = time.perf_counter()
            tree = parse(hyps, tokens, layout=layout)
            seconds[k] += time.perf_counter() - t0
            right[k].append(normalize_latex(to_latex(tree)) == truth)
    rows = []
    for k, name in enumerate(names):
        n = sum(right[k])
        res = {"source": archive.name, "layout": name, "expressions": total, "right": n,
               "rate": round(n / max(total, 1), 4), "ms_per_expression": round(1000 * seconds[k] / max(total, 1), 2)}
        if k:
            res["gained"] = sum(a and not b for a, b in zip(right[k], right[0]))
            res["lost"] = sum(b and not a for a, b in zip(right[k], right[0]))
        rows.append(res)
        print(json.dumps(res) if args.json else f"{archive.name} ({name}): {n} of {total} right, "
                                                f"{100 * res['rate']:.2f} %" + (
            f" ({res['gained']} gained, {res['lost']} lost against {names[0]})" if k else ""))
    # the reader's layout (``default``, else the first) by folder, for a set in several
    k = names.index("default") if "default" in names else 0
    per_folder = by_folder(folders, [0 if ok else 1 for ok in right[k]])
    for f in sorted(per_folder, key=lambda row: folder_name(row["folder"])):
        label = folder_name(f["folder"])
        res = {"source": f"{archive.name}: {label}", "layout": names[k], "expressions": f["expressions"],
               "right": f["read_right"], "rate": round(f["exprate"], 4)}
        rows.append(res)
        print(json.dumps(res) if args.json else f"  {label} ({names[k]}): {res['right']} of {res['expressions']} "
                                                f"right, {100 * res['rate']:.2f} %")
    if args.results is not None:
        write_results(args, rows)
    return 0


def write_results(args, rows: list[dict]) -> None:
    from datetime import datetime, timezone

    from inkmath.atomic import atomic_write_text
    from inkmath.evaluation.results import machine_name, source_commit

    model, commit = machine_name(), source_commit()
    command = "python benchmarks/layout_truth.py " + " ".join(sys.argv[1:] if sys.argv[1:] else [])
    # each row keeps the command, machine and commit that measured it: a file holds the sets of several runs
    rows = [{**r, "command": command, "machine": model, "commit": commit} for r in rows]
    old = json.loads(args.results.read_text()) if args.results.is_file() else {}
    kept = [r for r in old.get("rows", []) if r.get("source") not in {r2["source"] for r2 in rows}]
    out = {"table": "expressions", "title": "Layout given the true symbols (CROHME, expressions read right)",
           "command": command, "machine": model, "commit": commit,
           "date": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "how": "Each CROHME expression is read from its true symbols (the traceGroups' boxes and labels), so "
                  "only the layout can be wrong; an expression is right when its normalised LaTeX equals the "
                  "truth's. val: the 2011-2013 test sets (choices made here); test: the 2014 test (reported once).",
           "rows": kept + rows}
    atomic_write_text(args.results, json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
