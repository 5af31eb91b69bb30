"""Read ink of several written lines (a worked solution drawn or in an ``.inkml`` file): one reading a line.

    lines = read_ink_lines(strokes)    # [InkLine(latex, confidence, alternatives, box, strokes), ...] top to bottom

The ink is cut into lines (``strokes.lines.cut_lines``) and each line is read by the stroke reader on its own
(``recognize.recognize_strokes``, no solving), keeping its confidence and its other readings for the checker.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from inkmath.errors import InkmathError
from inkmath.limits import ink_size_problem
from inkmath.equation.recognize import recognize_strokes
from inkmath.equation.strokes.lines import cut_lines, line_box


@dataclass
class InkLine:
    """One written line as read: the reading, how sure the reader is, its other readings [(latex, confidence)] best
    first, its box [x0, y0, x1, y1] in the ink's coordinates and the indices of its strokes in the drawing."""

    latex: str
    confidence: float
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    box: list[float] = field(default_factory=list)
    strokes: list[int] = field(default_factory=list)


def read_ink_lines(strokes: Sequence, predictor=None, *, rendering: bool = True,
                   max_lines: int | None = None) -> list[InkLine]:
    """The lines of ``strokes`` (each (P, 2+) points, y down), top to bottom, each read by the stroke reader.
    Each line's ink must be within the bounds of ``inkmath.limits``; more than ``max_lines`` lines is refused before
    any is read. ``InkmathError`` saying which line and what to do otherwise."""
    arrays = [np.asarray(s, dtype=np.float64) for s in strokes]
    groups = cut_lines(arrays)
    if not groups:
        raise InkmathError("no ink: the drawing is empty")
    if max_lines is not None and len(groups) > max_lines:
        raise InkmathError(f"{len(groups)} lines of ink: at most {max_lines} lines are read as one solution")
    out = []
    for n, members in enumerate(groups, start=1):
        own = [arrays[i][:, :2] for i in members]
        problem = ink_size_problem(own)
        if problem is not None:
            raise InkmathError(f"line {n}: {problem}")
        rec = recognize_strokes(own, predictor, solve=False, rendering=rendering)
        others = [(a["latex"], float(a.get("confidence") or 0.0)) for a in rec.alternatives
                  if a["latex"] != rec.latex]
        out.append(InkLine(rec.latex, float(rec.confidence), others, line_box(arrays, members), list(members)))
    return out
