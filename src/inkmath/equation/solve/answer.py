"""Answer a recognised expression tree: solve its equation(s), or simplify and evaluate its expression.

`answer(node)` returns a JSON-serialisable dict (see `answer`). The tree becomes SymPy objects through
`inkmath.equation.solve.tosympy` (no text is ever evaluated); this module decides what to do with them.

Time limit: SymPy can run for hours on innocent-looking input (`x^{99999}+x=1`, a huge sum), so anything but cheap
input runs in a persistent worker process that the caller kills after `timeout` seconds (default `SOLVE_TIMEOUT` =
5 s); the next call starts a fresh one (`inkmath.equation.solve.pool`: `start_workers()`, `launch_workers()`,
`stop_workers()`, re-exported here). A job that times out comes back as kind "none" with a message that says so.

Fast path: cheap input (`solve_fast.is_cheap`: arithmetic, a linear or quadratic equation in one unknown, a small
linear system) is answered in the caller's process in 0.1-3 ms, as a worker round trip would only add latency
(`SolveConfig.fast_path`; a caller may send every call to a worker instead). Cheap
checks refuse obviously hopeless work before SymPy starts: numbers over ~30,000 digits (in tosympy) and
polynomials of degree above `MAX_DEGREE` (read off the written form: `x^{10^{10}} = 1` is refused at once).

Real answers, as a student means them: the non-real solutions it finds (all those of a polynomial or rational
equation in one unknown, and of a system) are offered in a note and `complex_solutions`, not given as solutions.
Without a real one the answer is "no real solution"; "no solution" when there is none in the complex numbers either
(x + 1 = x; 1/(x^2 + 1) = 0). Other equations' non-real solutions are not looked for (e^x = -1: "no real solution").
With letters treated as given the answer is a formula, whichever numbers it gives.

The stages it calls on live in their own modules: which input is cheap in `inkmath.equation.solve.fast`, the size
guards in `inkmath.equation.solve.limits`, the check of roots against where the equation as written is defined in
`inkmath.equation.solve.domain`, the evaluation of sums, integrals, limits and derivatives (and ∞ kept to their
bounds) in `inkmath.equation.solve.calculus`, and the text, LaTeX and decimals of an answer in
`inkmath.equation.solve.text`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from inkmath.errors import InkmathError
from inkmath.equation.core.latex import to_latex
from inkmath.equation.core.tree import Node
from inkmath.equation.solve.definitions import function_definition
from inkmath.equation.solve.extras import finish_answer, with_extras
from inkmath.equation.solve.fast import is_cheap
from inkmath.equation.solve.limits import MAX_DEGREE  # noqa: F401 (re-exported)
from inkmath.equation.solve.limits import MAX_SHOWN_DIGITS, degree_bound, too_long  # noqa: F401 (re-exported)
from inkmath.equation.solve.pool import (SOLVE_TIMEOUT, SOLVE_WORKERS, WorkerError, launch_workers, run_in_worker,
                                         start_workers, stop_workers, worker_pids)
from inkmath.equation.solve.solver import answer_job, make_result, solve_items  # noqa: F401 (answer_job re-exported)
from inkmath.equation.solve.tosympy import PLUS_MINUS, expand_plus_minus, to_sympy, to_sympy_lines

__all__ = ["SOLVE_TIMEOUT", "SOLVE_WORKERS", "MAX_DEGREE", "PLUS_MINUS", "SolveConfig", "answer", "answer_job",
           "expand_plus_minus", "launch_workers", "start_workers", "stop_workers", "to_sympy", "to_sympy_lines",
           "worker_pids"]


@dataclass(frozen=True)
class SolveConfig:
    """How ``answer`` runs the solver. ``fast_path``: cheap input (``fast.is_cheap``) is answered in the caller's
    process; False: every call with a time limit goes to a worker process."""

    fast_path: bool = True


def answer(node: Node, timeout: float | None = SOLVE_TIMEOUT, *, steps: bool = False,
           plot: bool = False, config: SolveConfig = SolveConfig()) -> dict[str, Any]:
    """Solve or evaluate a tree. Never raises for bad input: problems come back as kind "none" with a reason.

    Fields (always present): `kind` ("equation" | "inequality" | "system" | "expression" | "function" | "none";
    "function": a line written `f(x) = body`, answered as its body simplified, see `function_definition`),
    `input_latex`, `text` (one line for people), `latex` (LaTeX of the answer), `variables` (names solved for),
    `solutions` (list of {name: {"text", "latex", "decimal", "general"}}, one dict per real solution; `general` marks
    a family such as 2kπ + π/6 with k any integer), `complex_solutions` (the non-real ones the solver found, in the
    same form, also named in a note; see "Real answers" above), `value` / `values` (expressions: {"text", "latex",
    "decimal"}),
    `notes` (list of remarks, e.g. which unknown was chosen), `reason` (why nothing could be done, kind "none"),
    `holds` (an equation or inequality between numbers: whether it is true), `elapsed_s`.
    Each solution and value also carries `sympy` (SymPy's `srepr` of it, for checking).
    `steps=True` adds `steps` (a worked solution: [{"latex", "reason", "sympy", "mathml"}], empty when there is
    none), `steps_reason` (why there are no steps, else "") and, with steps, `steps_kind` ("linear", "quadratic",
    "inequality", "quadratic_inequality", "polynomial", "system", "nonlinear_system", "arithmetic", "simplify",
    "trig", "exponential", "logarithmic", "rational", "radical", "absolute", "absolute_inequality",
    "rational_inequality", "derivative", "integral"); `plot=True` adds `plot` (SVG text or None) and
    `plot_reason`; see `inkmath.equation.solve.steps.worked` and `inkmath.equation.solve.plot`. They share the answer's time limit.
    `timeout=None` runs in-process without a time limit (for callers that bound time themselves). Otherwise
    cheap input (see `inkmath.equation.solve.fast.is_cheap`) is answered in-process (unless `config.fast_path` is
    False) and the rest by a worker process killed at `timeout`; a plot is always drawn in the worker (matplotlib is
    not thread-safe, and the caller may be a web server).
    Thread-safe: the web server calls this from several threads at once.
    """
    start = time.perf_counter()
    input_latex = ""
    definition = function_definition(node)
    try:
        input_latex = to_latex(node)
        if definition is not None:
            node = definition[2]  # f(x) = body: the body is what is worked on
        items = to_sympy_lines(node)
    except InkmathError as exc:
        result = make_result("none", reason=str(exc), text=f"cannot evaluate: {exc}")
    else:
        extras = {"steps": steps, "plot": plot}
        if timeout is None or (config.fast_path and not plot and is_cheap(items)):
            result = with_extras(solve_items(items, node), node, items, extras)
        else:
            result = _run_in_worker(node, timeout, extras)
    return finish_answer(result, steps, plot, definition, input_latex, start)


def _run_in_worker(tree: Node, timeout: float, extras: dict[str, bool]) -> dict[str, Any]:
    try:
        return run_in_worker(tree, timeout, extras)
    except WorkerError as exc:
        return make_result("none", reason=str(exc), text=f"cannot solve: {exc}")
