"""Worked solutions of polynomial equations of degree 3 and 4 with a common factor, a rational root or only even
powers of the unknown.

Steps: every term to the left side; then the polynomial as a product: a common factor c·x^k taken out, and a root
found by the rational-root test (p/q with p dividing the constant term and q the leading coefficient) divided out
as often as needed, until every factor has degree 1 or 2; or, for a biquadratic ax⁴ + bx² + c, the quadratic in
u = x², then x² = u back. Then the zero-product rule and each factor solved with the linear and quadratic steps
(`steps_linear`); a quadratic factor without a real root says so. A line in u is the SymPy object
`Subs(line in u, u, x**2)`, which the checker reads as the line with x² in place of u. Anything else of degree 3
or 4 (no rational root, no common factor), and any higher degree, gets no steps.
"""

from __future__ import annotations

import sympy as sp

from inkmath.equation.solve.steps.base import NoSteps, OR_TEX, Worked, arrange, equation, evaluated, plain, same_line, tex
from inkmath.equation.solve.steps.linear import ordered_roots, quadratic_steps, standard_form

DEGREES = (3, 4)  # cubic and quartic, what a school factors by hand; `check_linear_or_quadratic` refuses degree 5+
MAX_CANDIDATES = 200  # ±p/q for the rational-root test: a school exercise has dozens; thousands take seconds
SUBSTITUTE_NAMES = ("u", "t", "v")  # the letter for x² in a biquadratic: the first that is not the unknown


def is_cubic_or_quartic(f: sp.Basic, var: sp.Symbol) -> bool:
    return f.is_polynomial(var) and sp.degree(f, var) in DEGREES


def polynomial_steps(raw: sp.Eq, var: sp.Symbol, input_latex: str) -> Worked:
    f = sp.expand(evaluated(raw.lhs - raw.rhs))
    if not all(c.is_Rational for c in sp.Poly(f, var).all_coeffs()):
        raise NoSteps("an equation of degree 3 or 4 gets steps when its coefficients are whole numbers or fractions")
    w = Worked("polynomial", variables=[var])
    w.add(raw, "the equation", input_latex)
    written = _written_factors(raw, var)
    if written:
        _solve_factors(w, written, var)
        return w
    standard_form(w, raw, f)
    degrees = {m[0] for m in sp.Poly(f, var).monoms()}
    if degrees <= {4, 2, 0} and 0 in degrees:  # a x^4 + b x^2 + c with c != 0 (else x^2 is a common factor)
        _biquadratic(w, f, var)
    else:
        _solve_factors(w, _factorise(w, f, var), var)
    return w


def _written_factors(raw: sp.Eq, var: sp.Symbol) -> list[sp.Basic]:
    """The factors with the unknown of a product written equal to zero, x(x^2 - 4) = 0, when each has degree 1 or 2
    (none otherwise): the zero-product rule applies as written."""
    if raw.rhs != 0 or not isinstance(raw.lhs, sp.Mul):
        return []
    factors = [g for g in raw.lhs.args if g.has(var)]
    if len(factors) < 2 or any(sp.degree(sp.expand(evaluated(g)), var) > 2 for g in factors):
        return []
    return [evaluated(g) for g in factors]


def _factorise(w: Worked, f: sp.Basic, var: sp.Symbol) -> list[sp.Basic]:
    """f as a product, a step for the common factor and one for each rational root divided out; returns the
    factors with the unknown (x^k, linear ones, and the last of degree 1 or 2)."""
    poly = sp.Poly(f, var)
    content, _ = poly.primitive()
    content *= sp.sign(poly.LC())
    (k,), _ = poly.terms_gcd()
    common = content * var**k
    rest = sp.expand(f / common)
    if k:
        w.add(equation(sp.Mul(arrange(common), arrange(rest), evaluate=False), 0), f"factor out ${plain(common)}$")
    elif content != 1:
        reason = f"divide both sides by ${plain(content)}$" if content.is_Integer and content != -1 else \
            f"multiply both sides by ${plain(1 / content)}$"
        w.add(equation(arrange(rest), 0), reason)
    shown = [arrange(common)] if k else []  # the common factor stays in the product; a number divided away does not
    found: list[sp.Basic] = []
    while sp.degree(rest, var) > 2:
        factor, reason = _rational_root(rest, var)
        rest = sp.quo(rest, factor, var)
        found.append(factor)
        w.add(equation(sp.Mul(*shown, *[arrange(g) for g in found], arrange(rest), evaluate=False), 0), reason)
    return [*([var**k] if k else []), *found, rest]


def _rational_root(g: sp.Basic, var: sp.Symbol) -> tuple[sp.Basic, str]:
    """A linear factor qx − p of g (integer coefficients, constant term not 0) from its rational root p/q, and the
    reason that shows the test; NoSteps when no candidate is a root."""
    poly = sp.Poly(g, var)
    constant, leading = int(abs(poly.TC())), int(abs(poly.LC()))
    if 2 * sp.divisor_count(constant) * sp.divisor_count(leading) > MAX_CANDIDATES:
        raise NoSteps(f"the rational-root test would try more than {MAX_CANDIDATES} numbers: this equation of degree "
                      f"{poly.degree()} is answered without steps")
    candidates = [sp.Rational(sign * p, q) for q in sp.divisors(leading) for p in sp.divisors(constant)
                  for sign in (1, -1) if sp.gcd(p, q) == 1]
    tried = f"the divisors of ${constant}$ and their negatives" if leading == 1 else \
        f"$\\pm\\frac{{p}}{{q}}$ with $p$ dividing ${constant}$ and $q$ dividing ${leading}$"
    for n, r in enumerate(candidates):
        if poly.eval(r) != 0:
            continue
        values = sp.Add(*[c * r**e for (e,), c in poly.terms()], evaluate=False)
        missed = ""
        if n:
            listed = ", ".join(f"${tex(var)} = {plain(c)}$" for c in candidates[:n])
            missed = f" ({listed} {'is not a root' if n == 1 else 'are not roots'})"
        factor = sp.expand(r.q * var - r.p)
        return factor, (f"try {tried}{missed}: ${tex(var)} = {plain(r)}$ gives ${tex(values)} = 0$, so "
                        f"${plain(factor)}$ is a factor; divide by it")
    raise NoSteps(f"this equation of degree {poly.degree()} has no rational root and no common factor to take "
                  "out: it is answered without steps")


def _solve_factors(w: Worked, factors: list[sp.Basic], var: sp.Symbol) -> None:
    """From a product equal to zero to the roots: one equation per factor; the linear ones (and powers of them)
    solved in one step, each quadratic one with its own steps; then the roots in order."""
    parts = [(equation(arrange(g), 0), tex(equation(arrange(g), 0))) for g in factors]
    _add_line(w, parts, "a product is zero when one of its factors is zero")
    linear = [i for i, g in enumerate(factors) if sp.degree(_base(g), var) == 1]
    if any(factors[i] != var for i in linear):
        for i in linear:
            root = sp.solve(_base(factors[i]), var)[0]
            parts[i] = (equation(var, root), tex(equation(var, root)))
        reasons = []
        if any(not isinstance(factors[i], sp.Pow) and factors[i] != var for i in linear):
            reasons.append("solve each linear equation")
        if any(isinstance(factors[i], sp.Pow) for i in linear):
            reasons.append("a power is zero only when its base is zero")
        _add_line(w, parts, "; ".join(reasons))
    for i, g in enumerate(factors):
        if i in linear:
            continue
        named = f"for ${tex(equation(arrange(g), 0))}$, "
        sub = quadratic_steps(equation(arrange(g), 0), var, tex(equation(arrange(g), 0)))
        for step in sub.steps[1:]:
            parts[i] = (step.expr, step.latex)
            _add_line(w, parts, named + step.reason)
    roots = [eq.rhs for expr, _ in parts for eq in sp.Or.make_args(expr) if isinstance(eq, sp.Eq)]
    ordered = ordered_roots(roots)
    final = [equation(var, r) for r in ordered]
    if ordered and not same_line(OR_TEX.join(tex(e) for e in final), w.steps[-1].latex):
        twice = [r for r in ordered if roots.count(r) > 1]
        w.add_either(final, "the solutions in increasing order"
                     + "".join(f"; ${tex(var)} = {plain(r)}$ is a double root" for r in twice))


def _base(g: sp.Basic) -> sp.Basic:
    return g.base if isinstance(g, sp.Pow) else g


def _add_line(w: Worked, parts: list[tuple[sp.Basic, str]], reason: str) -> None:
    """A step "part or part or ...", leaving out parts without a real solution ("no real solution" if all are)."""
    kept = [(expr, latex) for expr, latex in parts if expr is not sp.false]
    if not kept:
        w.add(sp.false, reason, latex=r"\text{no real solution}")
        return
    alternatives = [a for expr, _ in kept for a in sp.Or.make_args(expr)]
    expr = alternatives[0] if len(alternatives) == 1 else sp.Or(*alternatives, evaluate=False)
    w.add(expr, reason, latex=OR_TEX.join(latex for _, latex in kept))


def _square_root(v: sp.Basic) -> sp.Basic:
    """√v for v > 0, a nested root undone where it can be: √((3 + √5)/2) = (1 + √5)/2, as √(v·d²)/d."""
    den = sp.fraction(sp.together(v))[1]
    return sp.radsimp(sp.sqrtdenest(sp.sqrt(sp.expand(v * den**2))) / den)


def _biquadratic(w: Worked, f: sp.Basic, var: sp.Symbol) -> None:
    """a x^4 + b x^2 + c = 0: the quadratic in u = x^2 with its steps, then x^2 = u and square roots."""
    u = sp.Symbol(next(n for n in SUBSTITUTE_NAMES if n != var.name))
    square = var**2
    quadratic = equation(arrange(sp.expand(f).subs(square, u)), 0)
    where = f",\\quad {tex(u)} = {tex(square)}"
    w.add(sp.Subs(quadratic, u, square), f"only even powers of ${tex(var)}$: write ${tex(u)} = {tex(square)}$, a "
                                         f"quadratic equation in ${tex(u)}$", latex=tex(quadratic) + where)
    sub = quadratic_steps(quadratic, u, tex(quadratic))
    for step in sub.steps[1:]:
        if step.expr is sp.false:
            w.add(sp.false, step.reason + f"; with no real ${tex(u)}$ there is no real ${tex(var)}$",
                  latex=r"\text{no real solution}")
            return
        w.add(sp.Subs(step.expr, u, square), step.reason, latex=step.latex + where)
    values = ordered_roots([eq.rhs for eq in sp.Or.make_args(w.steps[-1].expr.expr)])
    w.add_either([equation(square, v) for v in values], f"put back ${tex(u)} = {tex(square)}$")
    roots, said = [], []
    for v in values:
        if v < 0:  # not 0: the constant term is not 0
            said.append(f"${tex(equation(square, v))}$ has no real solution (a square is never negative)")
        else:
            root = _square_root(v)
            roots += [-root, root]
            shown = rf"\left({tex(root)}\right)" if isinstance(root, sp.Add) else tex(root)
            said.append(f"${tex(equation(square, v))}$ gives ${tex(var)} = \\pm {shown}$")
    reason = "take square roots: " + "; ".join(said)
    if not roots:
        w.add(sp.false, reason, latex=r"\text{no real solution}")
        return
    w.add_either([equation(var, r) for r in ordered_roots(roots)], reason)
