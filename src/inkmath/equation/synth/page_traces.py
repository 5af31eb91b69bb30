"""Generated pages read once for a page model's recipe: each page's trace and truth cached as a JSON file.

    folder = trace_pages(out, n, lambda: make_pages(exprs(), n, seed=...), "cut_trace", describe)

The page recipes (``train_page_label``, ``train_page_cut``) learn from what ``page.read_page`` records while it reads
a generated page (``label_trace``, ``cut_trace``); reading is the slow part, so each page's record is written as soon
as it is read (resumable: pages already there are not read again), and a stream that made fewer pages than asked
(its ink ran out) is marked done.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Callable, Iterable


def trace_pages(out: Path, n: int, pages: Callable[[], Iterable], trace_arg: str,
                describe: Callable[[list, list], str] | None = None) -> Path:
    """Read each page of ``pages()`` (at most ``n`` ``page_synth.Page``; called only when some are not read yet: the
    ink loads slowly) with ``read_page(photo, solve=False, **{trace_arg: trace})`` into ``out/page_NNNN.json``
    ({"trace", "truth"}; {"skipped": true} for a page the reader refuses); ``describe(trace, truth)`` is printed per
    page. Returns ``out``."""
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
            read_page(page.photo, solve=False, **{trace_arg: trace})
        except Exception:  # noqa: BLE001 - a generated page the reader refuses teaches nothing
            atomic_write_text(meta, json.dumps({"skipped": True}))
            continue
        atomic_write_text(meta, json.dumps({"trace": trace, "truth": page.truth}))  # targets made when loaded
        if describe is not None:
            print(f"{out.name} page {k}: {describe(trace, page.truth)}", file=sys.stderr, flush=True)
    if made < n:
        atomic_write_text(out / "done", "")
    return out
