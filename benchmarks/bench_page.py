"""Page benchmark: generated worksheet photos (inkmath.equation.synth.pages) read with inkmath.equation.page.read.

    INKMATH_DATA=../shared/data python benchmarks/bench_page.py --split val [--pages N] [--out DIR] [--json]
    INKMATH_DATA=../shared/data python benchmarks/bench_page.py --split test --results benchmarks/results/pages.json
    python benchmarks/bench_page.py --speed [--runs 5]          # a page of 8 expressions end to end; clean-up of 12 MP

Pages are generated from the CROHME 2011-2013 test ink (``--split val``: every threshold is chosen on these) or the
2014 test ink (``--split test``: reported, never tuned on), seed 0, each expression on one page at most. Metrics:

- detection precision and recall: a found expression matches a true one when their boxes (photo pixels) have an
  IoU of at least 0.5 (greedy, best IoU first);
- reading order: share of pages where every expression is found, nothing else is, and the order is the truth's;
- ExpRate over all expressions on the pages (a missed one counts wrong), ``metrics.same_expression``;
- baseline: the same expressions read alone by ``recognize_image`` from clean WAP-like renderings
  (``benchmarks/wap_val.render_wap_like``), the image path's validation rendering.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

ARCHIVES = {"val": "crohme2011-2013_test_inkml.tar.xz", "test": "crohme2014_test_inkml.tar.xz"}


def match(truth_boxes, pred_boxes) -> dict[int, int]:
    """{truth index: prediction index}, greedy by IoU (>= ``metrics.BOX_MATCH``)."""
    from inkmath.equation.core.metrics import BOX_MATCH, box_iou

    pairs = sorted(((box_iou(t, p), i, j) for i, t in enumerate(truth_boxes) for j, p in enumerate(pred_boxes)),
                   reverse=True)
    out, used = {}, set()
    for v, i, j in pairs:
        if v < BOX_MATCH:
            break
        if i not in out and j not in used:
            out[i] = j
            used.add(j)
    return out


def score_page(truth: list[dict], preds: list[dict]) -> dict:
    from inkmath.equation.core.metrics import same_expression

    m = match([t["box"] for t in truth], [p["box"] for p in preds])
    right = [bool(i in m and same_expression(preds[m[i]]["latex"], t["latex"])) for i, t in enumerate(truth)]
    order_ok = len(m) == len(truth) == len(preds) and all(m[i] == i for i in range(len(truth)))
    # question numbers: a matched expression's label read right (truth with a label), or wrongly split off (without)
    labels_right = sum(1 for i, t in enumerate(truth) if t.get("label") and i in m
                       and preds[m[i]].get("label") == t["label"])
    labels_false = sum(1 for i, t in enumerate(truth) if not t.get("label") and i in m and preds[m[i]].get("label"))
    return {"truth": len(truth), "found": len(preds), "matched": len(m), "right": int(sum(right)),
            "order_ok": order_ok, "right_each": right, "labels": sum(1 for t in truth if t.get("label")),
            "labels_right": labels_right, "labels_false": labels_false}


def generate(split: str, pages: int | None, out: Path, seed: int = 0, labels: bool = False,
             line_gap: tuple[float, float] | None = None, pen: tuple[float, float] | None = None,
             writing: float | None = None) -> list[dict]:
    """Write page_NNNN.jpg + truth.jsonl into ``out`` (reused when already there); the truth rows. ``labels``: every
    expression gets a question number written before it, from the same ink (``page_synth.symbol_bank``)."""
    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.synth.pages import SYMBOL_HEIGHT, make_pages, symbol_bank

    truth_file = out / "truth.jsonl"
    if truth_file.is_file():
        rows = [json.loads(line) for line in truth_file.read_text().splitlines() if line.strip()]
        if rows and rows[0]["info"].get("seed") != seed * 100003:  # make_pages: page i from seed * 100003 + i
            raise SystemExit(f"{out} holds pages of another seed than {seed}: use another --out")
        if rows and rows[0]["info"].get("line_gap") != (list(line_gap) if line_gap else None):
            raise SystemExit(f"{out} holds pages of another --line-gap: use another --out")
        if rows and rows[0]["info"].get("pen") != (list(pen) if pen else None):
            raise SystemExit(f"{out} holds pages of another --pen: use another --out")
        if rows and rows[0]["info"].get("writing", SYMBOL_HEIGHT) != (writing or SYMBOL_HEIGHT):
            raise SystemExit(f"{out} holds pages of another --writing: use another --out")
        if pages is None or len(rows) >= pages:
            return rows[:pages] if pages else rows
    out.mkdir(parents=True, exist_ok=True)
    exprs = list(iter_inkml(data_dir() / "crohme" / ARCHIVES[split]))
    rows = []
    kw = {"labels": symbol_bank(exprs)} if labels else {}
    if line_gap is not None:
        kw["line_gap"] = tuple(line_gap)
    if pen is not None:
        kw["pen"] = tuple(pen)
    if writing is not None:
        kw["writing"] = writing
    for i, page in enumerate(make_pages(exprs, pages, seed=seed, **kw)):
        name = f"page_{i:04d}.jpg"
        (out / name).write_bytes(page.jpeg())
        rows.append({"file": name, "truth": page.truth, "info": page.info})
    truth_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return rows


def baseline(split: str, ids: set[str], predictor, cache: Path) -> dict[str, str]:
    """{expression id: LaTeX read alone from its clean WAP-like rendering}; resumable through ``cache`` (JSON)."""
    from wap_val import render_wap_like

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.recognize import recognize_image

    out = json.loads(cache.read_text()) if cache.is_file() else {}
    todo = ids - set(out)
    if not todo:
        return out
    done = 0
    for e in iter_inkml(data_dir() / "crohme" / ARCHIVES[split]):
        if e.id not in todo:
            continue
        rng = np.random.default_rng(zlib.crc32(e.id.encode()))  # each expression's own size draw, stable
        try:
            out[e.id] = recognize_image(render_wap_like(e, rng), predictor, solve=False, ink="white").latex
        except Exception as err:  # noqa: BLE001 - a failure to read counts as a wrong reading
            out[e.id] = f"<error {type(err).__name__}>"
        todo.discard(e.id)
        done += 1
        if done % 25 == 0 or not todo:
            cache.with_suffix(".tmp").write_text(json.dumps(out))
            cache.with_suffix(".tmp").replace(cache)
    return out


INK = {}  # read_page's ink_model when --ink rules (None: the clean-up's thresholds); default: read_page's own


def read_one(path: Path, predictor) -> tuple[list[dict], str | None, float]:
    """(the page's expressions as ``{"latex", "box", "label"}``, the error if reading it failed, seconds taken): a
    page that fails counts as nothing found."""
    from inkmath.equation.page.read import read_page

    t = time.perf_counter()
    try:
        reading = read_page(path, predictor, solve=False, **INK)
        preds = [{"latex": e.latex, "box": e.box, "label": e.label, "features": e.confidence_features}
                 for e in reading.expressions]
        error = None
    except Exception as err:  # noqa: BLE001 - a page that fails counts as nothing found
        preds, error = [], f"{type(err).__name__}: {err}"
    return preds, error, time.perf_counter() - t


def run(split: str, pages: int | None, out: Path, details: Path | None, with_baseline: bool = True,
        read: bool = True, labels: bool = False, stride: int = 1, seed: int = 0,
        line_gap: tuple[float, float] | None = None, pen: tuple[float, float] | None = None,
        writing: float | None = None) -> dict | None:
    """Read every page (resumable: pages already in ``details`` are not read again), then the baseline, then the
    metrics. ``read=False`` only computes the baseline (another process can read the pages meanwhile)."""
    import torch

    from inkmath.equation.core.metrics import same_expression
    from inkmath.equation.recognize import get_predictor

    torch.set_num_threads(1)
    rows = generate(split, pages, out, seed=seed, labels=labels, line_gap=line_gap, pen=pen, writing=writing)[::stride]
    predictor = get_predictor()
    details = details or out / "details.jsonl"
    done = {}
    if details.is_file():
        for line in details.read_text().splitlines():
            if line.strip():
                d = json.loads(line)
                done[d["file"]] = d
    if read:
        with details.open("a") as f:
            for r in rows:
                if r["file"] in done:
                    continue
                preds, error, seconds = read_one(out / r["file"], predictor)
                d = {"file": r["file"], "info": r["info"], "truth": r["truth"], "preds": preds, "error": error,
                     "seconds": round(seconds, 3)}
                f.write(json.dumps(d) + "\n")
                f.flush()
                done[r["file"]] = d
    alone = None
    if with_baseline:
        alone = baseline(split, {t["id"] for r in rows for t in r["truth"]}, predictor, out / "alone.json")
    if not read or any(r["file"] not in done for r in rows):
        return None
    scores = [score_page(r["truth"], done[r["file"]]["preds"]) for r in rows]
    seconds = [done[r["file"]]["seconds"] for r in rows]
    n_truth = sum(s["truth"] for s in scores)
    n_found = sum(s["found"] for s in scores)
    n_match = sum(s["matched"] for s in scores)
    res = {"split": split, "labels": labels, "seed": seed, "pages": len(rows), "expressions": n_truth,
           **({"line_gap": list(line_gap)} if line_gap else {}), **({"pen": list(pen)} if pen else {}),
           **({"writing": writing} if writing else {}),
           "precision": n_match / max(n_found, 1), "recall": n_match / max(n_truth, 1),
           "reading_order": sum(s["order_ok"] for s in scores) / max(len(rows), 1),
           "exprate": sum(s["right"] for s in scores) / max(n_truth, 1),
           "seconds_per_page_p50": statistics.median(seconds) if seconds else None}
    n_labels = sum(s["labels"] for s in scores)
    if n_labels:
        res["labels_right"] = sum(s["labels_right"] for s in scores) / n_labels
    res["false_labels"] = sum(s["labels_false"] for s in scores)
    if alone is not None:
        right = sum(same_expression(alone.get(t["id"], ""), t["latex"]) for r in rows for t in r["truth"])
        res["baseline_exprate"] = right / max(n_truth, 1)
        res["exprate_vs_baseline"] = res["exprate"] / res["baseline_exprate"] if res["baseline_exprate"] else None
    return res


def calibration_rows(details: Path, out: Path) -> int:
    """Write the page calibration's rows (``training.recipes.calibration --rows page=FILE``) of the pages read into
    ``details``: each expression's confidence features and whether it is the expression its box matches, read right.
    Returns the number of rows."""
    from inkmath.equation.core.metrics import same_expression

    rows = []
    for line in details.read_text().splitlines():
        d = json.loads(line) if line.strip() else None
        if not d:
            continue
        truth, preds = d["truth"], d["preds"]
        owner = {j: i for i, j in match([t["box"] for t in truth], [p["box"] for p in preds]).items()}
        for j, p in enumerate(preds):
            if p.get("features"):
                right = j in owner and same_expression(p["latex"], truth[owner[j]]["latex"])
                rows.append({"right": bool(right), "features": p["features"]})
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def speed(runs: int, out: Path) -> dict:
    """p50 seconds for pages of 8 expressions end to end (decode included), and the clean-up of a 12 MP photo."""
    import cv2
    import torch

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.page.read import read_page
    from inkmath.equation.photo.clean import clean_page
    from inkmath.equation.synth.pages import make_page
    from inkmath.equation.recognize import get_predictor

    torch.set_num_threads(1)
    cv2.setNumThreads(1)  # one core's work: the CPU time is then what an idle core would take
    exprs = list(iter_inkml(data_dir() / "crohme" / ARCHIVES["val"]))[:400]
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for seed in range(100):
        page = make_page(exprs, seed, max_count=8, columns=1)
        if len(page.truth) == 8:
            f = out / f"speed_{seed}.jpg"
            f.write_bytes(page.jpeg())
            files.append((f, page))
        if len(files) == 3:
            break
    from wap_val import render_wap_like

    from inkmath.equation.recognize import recognize_image

    by_id = {e.id: e for e in exprs}
    rng = np.random.default_rng(0)
    alone_images = [[render_wap_like(by_id[t["id"]], rng) for t in page.truth] for _, page in files]
    predictor = get_predictor()
    read_page(files[0][0], predictor)  # warm: the model, the solver's workers
    total, alone, total_cpu = [], [], []
    for _ in range(runs):  # side by side: the page, then its 8 expressions read alone, in turn
        for (f, _), images in zip(files, alone_images):
            t, c = time.perf_counter(), time.process_time()
            read_page(f, predictor)
            total.append(time.perf_counter() - t)
            total_cpu.append(time.process_time() - c)
            t = time.perf_counter()
            for img in images:
                recognize_image(img, predictor, ink="white")
            alone.append(time.perf_counter() - t)
    big = cv2.resize(files[0][1].photo, (3000, 4000), interpolation=cv2.INTER_CUBIC)  # 12 megapixels
    clean_page(big)
    clean, clean_cpu = [], []
    for _ in range(runs * 2):
        t, c = time.perf_counter(), time.process_time()
        clean_page(big)
        clean.append(time.perf_counter() - t)
        clean_cpu.append(time.process_time() - c)
    load = Path("/proc/loadavg").read_text().split()[0]
    return {"page8_p50_s": statistics.median(total), "page8_cpu_p50_s": statistics.median(total_cpu),
            "page8_runs": len(total),
            "alone8_p50_s": statistics.median(alone),
            "page_vs_alone": statistics.median([a / b for a, b in zip(total, alone)]),
            "clean12mp_p50_s": statistics.median(clean), "clean12mp_cpu_p50_s": statistics.median(clean_cpu),
            "clean12mp_runs": len(clean), "load_average": float(load)}


def write_results(path: Path, res: dict, spd: dict | None, command: str) -> None:
    from inkmath.evaluation.results import machine_name, source_commit

    model, commit = machine_name(), source_commit()
    rows = []
    if res:
        name = f"generated pages, CROHME {'2014 test' if res['split'] == 'test' else '2011-2013 (validation)'} ink"
        name += f", page seed {res['seed']}" if res.get("seed") else ""
        rows.append({"set": name + (", a question number before each expression" if res.get("labels") else ""),
                     "pages": res["pages"], "expressions": res["expressions"],
                     "detection_precision": round(res["precision"], 4), "detection_recall": round(res["recall"], 4),
                     "reading_order": round(res["reading_order"], 4), "exprate": round(res["exprate"], 4),
                     "baseline_exprate": round(res.get("baseline_exprate") or 0, 4),
                     "exprate_vs_baseline": round(res.get("exprate_vs_baseline") or 0, 4),
                     "question_numbers_read": round(res["labels_right"], 4) if "labels_right" in res else None,
                     "false_question_numbers": res.get("false_labels")})
    if spd:
        rows.append({"set": "speed", **{k: round(v, 3) if isinstance(v, float) else v for k, v in spd.items()}})
    doc = {"table": "pages", "title": "Page photos: detection, reading order, ExpRate against the expressions read alone",
           "command": command, "machine": model, "commit": commit,
           "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
           "how": "Seeded generated worksheet photos (page_synth: CROHME ink on plain, ruled or squared paper, 1-2 "
                  "columns, black/blue/pencil, perspective, uneven light, shadow band, blur, noise, JPEG), read with "
                  "inkmath.equation.page.read.read_page in one process (torch 1 thread). Boxes match at IoU >= 0.5; "
                  "reading order counts pages read fully right; ExpRate counts a missed expression wrong; the "
                  "baseline reads each expression alone from a clean WAP-like rendering. With question numbers (--labels): "
                  "a number or letter and ')' or '.', or in brackets '(a)', numbers from 1 or going on from 2-12, "
                  "written before each expression from validation symbols' ink; "
                  "question_numbers_read is the share of matched expressions whose label text is right, "
                  "false_question_numbers counts labels found where none was written. Thresholds were chosen on "
                  "validation pages only. Speed is in-process wall time on the shared 2-core machine under the "
                  "load of other jobs.",
           "rows": rows}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


def sweep(split: str, pages: int | None, out: Path, grid: dict[str, list[float]], stride: int = 1,
          seed: int = 0) -> list[dict]:
    """Detection only (no reading) over a grid of page_find thresholds, each page cleaned once: P, R, order."""
    import itertools

    from inkmath.equation.photo import find as page_find
    from inkmath.equation.photo import merge as page_merge
    from inkmath.equation.photo.clean import clean_page, load_photo

    rows = generate(split, pages, out, seed=seed)[::stride]
    cleaned = []
    for r in rows:
        photo, shown = load_photo(out / r["file"])
        cleaned.append(clean_page(photo, shown))

    results = []
    names = sorted(grid)
    for values in itertools.product(*(grid[n] for n in names)):
        for n, v in zip(names, values):
            setattr(page_find if hasattr(page_find, n) else page_merge, n, v)
        scores = []
        for r, page in zip(rows, cleaned):
            found = page_find.find_expressions(page.ink)
            preds = [{"latex": "", "box": page.box_to_photo(g.box.as_list())} for g in found.groups]
            scores.append(score_page(r["truth"], preds))
        n_truth = sum(x["truth"] for x in scores)
        n_found = sum(x["found"] for x in scores)
        n_match = sum(x["matched"] for x in scores)
        res = dict(zip(names, values), precision=round(n_match / max(n_found, 1), 4),
                   recall=round(n_match / max(n_truth, 1), 4),
                   order=round(sum(x["order_ok"] for x in scores) / len(scores), 4))
        print(json.dumps(res), flush=True)
        results.append(res)
    return results


def write_fixture(path: Path, pen: tuple[float, float] | None = None) -> None:
    """The test and browser fixture: a page of 6 validation expressions (ruled, blue), JPEG, + its truth as JSON.
    ``pen``: written with another pen (``--pen``; tests/fixtures/page_fine_pen.jpg is 0.03,0.045)."""
    import itertools

    from inkmath.data import data_dir
    from inkmath.data.crohme import iter_inkml
    from inkmath.equation.synth.pages import make_page

    exprs = list(itertools.islice(iter_inkml(data_dir() / "crohme" / ARCHIVES["val"]), 200))
    page = make_page(exprs, 0, max_count=6, paper="ruled", ink="blue", columns=1, **({"pen": pen} if pen else {}))
    path.write_bytes(page.jpeg(80))
    path.with_suffix(".json").write_text(json.dumps({"truth": page.truth, "info": page.info}, indent=1) + "\n")


def merge_results(path: Path, parts: list[Path]) -> None:
    """One results file from several runs' files (rows in the given order; commands joined with '; ')."""
    docs = [json.loads(p.read_text()) for p in parts]
    doc = dict(docs[-1])
    doc["rows"] = [row for d in docs for row in d["rows"]]
    doc["command"] = "; ".join(d["command"] for d in docs)
    doc["commit"] = ", ".join(sorted({d["commit"] for d in docs}))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)


def _range(text: str | None, flag: str = "--line-gap", example: str = "0.4,1.2") -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lo, hi = (float(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"error: {flag} {text!r} is not two numbers LO,HI (e.g. {example})") from None
    if not 0 <= lo <= hi:
        raise SystemExit(f"error: {flag} {text!r} needs 0 <= LO <= HI")
    return lo, hi


def default_out(args) -> str:
    return (f"/tmp/inkmath-pages-{args.split}{'-labels' if args.labels else ''}"
            f"{f'-seed{args.seed}' if args.seed else ''}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--split", choices=sorted(ARCHIVES), default="val")
    ap.add_argument("--pages", type=int, default=None, help="at most N pages (default: all the ink)")
    ap.add_argument("--out", default=None, help="folder for the generated pages (default /tmp/inkmath-pages-SPLIT)")
    ap.add_argument("--details", default=None, help="per-page rows (JSON lines)")
    ap.add_argument("--stride", type=int, default=1, help="read every K-th of the pages only (quick checks)")
    ap.add_argument("--seed", type=int, default=0,
                    help="the pages' seed (0: the pages of pages.json; 11-14 are page-merge's training seeds; other "
                         "seeds give fresh pages of the same ink; default --out: ...-SPLIT-seedS)")
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--baseline-only", action="store_true", help="only read the expressions alone (resumable cache)")
    ap.add_argument("--speed", action="store_true", help="also (or, with --pages 0, only) measure speed")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--results", default=None, help="write the results file (benchmarks/results/pages.json)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--rows", default=None, help="write each expression's page-calibration row (validation only)")
    ap.add_argument("--ink", choices=["learned", "rules"], default="learned",
                    help="the page's ink: the learned extractor (read_page's default) or the clean-up's thresholds")
    ap.add_argument("--labels", action="store_true",
                    help="pages with a question number before every expression (default --out: ...-SPLIT-labels)")
    ap.add_argument("--line-gap", default=None, metavar="LO,HI",
                    help="crowded pages: LO-HI symbol heights between an expression and the next (default: "
                         "page_synth.LINE_GAP); give its own --out")
    ap.add_argument("--pen", default=None, metavar="LO,HI",
                    help="another pen: its width LO-HI symbol heights (default: page_synth.PEN, 0.06-0.1); give its "
                         "own --out")
    ap.add_argument("--writing", type=float, default=None, metavar="PX",
                    help="smaller or larger writing: a mean symbol height of PX on the 1400 px sheet (default: "
                         "page_synth.SYMBOL_HEIGHT, 34); give its own --out")
    ap.add_argument("--sweep", nargs="+", metavar="NAME=V1,V2", default=None,
                    help="detection only, over a grid of page_find or page_merge thresholds (e.g. LINE_GAP=2,3 "
                         "MERGE_PROB=0.5,2: 2 turns the learned merge off)")
    ap.add_argument("--merge", nargs="+", default=None, help="only merge these results files into --results")
    ap.add_argument("--fixture", default=None, help="only write the test fixture photo (tests/fixtures/page_photo.jpg)")
    args = ap.parse_args(argv)
    if args.ink == "rules":
        INK["ink_model"] = None
    if args.fixture:
        write_fixture(Path(args.fixture), _range(args.pen, "--pen", "0.03,0.045"))
        return 0
    if args.merge:
        merge_results(Path(args.results or "benchmarks/results/pages.json"), [Path(p) for p in args.merge])
        return 0
    if args.sweep:
        grid = {}
        for item in args.sweep:
            name, values = item.split("=", 1)
            grid[name] = [float(v) for v in values.split(",")]
        sweep(args.split, args.pages, Path(args.out or default_out(args)), grid, args.stride, args.seed)
        return 0
    if args.writing is not None and not args.writing > 0:
        raise SystemExit(f"error: --writing {args.writing} is not a symbol height in px over 0 (e.g. 22)")
    out = Path(args.out or default_out(args))
    res = None
    if args.pages != 0:
        res = run(args.split, args.pages, out, Path(args.details) if args.details else None, not args.no_baseline,
                  read=not args.baseline_only, labels=args.labels, stride=args.stride, seed=args.seed,
                  line_gap=_range(args.line_gap), pen=_range(args.pen, "--pen", "0.12,0.16"), writing=args.writing)
        if res is None:
            print("baseline written" if args.baseline_only else "not every page is read yet")
            return 0
        print(json.dumps(res) if args.json else
              f"{res['pages']} pages, {res['expressions']} expressions: P {res['precision']:.4f} R {res['recall']:.4f} "
              f"order {res['reading_order']:.4f} ExpRate {res['exprate']:.4f} (alone {res.get('baseline_exprate')})")
    if args.rows and res:
        calibration_rows(Path(args.details) if args.details else out / "details.jsonl", Path(args.rows))
    spd = speed(args.runs, out / "speed") if args.speed else None
    if spd:
        print(json.dumps(spd))
    if args.results and (res or spd):
        write_results(Path(args.results), res, spd, "python " + " ".join([sys.argv[0]] + sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
