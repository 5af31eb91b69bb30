"""Which input the solver answers in the caller's process: `is_cheap`.

SymPy answers cheap input (arithmetic, a linear or quadratic equation in one unknown, a small linear system) in
0.1-3 ms, so a round trip to a worker process (`inkmath.equation.solve.pool`) would only add latency;
`inkmath.equation.solve.answer.answer` answers it in-process (unless its `SolveConfig.fast_path` is off) and sends
the rest to a worker that is killed at the time limit.
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.tosympy import PLUS_MINUS

FAST_MAX_NODES = 60  # size of the SymPy tree, all lines together
FAST_MAX_NUMBER = 10**6  # numerators and denominators; bigger ones make sqrt() of a discriminant factor integers
_FAST_TYPES = (sp.Symbol, sp.Rational, sp.Add, sp.Mul, sp.Pow, sp.Eq)


def is_cheap(items: list[sp.Basic]) -> bool:
    """True if SymPy answers these items in a few milliseconds, so a worker round trip would only add latency.

    Cheap means: numbers, letters, + - * and small integer powers only (no functions, constants, roots, big
    operators or inequalities), small numbers, and either arithmetic without letters, one polynomial equation of
    degree <= 2 in one unknown, or a linear system of <= 2 equations in at most as many unknowns. Measured on this
    machine, these take 0.1-3 ms; the next cheapest kinds (an inequality, a letter in a denominator, a parameter,
    simplifying an expression with letters) take 70-250 ms in SymPy and would hold the GIL that long, so they go
    to the worker. Nothing here may call code that uses mpmath's global precision (nroots, findroot), because the
    fast path runs in the caller's thread while other threads may be solving too.
    """
    if not 1 <= len(items) <= 2:
        return False
    unknowns: set[sp.Symbol] = set()
    nodes = 0
    for item in items:
        for sub in sp.preorder_traversal(item):
            nodes += 1
            if nodes > FAST_MAX_NODES or not isinstance(sub, _FAST_TYPES):
                return False
            if isinstance(sub, sp.Symbol):
                if sub != PLUS_MINUS:
                    unknowns.add(sub)
            elif isinstance(sub, sp.Rational):
                if abs(sub.p) > FAST_MAX_NUMBER or sub.q > FAST_MAX_NUMBER:
                    return False
            elif isinstance(sub, sp.Pow):
                lettered = bool(sub.base.free_symbols - {PLUS_MINUS})
                if not sub.exp.is_Integer or not (1 <= sub.exp <= 2 if lettered else abs(sub.exp) <= 4):
                    return False  # a negative power of a letter is a denominator: solveset, ~200 ms
    if not unknowns:
        return True  # arithmetic, or an equation between numbers (checked by simplify on numbers)
    if not all(isinstance(item, sp.Eq) for item in items) or len(unknowns) > len(items):
        return False  # an expression to simplify, or a parameter: SymPy's general routines, ~100 ms
    limit = 2 if len(items) == 1 else 1
    gens = sorted(unknowns, key=lambda s: s.name)
    try:
        return all(sp.Poly(item.lhs - item.rhs, *gens).total_degree() <= limit for item in items)
    except sp.PolynomialError:
        return False
