"""The checker's records: what goes in (`LineReading`: a line as read, with the reader's confidence and alternative
readings) and what comes out (`LineCheck` per line, `CheckResult` for the whole solution). Plain dataclasses that
pickle (a solver worker sends them back) and turn into JSON (`to_dict`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SURE_READING = 0.8  # a reading less sure than this never makes a step `wrong`: it is `unsure`, naming the alternative
VERDICTS = ("given", "ok", "wrong", "unsure")
MAX_LINES = 200  # lines of one solution; a school solution has under 30


@dataclass
class LineReading:
    """One line as read: typed LaTeX has confidence 1 and no alternatives; the reader (ink, photos) gives its
    confidence, its other readings [(latex, confidence), ...] best first, and where the line is (`box`: [x0, y0,
    x1, y1] in the page's or the ink's coordinates, or any object with `as_list()`)."""

    latex: str
    confidence: float = 1.0
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    box: Any = None

    def box_list(self) -> list[float] | None:
        if self.box is None:
            return None
        values = self.box.as_list() if hasattr(self.box, "as_list") else list(self.box)
        return [float(v) for v in values]


@dataclass
class LineCheck:
    """The verdict on one line: `given` (the problem), `ok`, `wrong` or `unsure`, with a one-sentence `reason`;
    `mistake` names the usual mistake recognised (`inkmath.equation.solve.check.mistakes.CODES`), `alternative`
    the reading that would make an `unsure` line follow."""

    index: int
    latex: str
    verdict: str
    reason: str
    confidence: float = 1.0
    box: list[float] | None = None
    mistake: str | None = None
    alternative: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"latex": self.latex, "verdict": self.verdict, "reason": self.reason,
                "confidence": round(float(self.confidence), 4), "box": self.box, "mistake": self.mistake,
                "alternative": self.alternative}


@dataclass
class CheckResult:
    """A checked solution: the problem's `kind`, a verdict per line, the first wrong line (0 is the problem; None
    when no line is wrong), whether the last line's answer is the solver's (None when it states no answer), and for
    the first wrong line the solver's own next step from the line before it (`next_step`: {"latex", "reason"})."""

    kind: str
    lines: list[LineCheck]
    first_wrong: int | None = None
    answer_right: bool | None = None
    next_step: dict[str, str] | None = None
    answer: str = ""  # the solver's answer to the problem, as text ("x = 4")
    elapsed_s: float = 0.0
    # (the last line that follows before the first wrong one, the problem): where `next_step` is looked up
    resume: tuple[str, str] | None = field(default=None, repr=False)

    def to_dict(self, file: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {} if file is None else {"file": file}
        out.update(kind=self.kind, steps=[line.to_dict() for line in self.lines], first_wrong=self.first_wrong,
                   answer_right=self.answer_right, next_step=self.next_step, answer=self.answer)
        return out
