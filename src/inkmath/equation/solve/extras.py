"""The optional parts of an answer: the worked solution (`steps`) and the graph (`plot`), added after the solver
answered, inside the same time limit (see `inkmath.equation.solve.answer.answer`)."""

from __future__ import annotations

import signal
import time
from typing import TYPE_CHECKING, Any

from inkmath.equation.core.tree import Node
from inkmath.equation.solve.definitions import worded_as_definition

if TYPE_CHECKING:  # the caller of `fill_extras` may be a process that leaves SymPy to its solver worker
    import sympy as sp

EXTRAS_MARGIN = 0.25  # seconds kept for sending the answer back when steps or a plot are cut short


class _ExtrasTimeout(BaseException):  # passes through the "except Exception" boundaries of steps and plot
    """Raised by the worker's alarm when steps or a plot would make the whole answer miss its deadline."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise _ExtrasTimeout


def with_extras(result: dict[str, Any], tree: Node, items: list[sp.Basic], extras: dict[str, bool],
                deadline: float | None = None) -> dict[str, Any]:
    """Add the worked solution and the graph when asked, then drop the SymPy objects kept for them (`_expr`).

    In the worker (`deadline` given) each runs under a timer that stops it `EXTRAS_MARGIN` before the deadline,
    so slow steps or a slow graph cost only themselves ("took too long"), never the answer already computed.
    In-process (cheap input, no deadline) they run as they are: cheap input makes them cheap too.
    `extras["mathml"] = False` leaves each step's MathML to the caller (`add_step_mathml`).
    """
    for name in ("steps", "plot"):
        if not extras.get(name):
            continue
        left = None if deadline is None else deadline - time.monotonic() - EXTRAS_MARGIN
        try:
            if left is not None:
                if left <= 0:
                    raise _ExtrasTimeout
                signal.signal(signal.SIGALRM, _on_alarm)
                signal.setitimer(signal.ITIMER_REAL, left)
            try:
                if name == "steps":
                    from inkmath.equation.solve.steps.worked import attach_steps

                    attach_steps(result, tree, items, extras.get("mathml", True))
                else:
                    from inkmath.equation.solve.plot import attach_plot

                    attach_plot(result, items)
            finally:
                if left is not None:
                    signal.setitimer(signal.ITIMER_REAL, 0)
        except _ExtrasTimeout:
            what = "the worked solution" if name == "steps" else "the graph"
            result.update({name: [] if name == "steps" else None,
                           f"{name}_reason": f"{what} took too long (the answer's limit is shared); it is left out"})
        # attach_* never raise on input; this guards the answer against an import or environment failure
        except Exception as exc:  # noqa: BLE001
            result.update({name: [] if name == "steps" else None, f"{name}_reason": f"{name} failed ({exc})"})
    for entry in _entries(result):
        entry.pop("_expr", None)
    return result


def _entries(result: dict[str, Any]) -> list[dict[str, Any]]:
    solutions = result.get("solutions", []) + result.get("complex_solutions", [])
    out = [entry for solution in solutions for entry in solution.values()]
    return out + list(result.get("values", []))


def add_step_mathml(result: dict[str, Any]) -> None:
    """Give each step of `result` its `mathml`, when a worker left it out: a one-problem command's worker would
    otherwise import latex2mathml (~0.1 s here) while the caller, which has imported it already, waits."""
    steps = result.get("steps") or []
    if any("mathml" not in step for step in steps):
        from inkmath.equation.core.latex import to_mathml

        for step in steps:
            step.setdefault("mathml", to_mathml(step["latex"]))


def fill_extras(result: dict[str, Any], steps: bool, plot: bool) -> None:
    """Give every answer the asked-for fields, also when it never reached the steps (timeout, unreadable input)."""
    why = result.get("reason") or "nothing was solved"
    if steps and "steps" not in result:
        result.update(steps=[], steps_reason=why)
    if plot and "plot" not in result:
        result.update(plot=None, plot_reason=why)


def preload_plotting() -> None:
    """Import matplotlib before the worker says it is ready: importing it takes 1-5 s here, which would otherwise
    count against the time limit of the first request that asks for a graph."""
    from inkmath.equation.solve.plot import preload

    preload()


def finish_answer(result: dict[str, Any], steps: bool, plot: bool, definition: tuple | None, input_latex: str,
                  start: float) -> dict[str, Any]:
    """What every answer ends with, in this process or from a worker: the extras asked for filled in
    (``fill_extras``), a function definition's wording (``definitions.worded_as_definition``; ``definition`` as
    ``function_definition`` returns it), the input's LaTeX and the seconds since ``start``."""
    fill_extras(result, steps, plot)
    if definition is not None:
        worded_as_definition(result, *definition[:2])
    result["input_latex"] = input_latex
    result["elapsed_s"] = round(time.perf_counter() - start, 4)
    return result
