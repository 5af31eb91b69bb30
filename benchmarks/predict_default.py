"""Which shipped weights should ``inkmath predict`` use by default, so that digits read as digits?

Measured on validation data only: the first N digits of the MNIST *training* split (neither ``crohme`` nor ``hasy``
was trained on MNIST; the MNIST test split is for reporting and is not read here) and the digits among the CROHME
2011-2013 test symbols (``crohme:val``). A digit counts as read when the top-1 label is that digit. ``mnist`` is
listed for reference only: it knows nothing but digits, so it cannot be the default for symbols.

    python benchmarks/predict_default.py [--n 2000] [--out benchmarks/results/predict-default.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from inkmath.atomic import atomic_write_json
from inkmath.data import load_dataset, prepared_images
from inkmath.evaluation.results import machine_name, source_commit
from inkmath.predict import Predictor

WEIGHTS = ("crohme", "hasy", "mnist")
DIGITS = [str(d) for d in range(10)]


def digit_accuracy(pred: Predictor, ds, keep: np.ndarray, labels: list[str]) -> float:
    """Top-1 accuracy on ``ds``'s images ``keep``, prepared as ``inkmath eval`` prepares them for these weights
    (CROHME crops are cut again from the ink with the weights' preset, so the whole set is prepared, then indexed)."""
    x = prepared_images(ds, pred.preset.name)[keep]
    top = [t[0].label for i in range(0, len(x), 512)
           for t in pred.predict_prepared(x[i:i + 512, None].astype(np.float32) / 255.0, top=1)]
    return float(np.mean([t == y for t, y in zip(top, labels)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000, help="MNIST training digits to read (default 2000)")
    ap.add_argument("--out", default="benchmarks/results/predict-default.json", help="result file to write")
    args = ap.parse_args()
    mnist = load_dataset("mnist:train")
    m_set = mnist.subset(np.arange(min(args.n, len(mnist))))  # a small set to prepare (cached by content)
    m_keep = np.arange(len(m_set))
    m_labels = [mnist.vocab.names[i] for i in m_set.labels]
    crohme = load_dataset("crohme:val")
    c_keep = np.array([i for i, y in enumerate(crohme.labels) if crohme.vocab.names[y] in DIGITS])
    c_labels = [crohme.vocab.names[crohme.labels[i]] for i in c_keep]
    rows = []
    for name in WEIGHTS:
        pred = Predictor.load(name)
        rows.append({"weights": name, "classes": len(pred.vocab),
                     "mnist:train digits top-1": round(digit_accuracy(pred, m_set, m_keep, m_labels), 4),
                     "crohme:val digits top-1": round(digit_accuracy(pred, crohme, c_keep, c_labels), 4)})
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "table": "predict-default", "title": "Default weights of inkmath predict: digits read as digits (validation)",
        "command": f"python benchmarks/predict_default.py --n {args.n}",
        "machine": machine_name(),
        "commit": source_commit(),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "how": f"Top-1 label equal to the digit, on the first {args.n} MNIST training digits (white on black) and on "
               f"the {len(c_labels)} digit symbols of crohme:val (CROHME 2011-2013 test), each prepared with the "
               f"weights' own preset. Validation data only; mnist is a reference (digits only).",
        "rows": rows,
    }
    atomic_write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
