"""The expression tree: plain dataclasses that the parser builds, and LaTeX emission and the solver consume.

Tokens are CROHME-style LaTeX tokens: "x", "2", "+", "-", "=", "(", "\\alpha", "\\sin", "\\times", "\\prime", ".".
Function names written as letters (s, i, n) are merged by the parser into one Symbol("\\sin").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


@dataclass
class Box:
    """Axis-aligned box in ink coordinates (y grows downwards)."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def w(self) -> float:
        return self.x1 - self.x0

    @property
    def h(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    def union(self, other: "Box") -> "Box":
        return Box(min(self.x0, other.x0), min(self.y0, other.y0), max(self.x1, other.x1), max(self.y1, other.y1))

    def as_list(self) -> list[float]:
        return [self.x0, self.y0, self.x1, self.y1]


@dataclass
class Candidate:
    """One alternative reading of a symbol: a token and the classifier's probability."""

    token: str
    prob: float


def read_for_sure(candidates: list[Candidate]) -> bool:
    """Is a symbol with these candidates read for sure: its first read at 1.0 (a user's correction, or a true symbol)?
    The reader then takes it as that token alone, whatever other candidates it keeps."""
    return bool(candidates) and candidates[0].prob >= 1.0


@dataclass
class SymbolHyp:
    """A segmented symbol: where it is, which strokes (or image components) make it, and its top-k readings."""

    box: Box
    candidates: list[Candidate]
    strokes: list[int] = field(default_factory=list)
    # the classifier's logits over its classes (the context model's crop embedding); None when not read by it
    logits: np.ndarray | None = field(default=None, repr=False, compare=False)
    # what the pen model's reading adds to the context models' log-probabilities (pen_symbols); None without a pen
    pen_evidence: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def token(self) -> str:
        return self.candidates[0].token

    @property
    def prob(self) -> float:
        return self.candidates[0].prob


class Node:
    """Base class of tree nodes."""


@dataclass
class Symbol(Node):
    token: str
    source: int | None = None  # index into the list of SymbolHyp it came from (None if synthesised)


@dataclass
class Row(Node):
    items: list[Node]


@dataclass
class Sup(Node):
    base: Node
    sup: Node


@dataclass
class Sub(Node):
    base: Node
    sub: Node


@dataclass
class SubSup(Node):
    base: Node
    sub: Node
    sup: Node


def with_scripts(base: Node, sub: Node | None, sup: Node | None) -> Node:
    """``base`` with its subscript and superscript, either of which may be None."""
    if sub is not None and sup is not None:
        return SubSup(base, sub, sup)
    if sup is not None:
        return Sup(base, sup)
    if sub is not None:
        return Sub(base, sub)
    return base


@dataclass
class Frac(Node):
    num: Node
    den: Node
    source: int | None = None  # the fraction bar's SymbolHyp


@dataclass
class Sqrt(Node):
    body: Node
    index: Node | None = None
    source: int | None = None


@dataclass
class Binom(Node):
    """A binomial coefficient \\binom{top}{bottom} ("top choose bottom"); typed LaTeX has it, the reader does not
    write one."""

    top: Node
    bottom: Node


@dataclass
class BigOp(Node):
    """\\sum, \\int, \\prod, \\lim with optional limits (the operand follows in the enclosing Row)."""

    op: str
    lower: Node | None = None
    upper: Node | None = None
    source: int | None = None


@dataclass
class Lines(Node):
    """Several lines written one under another (a system of equations)."""

    rows: list[Node]


@cache
def node_fields(kind: type) -> tuple[str, ...]:
    """A node class's dataclass field names, in order (``dataclasses.fields`` is slow: asked once per class)."""
    return tuple(f.name for f in fields(kind))


def copy_tree(node: Node) -> Node:
    """A copy of the tree under ``node`` with nodes of its own (the parser's passes change a tree in place); what is
    not a node (tokens, sources) is shared."""
    kind = type(node)
    if kind is Symbol:
        return Symbol(node.token, node.source)
    if kind is Row:
        return Row([copy_tree(n) for n in node.items])
    return kind(*[copy_tree(v) if isinstance(v, Node) else [copy_tree(n) for n in v] if isinstance(v, list) else v
                  for v in (getattr(node, name) for name in node_fields(kind))])
