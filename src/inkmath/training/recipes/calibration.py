"""Refits the reader's calibration shipped as ``weights/calibration.safetensors`` (+ its card ``calibration.json``)
from its recipe ``configs/calibration.yaml``.

    INKMATH_DATA=../shared/data python -m inkmath.training.recipes.calibration --config configs/calibration.yaml
        [--refit strokes,image] [--rows PART=ROWS.jsonl ...] [--out FILE]

Four parts (``calibrate.PARTS``), each a logistic regression fitted by ``calibrate.fit_logistic`` (intercept first,
float64 as fitted): ``strokes`` on the strokes reader's beam features, ``image`` on the image reader's, ``photo`` on
the log-odds of a photo's chosen reading's confidence, ``page`` on an expression read on a page photo
(``calibrate.PAGE_FEATURES``; optional). A part is refitted from rows of (features, whether the reading is right):
``--rows PART=FILE`` (JSON lines ``{"right": bool, "features": {...}}``: what ``benchmarks/calibration_fit.py
[--image] --features FILE`` keeps; a photo's row holds ``{"confidence": c}``, the image reader's confidence of the
chosen reading; a page expression's, what ``benchmarks/real_photos.py read --rows FILE`` and ``benchmarks/bench_page.py
--rows FILE`` keep), or, for ``--refit strokes`` / ``image``, read anew: every validation expression read by the
shipped reader, as ``benchmarks/calibration_fit.py`` reads them (run from the repository's root). The parts not
refitted keep the coefficients, and the card's account, of the file at ``--out``; so the recipe alone writes the
shipped file again. Several ``--rows`` of one part are fitted together.
Choose on validation only: the 2014 test is for reporting.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from inkmath.errors import InkmathError
from inkmath.equation.core.registry import load_model
from inkmath.equation.reader.calibrate import (NAME, OPTIONAL_PARTS, PARTS, Calibration, expected_calibration_error,
                                               fit_logistic, log_odds, logistic, top_half_accuracy)
from inkmath.weights import shipped_file
from inkmath.training import small_models
from inkmath.weights import FORMAT

MODEL = "logistic"
PURPOSE = "the reader's confidence: the probability that its first reading is right"
DEFAULTS = {"name": NAME, "purpose": PURPOSE, "model": MODEL, "l2": 1e-3, "steps": 50}
LIVE = ("strokes", "image")  # the parts whose rows the recipe can read anew


def read_recipe(path: Path | str) -> dict:
    """The recipe's keys over ``DEFAULTS`` (``small_models.read_recipe``, for this module's ``MODEL``)."""
    return small_models.read_recipe(path, DEFAULTS, MODEL)


def part_features(part: str, feats: dict) -> dict:
    """A row's features as ``fit_logistic`` reads them for ``part`` (a photo's: the log-odds of its confidence, clamped
    as ``calibrate.photo_confidence`` clamps it)."""
    if part not in ("photo", "page"):
        return feats
    return {**feats, "log_odds": log_odds(feats["confidence"])}


def read_rows(path: Path) -> list[dict]:
    """The rows of a JSON-lines file (``{"right", "features"}`` each); anything else is an error naming it."""
    try:
        rows = [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as e:
        raise InkmathError(f"Cannot read the rows {path} ({e})") from None
    if not rows or not all(isinstance(r, dict) and {"features", "right"} <= r.keys() for r in rows):
        raise InkmathError(f"{path} does not hold rows of {{'right', 'features'}}, one a line")
    return rows


def live_rows(part: str) -> list[dict]:
    """Every validation expression read anew by the shipped reader (``image``: its WAP-like renderings by the image
    reader), as ``benchmarks/calibration_fit.py`` reads them."""
    bench = Path("benchmarks")
    if not (bench / "calibration_fit.py").is_file():
        raise InkmathError("Reading the validation anew needs benchmarks/calibration_fit.py: run from the repository's "
                           "root, or give the rows (--rows PART=FILE)")
    sys.path.insert(0, str(bench.resolve()))
    import calibration_fit

    return calibration_fit.collect(part == "image")


def fit_part(part: str, rows: list[dict], recipe: dict) -> tuple[list[float], dict]:
    """(the coefficients of ``part`` fitted on ``rows``, its figures on them: calibration error and the most confident
    half's share right, in-sample)."""
    keys = PARTS[part]
    feats = [part_features(part, r["features"]) for r in rows]
    right = np.asarray([bool(r["right"]) for r in rows])
    coef = fit_logistic(feats, right, l2=recipe["l2"], steps=recipe["steps"], keys=keys)
    conf = [logistic(float(np.dot([1.0] + [f[k] for k in keys], coef))) for f in feats]
    return coef, {"rows": len(rows), "right": int(right.sum()),
                  "calibration_error": round(expected_calibration_error(conf, right), 4),
                  "most_confident_half_right": round(top_half_accuracy(conf, right), 4)}


def card_of(recipe: dict, config: str, command: str, parts: dict[str, dict]) -> dict:
    """The card: what the file is, where each part's coefficients came from (``parts``: {part: {"data", "metrics",
    "history"}}) and the recipe it was written with."""
    present = {part: keys for part, keys in PARTS.items() if part in parts}
    return {"format": FORMAT, "name": recipe["name"], "kind": Calibration.KIND, "purpose": recipe["purpose"],
            "model": recipe["model"],
            "architecture": f"{len(present)} logistic regressions, intercept first, float64: " + ", ".join(
                f"{part} on {len(keys)} feature{'s' if len(keys) > 1 else ''}" for part, keys in present.items()),
            "parameters": sum(len(keys) + 1 for keys in present.values()),
            "features": {part: list(keys) for part, keys in present.items()},
            "outputs": ["the probability that the reading is right"],
            "config": config, "train_command": command,
            "data": {part: p["data"] for part, p in parts.items()},
            "metrics": {part: p["metrics"] for part, p in parts.items()},
            "history": {part: p["history"] for part, p in parts.items()},
            "recipe": recipe}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default="configs/calibration.yaml", help="the recipe (YAML)")
    ap.add_argument("--refit", default="", help="parts to refit on the validation read anew (strokes, image)")
    ap.add_argument("--rows", action="append", default=[], metavar="PART=FILE",
                    help="refit PART on these rows (JSON lines), e.g. photo=photos.jsonl")
    ap.add_argument("--out", type=Path, default=shipped_file(NAME))
    args = ap.parse_args(argv)
    recipe = read_recipe(args.config)
    refit = [p for p in args.refit.split(",") if p]
    rows_files = {}
    for item in args.rows:
        part, _, file = item.partition("=")
        if part not in PARTS or not file:
            raise InkmathError(f"--rows takes PART=FILE with PART one of {', '.join(PARTS)}, not {item!r}")
        rows_files.setdefault(part, []).append(Path(file))
    bad = [p for p in refit if p not in LIVE]
    if bad:
        raise InkmathError(f"--refit reads anew {', '.join(LIVE)} only, not {', '.join(bad)}; give --rows PART=FILE")
    current = load_model(args.out, Calibration.KIND) if args.out.is_file() else None
    command = f"python -m inkmath.training.recipes.calibration --config {args.config}" + (
        f" --refit {','.join(refit)}" if refit else "") + "".join(f" --rows {p}={f}" for p, fs in rows_files.items()
                                                                  for f in fs)
    coefficients, parts = {}, {}
    for part in PARTS:
        if part in rows_files or part in refit:
            source = (" + ".join(map(str, rows_files[part])) if part in rows_files
                      else "the validation read anew by the shipped reader")
            rows = [r for f in rows_files[part] for r in read_rows(f)] if part in rows_files else live_rows(part)
            coefficients[part], metrics = fit_part(part, rows, recipe)
            parts[part] = {"data": f"{source}: {metrics['rows']} readings, {metrics['right']} right",
                           "metrics": {k: v for k, v in metrics.items() if k not in ("rows", "right")},
                           "history": f"refitted by `{command}` (L2 {recipe['l2']:g}); in-sample figures"}
        elif part in OPTIONAL_PARTS and (current is None or not current.coefficients(part)):
            continue  # not fitted yet: the file goes without it
        elif current is not None:
            coefficients[part] = list(current.coefficients(part))
            parts[part] = {k: (current.card.get(k) or {}).get(part, "") for k in ("data", "metrics", "history")}
        else:
            raise InkmathError(f"No {args.out} to keep the {part} coefficients of: refit it (--refit, --rows)")
    card = card_of(recipe, str(args.config), command, parts)
    small_models.write_coefficients(args.out, coefficients, [p for p in PARTS if p in coefficients], card)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InkmathError as e:  # a missing recipe, rows or data: one line, no traceback
        sys.exit(f"error: {e}")
