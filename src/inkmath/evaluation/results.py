"""Result files: what a measuring command writes for the results page (``benchmarks/results_page.py``).

One JSON file per measurement, ``benchmarks/results/<topic>.json``::

    {"table": "symbols", "title": "...", "command": "<exact command>", "machine": "<CPU model>",
     "commit": "<git short hash measured>", "date": "<ISO UTC>", "how": "<how it is measured>",
     "rows": [{"<column>": value, ...}, ...]}

Files whose ``table`` is the same are one table on the page; each row keeps its file's command, machine and commit.
The row builders here turn what ``inkmath eval`` and ``inkmath crohme-eval`` report into that table's columns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

from inkmath.errors import InkmathError
from inkmath.atomic import atomic_write_text
from inkmath.equation.recognize import DEFAULT_WEIGHTS

HOW_SYMBOLS = ("`inkmath eval WEIGHTS SPEC` runs the shipped weights over every image of the test split, each "
               "prepared by the weights' preprocessing preset, and counts the images whose true class is the first, "
               "among the first 3 or the first 5 scores; macro-F1 is the mean over the classes of per-class F1. "
               "MFLOPs: multiply-adds x 2 of one forward pass of one image (torch's flop counter).")
HOW_EXPRESSIONS = ("`inkmath crohme-eval` reads every expression of a CROHME set with the shipped recogniser "
                   "(strokes: the InkML ink; images: the WAP offline bitmaps, or the 2011-2013 ink drawn like them by "
                   "`benchmarks/wap_val.py`) and compares its LaTeX with the truth on normalised tokens: ExpRate is "
                   "the share read exactly, within 1 / 2 the share with at most 1 / 2 token edits. The 2011-2013 "
                   "sets are the validation data every threshold was chosen on; the 2014 sets are only reported. "
                   "The validation's rows by folder are its three years' tests: its 2013 part reads most like the "
                   "2014 test.")
# which set and input kind an ``inkmath crohme-eval`` short name reads
SETS = {"val": ("CROHME 2011-2013 test (validation)", "strokes"), "test": ("CROHME 2014 test", "strokes"),
        "wap": ("CROHME 2014 test", "WAP offline images"), "wap_val": ("CROHME 2011-2013 test (validation)",
                                                                      "2011-2013 ink drawn like the WAP images")}


def machine_name() -> str:
    """The CPU model (``model name`` of /proc/cpuinfo), else the platform's processor name."""
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        if m:
            return m.group(1).strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine() or "unknown"


def head_commit(folder: str | Path) -> str:
    """Short hash of the commit checked out in the git tree holding ``folder`` (its own changes not marked: a
    training run's tree, whose weights are retrained in place); ``unknown`` outside a git checkout."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=folder, capture_output=True, text=True,
                              timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head.stdout.strip() if head.returncode == 0 else "unknown"


def source_commit() -> str:
    """Short hash of the commit the running inkmath comes from, ``+changes`` when its sources differ from it;
    ``unknown`` outside a git checkout (an installed wheel)."""
    src = Path(__file__).resolve().parents[1]
    head = head_commit(src)
    if head == "unknown":
        return head
    try:
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no", "--", "."], cwd=src,
                               capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+changes" if dirty else "")


def write_result(path: str | Path, table: str, title: str, command: str, how: str, rows: list[dict], *,
                 machine: str | None = None, commit: str | None = None, date: str | None = None,
                 plot: str | None = None) -> Path:
    """Write one result file (atomically). Machine, commit and date are this process's unless given (a figure
    measured elsewhere, carried over with its own). ``plot``: the name of an image beside the file that the results
    page shows under its table."""
    if not rows:
        raise InkmathError(f"No rows to write into {path}")
    record = {"table": table, "title": title, "command": command, "machine": machine or machine_name(),
              "commit": commit or source_commit(),
              "date": date or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "how": how,
              "rows": rows}
    if plot:
        record["plot"] = plot
    path = Path(path)
    atomic_write_text(path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    return path


def model_mflops(model: str, num_classes: int, in_size: int) -> float:
    """Forward MFLOPs of one image (torch's flop counter: 2 per multiply-add)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from inkmath.models import create_model

    net = create_model(model, num_classes=num_classes, in_size=in_size).eval()
    with torch.no_grad(), FlopCounterMode(display=False) as fc:
        net(torch.zeros(1, 1, in_size, in_size))
    return fc.get_total_flops() / 1e6


def symbols_row(report: dict, card: dict) -> dict:
    """A row of the symbols table from an ``inkmath eval --json`` report and the weights' card."""
    return {"weights": report["weights"], "model": card["model"], "parameters": card["parameters"],
            "MFLOPs": round(model_mflops(card["model"], card["num_classes"], card["in_size"]), 1),
            "test set": report["dataset"], "images": report["n"], "engine": report.get("engine", "torch"),
            "top-1": round(report["top1"], 4), "top-3": round(report["top3"], 4), "top-5": round(report["top5"], 4),
            "macro-F1": round(report["macro_f1"], 4)}


def expressions_row(res: dict, set_key: str, weights: str | None = None) -> dict:
    """A row of the expressions table from what ``crohme_eval.evaluate_crohme`` returns, ``set_key`` one of
    ``SETS`` (or a path: then the row names the source)."""
    test_set, kind = SETS.get(set_key, (res.get("source", set_key), "strokes or images"))
    row = {"test set": test_set, "input": kind, "classifier": weights or DEFAULT_WEIGHTS,
           "expressions": res.get("expressions")}
    for key, col in (("exprate", "ExpRate"), ("within1", "within 1"), ("within2", "within 2"),
                     ("seg_precision", "segmentation P"), ("seg_recall", "segmentation R"),
                     ("symbol_rec_rate", "symbols right"),
                     ("symbol_accuracy_gt_seg", "symbol accuracy (truth segmentation)"),
                     ("alternatives_coverage", "truth among alternatives"),
                     ("top_half_accuracy", "most confident half right"),
                     ("calibration_error", "calibration error")):
        if res.get(key) is not None:
            row[col] = round(float(res[key]), 4)
    if res.get("exprate") is not None and res.get("expressions"):
        row["read right"] = round(float(res["exprate"]) * res["expressions"])
    return row


# the test sets the 2011-2013 validation archive holds, by the folder of their files
FOLDER_SETS = {"TestINKMLGT": "its 2013 test", "testDataGT": "its 2012 test", "CROHME_testGT": "its 2011 test"}


def folder_rows(res: dict, set_key: str, weights: str | None = None) -> list[dict]:
    """Rows of the expressions table for each folder of a set that holds several (``res["by_folder"]``, from
    ``crohme_eval.by_folder``): the expressions read right and the rates of each, the folder named by
    ``FOLDER_SETS`` where it is one of the validation's test sets (each an ``expressions_row`` of its figures)."""
    rows = []
    for f in res.get("by_folder", []):
        row = expressions_row({**f, "source": res.get("source", set_key)}, set_key, weights)
        row["test set"] += f": {folder_name(f['folder'])}"
        rows.append(row)
    return sorted(rows, key=lambda r: r["test set"])


def folder_name(folder: str) -> str:
    """A folder of a set as the results name it: the validation archive's by its year's test (``FOLDER_SETS``)."""
    return FOLDER_SETS.get(folder.rsplit("/", 1)[-1], folder)
