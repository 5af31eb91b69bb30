"""``inkmath report``: the HTML experiment report of shipped weights or a run folder (``evaluation.report``).

Building the parser imports neither matplotlib nor torch: ``report.py`` is imported when the command runs.
"""

from __future__ import annotations

import json

from inkmath.cli.common import console as cli_console
from inkmath.cli.common import positive_int
from inkmath.equation.synth import crohme_wap  # noqa: F401 (registers the crohme-wap, crohme-page and crohme-real data sets)


def run(args) -> int:
    from inkmath.evaluation.report import build_report

    result = build_report(args.weights, dataset=args.dataset, out=args.out, data_dir=args.data_dir,
                          top_confused=args.top_confused, samples=args.samples)
    if args.json:
        print(json.dumps({"html": result["html"], "figures": result["figures"], "dataset": result["dataset"],
                          "top1": result["eval"]["top1"], "n": result["eval"]["n"], "seconds": result["seconds"]}))
        return 0
    con = cli_console()
    ev = result["eval"]
    con.print(f"[bold]{result['name']}[/] on [bold]{result['dataset']}[/]: top-1 {ev['top1']:.4f}, "
              f"macro F1 {ev['macro_f1']:.4f} ({ev['n']} images)")
    for note in result["notes"].values():
        con.print(f"[dim]{note}[/]")
    con.print(f"wrote {result['html']} and {len(result['figures'])} figures in {result['seconds']} s")
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("report", help="self-contained HTML report of weights or a run: data, model, "
                                             "training curves, confusions, mistakes, filters")
    p.add_argument("weights", help="shipped name (e.g. mnist), a run folder or a .safetensors file")
    p.add_argument("--dataset", help="data spec to evaluate on (default: the card's data.test)")
    p.add_argument("--out", help="output folder (default: RUN/report for a run folder, reports/NAME otherwise)")
    p.add_argument("--data-dir", help="folder holding the data sets (default $INKMATH_DATA or ./data)")
    p.add_argument("--top-confused", type=positive_int, default=25,
                   help="with more classes than this, the heatmap shows the N classes most involved in errors")
    p.add_argument("--samples", type=positive_int, default=32, help="images per gallery")
    p.add_argument("--json", action="store_true", help="one JSON line: html path, figures, top-1")
    p.set_defaults(func=run)
