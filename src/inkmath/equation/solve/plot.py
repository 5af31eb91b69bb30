"""The graph of an answer: an SVG drawn by matplotlib (Agg, no pyplot, no GUI).

    attach_plot(result, items)   # result["plot"] = "<svg ...>" or None, result["plot_reason"] = why not

- an equation or inequality in one unknown: both sides as curves (or the function when one side is 0), the real
  solutions marked on the x axis;
- a system of two linear equations in two unknowns: the two lines and their intersection;
- an expression of one variable: its curve.
The window is chosen from the solutions (all of them in view, with a margin), the y range from the curves'
values there (robust to poles: percentiles, not min/max). Functions are evaluated with NumPy by walking the SymPy
tree (`numeric`), never by generating code (`lambdify` would exec text built from the input).
"""

from __future__ import annotations

import io
import math
from typing import Any, Callable

import numpy as np
import sympy as sp
from sympy.core.relational import Relational

from inkmath.equation.solve.text import period_counter
from inkmath.equation.solve.tosympy import PLUS_MINUS
from inkmath.equation.solve.tosympy_values import is_odd_root

MAX_LABEL_CHARS = 60  # a longer side is labelled "left side" / "right side" (huge numbers would fill the figure)
PLOT_POINTS = 600  # samples across the window
DEFAULT_HALF_WIDTH = 10.0  # x window [-10, 10] when there is no solution to centre on
TRIG_HALF_WIDTH = 2 * math.pi  # for periodic functions: two periods either side of 0
MIN_HALF_WIDTH = 3.0
MAX_COORDINATE = 1e9  # solutions beyond this are not drawn: a window around them has no float resolution left
Y_PERCENTILES = (3.0, 97.0)  # the y range covers these percentiles of the finite values (poles clipped)
FIGURE_SIZE = (5.0, 3.4)  # inches
MARGINS = {"left": 0.11, "right": 0.97, "bottom": 0.14, "top": 0.95}  # fractions of the figure
MAX_MARKED = 12  # solutions marked at most (a periodic family shows those in the window)
COLOURS = ("#1f6feb", "#d1242f", "#1a7f37")

_UNARY: dict[type, Callable[[np.ndarray], np.ndarray]] = {
    sp.sin: np.sin, sp.cos: np.cos, sp.tan: np.tan, sp.exp: np.exp, sp.log: np.log, sp.Abs: np.abs,
    sp.asin: np.arcsin, sp.acos: np.arccos, sp.atan: np.arctan, sp.sinh: np.sinh, sp.cosh: np.cosh,
    sp.tanh: np.tanh, sp.cot: lambda v: 1 / np.tan(v), sp.sec: lambda v: 1 / np.cos(v),
    sp.csc: lambda v: 1 / np.sin(v),
}


class NoPlot(Exception):
    """Nothing (sensible) to draw; the message says why."""


def preload() -> None:
    """Import matplotlib's figure and SVG writer now (the solver's worker does, before taking requests)."""
    try:
        import matplotlib.backends.backend_svg  # noqa: F401
        import matplotlib.figure  # noqa: F401
    except ImportError:  # plotting is optional; attach_plot reports its absence
        pass


def attach_plot(result: dict[str, Any], items: list[sp.Basic]) -> None:
    """Add `plot` (SVG text or None) and `plot_reason` to a solver result; never raises."""
    try:
        svg = plot_svg(items, result)
    except NoPlot as exc:
        result.update(plot=None, plot_reason=str(exc))
        return
    # The plotting boundary: NumPy, SymPy or matplotlib refusing odd input must not lose the answer.
    except Exception as exc:  # noqa: BLE001
        result.update(plot=None, plot_reason=f"the graph could not be drawn ({type(exc).__name__})")
        return
    result.update(plot=svg, plot_reason="")


def numeric(expr: sp.Basic, variables: dict[sp.Symbol, np.ndarray]) -> np.ndarray | float:
    """Values of a SymPy expression on NumPy arrays (NaN where undefined or not real)."""
    if expr in variables:
        return variables[expr]
    if expr.is_Number or expr.is_NumberSymbol:
        return float(expr)
    if isinstance(expr, sp.Add):
        return sum((numeric(a, variables) for a in expr.args), 0.0)
    if isinstance(expr, sp.Mul):
        out: Any = 1.0
        for a in expr.args:
            out = out * numeric(a, variables)
        return out
    if isinstance(expr, sp.Pow):
        base = np.asarray(numeric(expr.base, variables), dtype=float)
        with np.errstate(all="ignore"):
            if is_odd_root(expr.exp):  # x^{2/3} = (∛x)^2, real for x < 0 too, as the solver reads it (real_power)
                root = np.sign(base) * np.abs(base) ** (1.0 / int(expr.exp.q))
                return root ** int(expr.exp.p)
            return np.power(base, numeric(expr.exp, variables))  # x^{1/2}: NaN (not drawn) for x < 0
    func = _UNARY.get(expr.func)
    if func is not None and len(expr.args) == 1:
        with np.errstate(all="ignore"):
            return func(np.asarray(numeric(expr.args[0], variables), dtype=float))
    if isinstance(expr, sp.log) and len(expr.args) == 2:
        with np.errstate(all="ignore"):
            return np.log(numeric(expr.args[0], variables)) / np.log(numeric(expr.args[1], variables))
    raise NoPlot(f"the graph cannot draw {type(expr).__name__}")


def plot_svg(items: list[sp.Basic], result: dict[str, Any]) -> str:
    if result.get("kind") == "none":
        raise NoPlot(result.get("reason") or "nothing was solved")
    if any(item.has(PLUS_MINUS, sp.Sum, sp.Product, sp.Integral, sp.Limit, sp.Derivative) for item in items):
        raise NoPlot("sums, integrals, limits, derivatives and ± are not drawn")
    unknowns = sorted(set().union(*[i.free_symbols for i in items]), key=lambda s: s.name)
    if len(items) == 2 and len(unknowns) == 2:
        return _system(items, unknowns, result)
    if len(items) != 1:
        raise NoPlot("only one equation, expression or a system of two equations in two unknowns is drawn")
    if len(unknowns) != 1:
        raise NoPlot("the graph needs exactly one variable" if unknowns else "nothing to draw: there is no variable")
    item, var = items[0], unknowns[0]
    marks = _real_solutions(result, var)
    if any(abs(m) > MAX_COORDINATE for m in marks):
        raise NoPlot(f"a solution lies beyond ±{MAX_COORDINATE:g}, too far out to draw")
    periodic = item.has(sp.sin, sp.cos, sp.tan, sp.cot, sp.sec, sp.csc)
    lo, hi = _window(marks, periodic)
    xs = np.linspace(lo, hi, PLOT_POINTS)
    fig, ax = _figure()
    if isinstance(item, Relational):
        sides = [item.lhs, item.rhs]
        if item.rhs == 0:
            sides = [item.lhs]
        names = ["left side", "right side"]
        curves = [(_values(side, var, xs), _label(side, name)) for side, name in zip(sides, names)]
        if len(sides) == 1:
            curves.append((np.zeros_like(xs), "$0$"))
    else:
        curves = [(_values(item, var, xs), _label(item, "the expression"))]
    for (ys, label), colour in zip(curves, COLOURS):
        ax.plot(xs, ys, color=colour, linewidth=1.6, label=label)
    visible = [m for m in marks if lo <= m <= hi][:MAX_MARKED]
    for m in visible:
        y = _point_value(curves[0][0], xs, m)
        ax.plot([m], [y], "o", color="black", markersize=5, zorder=5)
        ax.axvline(m, color="grey", linewidth=0.6, linestyle=":")
    _y_range(ax, [c[0] for c in curves])
    ax.set_xlabel(f"${sp.latex(var)}$")  # θ, not theta
    if isinstance(item, Relational) and not isinstance(item, sp.Eq):
        ax.set_title(f"${sp.latex(item)}$", fontsize=10)
    return _finish(fig, ax)


def _label(expr: sp.Basic, fallback: str) -> str:
    text = sp.latex(expr)
    return f"${text}$" if len(text) <= MAX_LABEL_CHARS else fallback


def _values(expr: sp.Basic, var: sp.Symbol, xs: np.ndarray) -> np.ndarray:
    ys = np.asarray(numeric(expr, {var: xs}), dtype=float)
    return np.broadcast_to(ys, xs.shape).copy() if ys.shape != xs.shape else ys


def _point_value(ys: np.ndarray, xs: np.ndarray, x: float) -> float:
    i = int(np.argmin(np.abs(xs - x)))
    return float(ys[i]) if np.isfinite(ys[i]) else 0.0


def _real_solutions(result: dict[str, Any], var: sp.Symbol, half_width: float = 50.0) -> list[float]:
    """Real solutions as floats; a periodic family contributes its members near 0."""
    out: list[float] = []
    k = period_counter(var)  # as the solver wrote its families
    for sol in result.get("solutions", []):
        entry = sol.get(var.name)
        if not entry or "_expr" not in entry:
            continue
        expr = entry["_expr"]
        general = bool(entry.get("general"))
        values = [expr.subs(k, n) for n in range(-8, 9)] if general else [expr]
        for v in values:
            z = complex(sp.N(v))
            if abs(z.imag) < 1e-12 and (not general or abs(z.real) <= half_width):
                out.append(z.real)
    return sorted(set(round(v, 12) for v in out))


def _window(marks: list[float], periodic: bool) -> tuple[float, float]:
    if periodic:
        return -TRIG_HALF_WIDTH, TRIG_HALF_WIDTH
    if not marks:
        return -DEFAULT_HALF_WIDTH, DEFAULT_HALF_WIDTH
    lo, hi = min(marks), max(marks)
    centre, half = (lo + hi) / 2, max((hi - lo) / 2 * 1.5, MIN_HALF_WIDTH)
    return centre - half, centre + half


def _y_range(ax: Any, curves: list[np.ndarray]) -> None:
    values = np.concatenate([c[np.isfinite(c)] for c in curves]) if curves else np.array([])
    if values.size == 0:
        raise NoPlot("the function has no real values in the window")
    lo, hi = np.percentile(values, Y_PERCENTILES)
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    pad = max((hi - lo) * 0.1, 1.0)
    ax.set_ylim(lo - pad, hi + pad)


def _system(items: list[sp.Basic], unknowns: list[sp.Symbol], result: dict[str, Any]) -> str:
    x, y = unknowns
    lines = []
    for eq in items:
        if not isinstance(eq, sp.Eq):
            raise NoPlot("a system is drawn only when every line is an equation")
        f = sp.expand(eq.lhs - eq.rhs)
        if not f.is_polynomial(x, y) or sp.Poly(f, x, y).total_degree() > 1:
            raise NoPlot("only systems of two linear equations are drawn")
        lines.append((f.coeff(x, 1), f.coeff(y, 1), -f.subs({x: 0, y: 0})))  # a x + b y = c
    point = None
    for sol in result.get("solutions", []):
        if x.name in sol and y.name in sol and "_expr" in sol[x.name] and "_expr" in sol[y.name]:
            px, py = sol[x.name]["_expr"], sol[y.name]["_expr"]
            if px.is_number and py.is_number:
                point = (float(px), float(py))
    cx, cy = point if point is not None else (0.0, 0.0)
    if max(abs(cx), abs(cy)) > MAX_COORDINATE:
        raise NoPlot(f"the intersection lies beyond ±{MAX_COORDINATE:g}, too far out to draw")
    half = max(MIN_HALF_WIDTH * 2, abs(cx) * 0.6, abs(cy) * 0.6)
    xs = np.linspace(cx - half, cx + half, PLOT_POINTS)
    fig, ax = _figure()
    for number, ((a, b, c), eq, colour) in enumerate(zip(lines, items, COLOURS), 1):
        label = _label(eq, f"equation {number}")
        if b != 0:
            ax.plot(xs, float(c / b) - float(a / b) * xs, color=colour, linewidth=1.6, label=label)
        elif a != 0:
            ax.axvline(float(c / a), color=colour, linewidth=1.6, label=label)
    if point is not None:
        ax.plot([cx], [cy], "o", color="black", markersize=6, zorder=5)
        ax.annotate(f"$({sp.latex(sp.nsimplify(cx))}, {sp.latex(sp.nsimplify(cy))})$", (cx, cy),
                    textcoords="offset points", xytext=(6, 6), fontsize=9)
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_xlabel(f"${sp.latex(x)}$")
    ax.set_ylabel(f"${sp.latex(y)}$")
    return _finish(fig, ax)


def _figure() -> tuple[Any, Any]:
    from matplotlib.figure import Figure

    fig = Figure(figsize=FIGURE_SIZE)
    ax = fig.add_subplot()
    ax.axhline(0, color="black", linewidth=0.7)
    ax.axvline(0, color="black", linewidth=0.7)
    ax.grid(True, linewidth=0.4, alpha=0.5)
    return fig, ax


def _finish(fig: Any, ax: Any) -> str:
    import matplotlib

    ax.legend(loc="best", fontsize=8)
    fig.subplots_adjust(**MARGINS)  # fixed margins: tight_layout would draw the whole figure once more
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "inkmath"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()
