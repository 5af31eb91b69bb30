"""``inkmath export-onnx WEIGHTS``: write weights as an ONNX model and check it against PyTorch (``onnx_export``)."""

from __future__ import annotations

import json


def register(subparsers) -> None:
    p = subparsers.add_parser("export-onnx", help="write weights as an ONNX model (dynamic batch) for ONNX Runtime")
    p.add_argument("weights", help="shipped name (e.g. mnist, hasy) or a .safetensors / run folder")
    p.add_argument("--out", help="output .onnx file (default: NAME.onnx in the current folder)")
    p.add_argument("--no-check", action="store_true", help="skip the ONNX Runtime vs PyTorch comparison")
    p.add_argument("--json", action="store_true", help="one JSON object on one line")
    p.set_defaults(func=run)


def run(args) -> int:
    from inkmath.onnx_export import export_onnx, parity

    path = export_onnx(args.weights, args.out)
    diff = None if args.no_check else parity(args.weights, path)
    if args.json:
        print(json.dumps({"weights": args.weights, "onnx": str(path), "max_abs_diff": diff}))
        return 0
    from inkmath.cli.common import console as cli_console

    msg = f"wrote {path}"
    if diff is not None:
        msg += f" (ONNX Runtime vs PyTorch: max |logit difference| {diff:.2e} on 8 random inputs)"
    cli_console().print(msg, markup=False, highlight=False)
    return 0
