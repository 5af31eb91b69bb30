"""How much ink one reading takes: the bounds the Python API, ``inkmath recognize`` and the HTTP API share.

A generous drawing is a few dozen strokes of a few hundred points. A drawing of more than 80 strokes is read as its
lines and parts (``equation.strokes.parts``), so reading time grows about as the ink does: 400 strokes in 0.9 s of
CPU for rows of real expressions and 2.0 s for random short strokes, against 2.8 and 3.8 s read whole (2026-11-29,
``benchmarks/bench_growth.py``, docs/decisions/speed.md). More than these bounds is still refused at once with a
one-line ``InkmathError``: the bounds are the HTTP API's, and a request's time and memory stay bounded.

    from inkmath.limits import check_ink_size
    check_ink_size(strokes)        # raises InkmathError("Too many strokes (1,000; at most 400 ...); ...")

This module imports nothing heavy: the web schemas take their bounds from here.
"""

from __future__ import annotations

from typing import Sequence

from inkmath.errors import InkmathError

MAX_STROKES = 400
MAX_POINTS_PER_STROKE = 4000
MAX_POINTS = 20000  # in all: tighter than MAX_STROKES x MAX_POINTS_PER_STROKE


def ink_size_problem(strokes: Sequence[Sequence]) -> str | None:
    """What is too large about ``strokes`` (each a sequence of points), lower-case, with what to do; None when they
    are within the bounds. Only lengths are read."""
    if len(strokes) > MAX_STROKES:
        return (f"too many strokes ({len(strokes):,}; at most {MAX_STROKES:,} are read at once); split the drawing "
                "into smaller expressions")
    total = 0
    for k, stroke in enumerate(strokes):
        n = len(stroke)
        if n > MAX_POINTS_PER_STROKE:
            return (f"too many points in stroke {k + 1} ({n:,}; at most {MAX_POINTS_PER_STROKE:,} a stroke); "
                    "resample the strokes to fewer points")
        total += n
    if total > MAX_POINTS:
        return (f"too many points ({total:,}; at most {MAX_POINTS:,} in all); resample the strokes to fewer points "
                "or split the drawing")
    return None


def check_ink_size(strokes: Sequence[Sequence]) -> None:
    """Raise an ``InkmathError`` naming the bound ``strokes`` exceed and what to do (``ink_size_problem``)."""
    problem = ink_size_problem(strokes)
    if problem is not None:
        raise InkmathError(problem[0].upper() + problem[1:])
