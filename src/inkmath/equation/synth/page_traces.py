"""Generated pages read once for a page model's recipe: each page's trace and truth cached as a JSON file.

    folder = trace_pages(out, n, lambda: make_pages(exprs(), n, seed=...), cut_trace, describe)

The page recipes (``train_page_label``, ``train_page_cut``, ``train_page_join``) learn from what ``page.read_page``
decides while it reads a generated page: its question-number candidates (``label_trace``), the cuts it reads
(``cut_trace``) or the pairs it reads as one (``join_trace``), each recorded in place of the decision, which is then
not made. Reading is the slow part, so each page's record is written as soon as it is read (resumable: pages already
there are not read again), and a stream that made fewer pages than asked (its ink ran out) is marked done.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable, Iterable


def label_trace(trace: list) -> dict:
    """``read_page``'s keywords that record, per line of the first reading, its question-number candidates' inputs,
    its box and its symbols' boxes in the photo's pixels into ``trace`` (``train_page_label``'s data), and split no
    question number off."""
    from inkmath.equation.page.label import PageLabels

    def labels(read: list, lines: list) -> PageLabels:
        for (_, e), cands in zip(read, lines):
            trace.append({"features": [c.features.tolist() for c in cands], "chars": [c.char for c in cands],
                          "k": [c.k for c in cands], "box": e.box if e is not None else None,
                          "symbols": [s["box"] for s in e.symbols] if e is not None else []})
        return PageLabels(None, lines)

    return {"labels": labels}


def cut_trace(trace: list) -> dict:
    """``read_page``'s keywords that record, per group whose best cut is read, the cut and the readings and boxes of
    the whole and of its parts (``page_cut.cut_record``) into ``trace`` (``train_page_cut``'s data); no group is cut,
    and no pair of groups is read as one."""
    from inkmath.equation.page.regroup import Regrouping

    return {"regrouping": Regrouping(cut=lambda record: trace.append(record) or False, join=None)}


def join_trace(trace: list) -> dict:
    """``read_page``'s keywords that record, per pair of groups page-merge scored from ``page_regroup.TRACE_CONSIDER``
    read as one, the pair's record (``page_cut.join_record``) into ``trace`` (``train_page_join``'s data); no pair is
    joined."""
    from inkmath.equation.page.regroup import TRACE_CONSIDER, Regrouping

    return {"regrouping": Regrouping(join=lambda record: trace.append(record) or False, join_from=TRACE_CONSIDER)}


def trace_pages(out: Path, n: int, pages: Callable[[], Iterable], traced: Callable[[list], dict],
                describe: Callable[[list, list], str] | None = None) -> Path:
    """Read each page of ``pages()`` (at most ``n`` ``page_synth.Page``; called only when some are not read yet: the
    ink loads slowly) with ``read_page(photo, solve=False, **traced(trace))`` (``label_trace``, ``cut_trace``,
    ``join_trace``) into ``out/page_NNNN.json`` ({"trace", "truth"}; {"skipped": true} for a page the reader
    refuses); ``describe(trace, truth)`` is printed per page. Returns ``out``."""
    from inkmath.atomic import atomic_write_text
    from inkmath.equation.page.read import read_page

    out.mkdir(parents=True, exist_ok=True)
    if (out / "done").is_file() or len(list(out.glob("page_*.json"))) >= n:
        return out
    made = 0
    for k, page in enumerate(pages()):
        made += 1
        meta = out / f"page_{k:04d}.json"
        if meta.is_file():
            continue
        trace: list = []
        try:
            read_page(page.photo, solve=False, **traced(trace))
        except Exception:  # noqa: BLE001 - a generated page the reader refuses teaches nothing
            atomic_write_text(meta, json.dumps({"skipped": True}))
            continue
        atomic_write_text(meta, json.dumps({"trace": trace, "truth": page.truth}))  # targets made when loaded
        if describe is not None:
            print(f"{out.name} page {k}: {describe(trace, page.truth)}", file=sys.stderr, flush=True)
    if made < n:
        atomic_write_text(out / "done", "")
    return out
