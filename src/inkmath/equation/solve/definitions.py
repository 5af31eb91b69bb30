"""A line written ``f(x) = body`` defines a function: its body is answered (simplified, drawn), and the answer is
worded as the function's. Without SymPy, so that a process that sends its problems to a solver worker
(``solver_pool.answer_in_worker``) can tell a definition without importing it."""

from __future__ import annotations

from typing import Any

from inkmath.equation.core.latex import tokens
from inkmath.equation.core.tokens import RELATIONS
from inkmath.equation.core.tree import Node, Row, Symbol


def function_definition(node: Node) -> tuple[str, str, Row] | None:
    """``(f, x, body)`` when ``node`` is written ``f(x) = body``: one letter applied to another in brackets, then
    '=' and a body without another relation or the function's own letter. Such a line defines a function (a student
    writes ``f(x) = 2x + 1`` to give f, not to solve ``f * x = 2x + 1`` for x): its body is simplified and drawn.
    None for anything else."""
    items = node.items if isinstance(node, Row) else []
    if len(items) < 6 or not all(isinstance(n, Symbol) for n in items[:5]):
        return None
    name, open_, var, close, eq = (n.token for n in items[:5])
    if not (open_, close, eq) == ("(", ")", "=") or not (len(name) == len(var) == 1 and name.isalpha()
                                                         and var.isalpha() and name != var):
        return None
    body = Row(list(items[5:]))
    written = tokens(body)
    if name in written or any(t in RELATIONS for t in written):
        return None
    return name, var, body


def worded_as_definition(result: dict[str, Any], name: str, var: str) -> None:
    """The answer of a definition's body, worded as the function's (``kind`` "function"); a failed one as it is."""
    if result.get("kind") == "none":
        return
    result.update(kind="function", text=f"{name}({var}) = {result.get('text', '')}",
                  latex=rf"{name}\left({var}\right) = {result.get('latex', '')}",
                  notes=[f"a definition of the function {name}: its right side, simplified", *result.get("notes", [])])
