"""How much ink one reading takes: the bounds the Python API, ``inkmath recognize`` and the HTTP API share.

A generous drawing is a few dozen strokes of a few hundred points. Reading time grows faster than the ink: 400 strokes
read in about 5 s, 1,000 in about 40 s (docs/decisions/robustness-and-limits.md), so more than these bounds is refused
at once with a one-line ``InkmathError`` instead of being read for minutes.

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
