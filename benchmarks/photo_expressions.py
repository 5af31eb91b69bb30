"""Photographed expressions: one CROHME expression per generated phone photo, cropped round it as a phone's frame is,
read by the image reader (``recognize_image``, ``ink="auto"``).

    INKMATH_DATA=../shared/data python benchmarks/photo_expressions.py [val|test] [--stride 4] [--details rows.jsonl]
        [--results benchmarks/results/photos.json] [--json] [--speed N] [--zoom Z]

Each expression is written alone on a generated page (``page_synth.make_page``: a handwriting size, black, blue or
pencil ink, then a phone photo: perspective, uneven light, blur, noise, JPEG) on plain, ruled and squared paper in
turn, and the photo is cropped to the expression's box with a margin of 0.5-2 symbol heights (drawn per expression).
An expression is right when its normalised LaTeX equals the truth's; the reading's confidence is scored too
(calibration error in 10 bins, how many of the most confident half are right). val: the 2011-2013 test ink (choices
made here); test: the 2014 test ink (reported once). Every run makes the same photos (seeded by the expression's
place).
``--zoom Z``: each crop enlarged Z times (cubic), as a close-up of the expression is (its writing Z times as large).
``--speed N``: instead, the first N photos read both ways in one process, alternating (the reader's way, and as it
is: ``ink="black"``, the photo read without its cleaned ink), and the median of the per-photo time ratios.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": "crohme2014_test_inkml.tar.xz"}
PAPERS = ("plain", "ruled", "squared")
MARGIN = (0.5, 2.0)  # symbol heights of the photo kept round the expression's ink (uniform, per expression)


def photo_crop(expr, k: int, paper: str, zoom: float = 1.0) -> np.ndarray | None:
    """The ``k``-th expression's photo on ``paper``, cropped round it (enlarged ``zoom`` times); None when it does not
    fit a page."""
    from inkmath.equation.synth.pages import make_page

    page = make_page([expr], seed=1000 + k, max_count=1, paper=paper, labels=None, columns=1)
    if not page.truth:
        return None
    x0, y0, x1, y1 = page.truth[0]["box"]
    m = np.random.default_rng([k, 7]).uniform(*MARGIN) * page.info["symbol_height"]
    h, w = page.photo.shape[:2]
    crop = page.photo[max(0, int(y0 - m)):min(h, int(y1 + m)), max(0, int(x0 - m)):min(w, int(x1 + m))]
    if zoom == 1.0:
        return crop
    import cv2

    return cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC)


def main(argv: list[str] | None = None) -> int:
    from inkmath import InkmathError
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.reader.calibrate import expected_calibration_error, top_half_accuracy
    from inkmath.equation.core.metrics import normalize_latex
    from inkmath.equation.synth.pages import usable
    from inkmath.equation.recognize import get_predictor, recognize_image

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("set", nargs="?", default="val", choices=sorted(ARCHIVES))
    ap.add_argument("--stride", type=int, default=4, help="every N-th usable expression (default 4)")
    ap.add_argument("--details", type=Path, help="write one JSON line per photo read")
    ap.add_argument("--results", type=Path, help="also write the figures as a result file (benchmarks/results/; "
                                                 "one a set)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON line per paper")
    ap.add_argument("--speed", type=int, default=0, help="time N photos read both ways instead (see above)")
    ap.add_argument("--zoom", type=float, default=1.0, help="enlarge each crop this many times: close-ups (default 1)")
    args = ap.parse_args(argv)
    if args.stride < 1:
        raise SystemExit(f"--stride must be 1 or more, got {args.stride}")
    if not 0.25 <= args.zoom <= 8:
        raise SystemExit(f"--zoom must be between 0.25 and 8, got {args.zoom}")
    archive = Path(data_dir()) / "crohme" / ARCHIVES[args.set]
    exprs = [e for e in iter_inkml(archive) if e.latex_truth and usable(e)][::args.stride]
    predictor = get_predictor()
    if args.speed:
        return speed(exprs, predictor, args.speed, args.results, args.zoom)
    rows = []
    t0 = time.time()
    for k, e in enumerate(exprs):
        truth = normalize_latex(e.latex_truth)
        for paper in PAPERS:
            crop = photo_crop(e, k, paper, args.zoom)
            if crop is None:
                continue
            try:
                rec = recognize_image(crop, predictor, solve=False)
                got, confidence = rec.latex, rec.confidence
            except InkmathError as err:  # the reader declined: a wrong reading
                got, confidence = f"(declined: {err})", 0.0
            rows.append({"id": e.id, "paper": paper, "truth": " ".join(truth), "latex": got,
                         "confidence": round(float(confidence), 4), "right": normalize_latex(got) == truth})
    if args.details:
        args.details.write_text("".join(json.dumps(r) + "\n" for r in rows))
    table = []
    for paper in PAPERS + ("all",):
        mine = [r for r in rows if paper in (r["paper"], "all")]
        n = sum(r["right"] for r in mine)
        zoom = f", close-ups: enlarged {args.zoom:g}x" if args.zoom != 1 else ""
        res = {"source": f"{archive.name}, one expression a photo, {paper} paper{zoom}", "expressions": len(mine),
               "right": n, "rate": round(n / max(len(mine), 1), 4)}
        if mine:
            conf, right = [r["confidence"] for r in mine], [r["right"] for r in mine]
            res.update(calibration_error=round(expected_calibration_error(conf, right), 4),
                       most_confident_half_right=round(top_half_accuracy(conf, right), 4))
        table.append(res)
        print(json.dumps(res) if args.json else f"{paper}: {n} of {len(mine)} right, {100 * res['rate']:.2f} %, "
              f"calibration error {res.get('calibration_error')}, most confident half right "
              f"{res.get('most_confident_half_right')}")
    print(f"{time.time() - t0:.0f} s", file=sys.stderr)
    if args.results:
        write_results(args, table)
    return 0


def speed(exprs, predictor, n: int, results: Path | None = None, zoom: float = 1.0) -> int:
    """The reader's time on a photo over its time reading the photo as it is: median of per-photo ratios, each the
    best of 3 alternating runs (``results``: also written there as a result file)."""
    import statistics

    from inkmath import InkmathError
    from inkmath.equation.recognize import recognize_image

    made = (photo_crop(e, k, paper, zoom) for k, e in enumerate(exprs) for paper in PAPERS)
    crops = list(itertools.islice((c for c in made if c is not None), n))
    ratios, seconds = [], {"reader": [], "as it is": []}
    for crop in crops:
        best = {"reader": float("inf"), "as it is": float("inf")}
        for _ in range(3):
            for way, ink in (("reader", "auto"), ("as it is", "black")):
                t0 = time.perf_counter()
                try:
                    recognize_image(crop, predictor, solve=False, ink=ink)
                except InkmathError:
                    pass
                best[way] = min(best[way], time.perf_counter() - t0)
        ratios.append(best["reader"] / best["as it is"])
        for way in best:
            seconds[way].append(best[way])
    row = {"input": "generated photos of one validation expression each (photo_expressions.py)",
           "photos": len(crops), "ratio (median)": round(statistics.median(ratios), 2),
           **{f"{way} ms (median)": round(1000 * statistics.median(v), 1) for way, v in seconds.items()}}
    print(json.dumps(row))
    if results:
        from inkmath.evaluation.results import write_result

        write_result(results, "speed", "A photo of one expression: the reader against the photo read as it is",
                     "python benchmarks/photo_expressions.py " + " ".join(sys.argv[1:]),
                     "Each photo is read the reader's way (its ink cleaned and narrowed as a page line's; when "
                     "that reading is unsure, also as it is and from its plain cleaned ink, the most confident kept) "
                     "and as it is (ink=\"black\"), alternating in one process, best of 3 each; the ratio is the "
                     "median of the per-photo ratios.", [row])
    return 0


def write_results(args, rows: list[dict]) -> None:
    """The figures of this run as one result file (a set a file: ``photos.json`` val, ``photos-2.json`` test)."""
    from inkmath.evaluation.results import write_result

    write_result(args.results, "expressions", "Photographed expressions (one a photo, generated from CROHME ink)",
                 "python benchmarks/photo_expressions.py " + " ".join(sys.argv[1:]),
                 __doc__.split("\n\n")[2].replace("\n", " ").split(" ``--speed N``")[0], rows)


if __name__ == "__main__":
    sys.exit(main())
