"""Fit the reader's calibration (``weights/calibration``: its strokes and image parts) on what the live reader
computes.

Reads every validation expression (the CROHME 2011-2013 test ink) with the shipped stroke reader, as
``inkmath crohme-eval val`` does (``--image``: its WAP-like renderings with the image reader, as
``benchmarks/wap_val.py`` does), keeps the features the decoder hands its calibration (``decode.features``) and
whether the reading is right, then fits the logistic calibration (``calibrate.fit_logistic``) and prints, for the
shipped coefficients and the fitted ones: the calibration error (10 bins) and the share right of the most confident
half, in-sample and in 5-fold cross-validation over expressions (3 fold draws); then the fitted coefficients in
``calibrate.FEATURES``' (``IMAGE_FEATURES``') order, intercept first. Choose on validation only: the 2014 test is
for reporting. To ship a fit: ``python -m inkmath.training.recipes.calibration --config configs/calibration.yaml
--rows strokes=ROWS`` (``image=ROWS``) with the rows kept here (``--features``), or ``--refit strokes``.

    INKMATH_DATA=../shared/data python benchmarks/calibration_fit.py [--image] [--features rows.jsonl] [--l2 0.001]

``--features FILE``: keep the rows there, and read them from there when the file exists (no reading again).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from inkmath.cli.common import limit_blas_threads  # imports neither NumPy nor OpenCV

limit_blas_threads()  # as `inkmath crohme-eval` reads

sys.path.insert(0, str(Path(__file__).resolve().parent))


def collect(image: bool = False) -> list[dict]:
    """{"id", "right", "features"} of every validation expression with a truth, read by the shipped stroke reader
    (``image``: the image reader, on the WAP-like renderings)."""
    import dataclasses
    import tempfile

    from inkmath.data import data_dir
    from inkmath.equation import recognize
    from inkmath.evaluation import crohme as crohme_eval

    seen: list[dict | None] = []
    shipped = recognize.default_decoder("image" if image else "strokes")

    def recording(feats):
        seen[-1] = dict(feats)
        return shipped.calibrate(feats)

    decoder = dataclasses.replace(shipped, calibrate=recording)  # the shipped reader, its calibration's input kept

    def read(data, predictor=None):
        seen.append(None)
        return (recognize.recognize_image if image else recognize.recognize_strokes)(data, predictor, solve=False,
                                                                                     decoder=decoder)

    if image:
        from wap_val import write_wap_folder

        with tempfile.TemporaryDirectory() as tmp:
            write_wap_folder(data_dir() / "crohme" / "crohme2011-2013_test_inkml.tar.xz", Path(tmp))
            result = crohme_eval.evaluate_crohme(Path(tmp), read, details=True)
    else:
        result = crohme_eval.evaluate_crohme(crohme_eval.resolve_source("val"), read, details=True)
    rows = result["details"]
    if len(rows) != len(seen):
        raise SystemExit(f"{len(seen)} readings for {len(rows)} expressions: the features cannot be matched")
    return [{"id": r["id"], "right": r.get("distance") == 0, "features": f} for r, f in zip(rows, seen)
            if f is not None]


def scores(conf, right) -> tuple[float, float]:
    from inkmath.equation.reader.calibrate import expected_calibration_error, top_half_accuracy

    return round(expected_calibration_error(conf, right), 4), round(top_half_accuracy(conf, right), 4)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", type=Path, default=None, help="keep (or reuse) the rows in this JSON-lines file")
    ap.add_argument("--l2", type=float, default=1e-3, help="the ridge penalty of calibrate.fit_logistic")
    ap.add_argument("--image", action="store_true", help="the image reader's calibration, on the WAP-like renderings")
    args = ap.parse_args(argv)
    import numpy as np

    from inkmath import InkmathError
    from inkmath.equation.reader.calibrate import (FEATURES, IMAGE_FEATURES, calibrated_confidence, coefficients,
                                                   fit_logistic)

    shipped, keys = coefficients(args.image), IMAGE_FEATURES if args.image else FEATURES

    if args.features is not None and args.features.is_file():
        try:
            rows = [json.loads(line) for line in args.features.read_text().splitlines()]
        except json.JSONDecodeError as e:
            raise InkmathError(f"{args.features} is not JSON lines ({e}); delete it to read the set again") from None
        if not rows or not all(isinstance(r, dict) and {"features", "right"} <= r.keys() for r in rows):
            raise InkmathError(f"{args.features} does not hold this script's rows ({{'id', 'right', 'features'}} "
                               "a line); delete it to read the set again")
    else:
        rows = collect(args.image)
        if args.features is not None:
            from inkmath.atomic import atomic_write_text

            atomic_write_text(args.features, "".join(json.dumps(r) + "\n" for r in rows))
    feats = [r["features"] for r in rows]
    right = np.array([r["right"] for r in rows])

    def confidences(coef, part):
        return [calibrated_confidence(f, coef, image=args.image) for f in part]

    print(f"{len(rows)} expressions, {int(right.sum())} read right")
    print("shipped coefficients: calibration error, most confident half right",
          scores(confidences(shipped, feats), right))
    coef = fit_logistic(feats, right, l2=args.l2, keys=keys)
    print("fitted, in-sample:", scores(confidences(coef, feats), right))
    for draw in range(3):
        fold = np.random.default_rng(draw).integers(0, 5, len(rows))
        conf = np.zeros(len(rows))
        for k in range(5):
            fitted = fit_logistic([f for f, g in zip(feats, fold) if g != k], right[fold != k], l2=args.l2, keys=keys)
            conf[fold == k] = confidences(fitted, [f for f, g in zip(feats, fold) if g == k])
        print(f"fitted, 5-fold cross-validated (draw {draw}):", scores(conf, right))
    print("coefficients:", ", ".join(f"{c:.6f}" for c in coef))
    return 0


if __name__ == "__main__":
    from inkmath import InkmathError

    try:
        sys.exit(main())
    except InkmathError as e:  # no data, a features file that is not this script's: one line, not a traceback
        sys.exit(f"calibration_fit.py: {e}")
