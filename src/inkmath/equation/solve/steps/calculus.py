"""Worked solutions of derivatives and integrals, one named rule at a time.

Derivatives (`derivative_steps`): each pass rewrites every `Derivative` still in the line by one rule (the sum
rule with the constant-multiple rule, the power rule, the derivatives of sin, cos, tan, e^x and ln x, the product,
quotient and chain rules), so a line shows some parts worked out and others still to do; a polynomial inside a
product or a chain is differentiated in one step. Then the result is simplified to the solver's form.

Integrals (`integral_steps`) of sums of number multiples of x^n, 1/x, e^x, sin x and cos x: term by term, then each
basic antiderivative, then + C for an indefinite integral (the solver writes its answer + C too); a definite one
gives its antiderivative in brackets, F(b) - F(a) with the limits put in, and the value. Anything else (by parts,
by substitution) raises `NoSteps`.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter

from inkmath.equation.solve.steps.base import (
    MAX_STEPS, NoSteps, Worked, arrange, evaluated, has_brackets, plain, same_line, terms, total,
)

INTEGRATION_CONSTANT = sp.Symbol("C")  # the "+ C" of an indefinite integral, as the solver writes it
U = sp.Symbol("u")  # the inner function named in the chain rule
OTHER_CALCULUS = ("a derivative, or an integral of powers of x, 1/x, e^x, sin x and cos x, gets steps on its own; "
                  "limits, sums, products, other integrals (by parts, by substitution) and a derivative or an integral "
                  "inside a larger expression or an equation are answered without steps")

SUM_RULE = "the sum rule: differentiate term by term"
CONSTANT_MULTIPLE = "the constant-multiple rule: a number factor stays in front"
NUMBER_RULE = "the derivative of a number is $0$"
POWER_RULE = r"the power rule: $\frac{d}{dx} x^{n} = n x^{n-1}$"
PRODUCT_RULE = r"the product rule: $\frac{d}{dx}(uv) = v \frac{du}{dx} + u \frac{dv}{dx}$"
QUOTIENT_RULE = r"the quotient rule: $\frac{d}{dx} \frac{u}{v} = \frac{v \frac{du}{dx} - u \frac{dv}{dx}}{v^{2}}$"

INTEGRAL_SUM_RULE = "the sum rule: integrate term by term"
INTEGRAL_CONSTANT_MULTIPLE = "the constant-multiple rule: a number factor stays in front of the integral"
INTEGRAL_POWER_RULE = r"the power rule: $\int x^{n}\,dx = \frac{x^{n+1}}{n+1}$ ($n \neq -1$)"
INTEGRAL_NUMBER_RULE = r"the integral of a number: $\int k\,dx = k x$"
INTEGRAL_RULES = {  # the other basic antiderivatives: integrand -> (antiderivative, the rule as a student reads it)
    "reciprocal": (lambda x: sp.log(sp.Abs(x)), r"$\int \frac{1}{x}\,dx = \ln\left|x\right|$"),
    "exp": (sp.exp, r"$\int e^{x}\,dx = e^{x}$"),
    "sin": (lambda x: -sp.cos(x), r"$\int \sin x\,dx = -\cos x$"),
    "cos": (sp.sin, r"$\int \cos x\,dx = \sin x$"),
}
ADD_CONSTANT = "add the constant of integration $C$"


class _CalculusLatex(LatexPrinter):
    """`steps_base.tex`'s LaTeX, with brackets around a product after d/dx (d/dx (3x), not d/dx 3 x), a dot
    between numbers put in for x (-4 · 1, not (-4) 1) and 1/1 for 1^{-1}."""

    def _print_Derivative(self, expr: sp.Derivative) -> str:
        if isinstance(expr.expr, sp.Mul):
            return rf"\frac{{d}}{{d {self._print(expr.variables[0])}}} \left({self._print(expr.expr)}\right)"
        return super()._print_Derivative(expr)

    def _print_Mul(self, expr: sp.Mul) -> str:
        if sum(a.is_Number for a in expr.args) < 2:
            return super()._print_Mul(expr)
        if expr.args[0] == -1:  # -(-5), not - -5
            return rf"- \left({self._print(sp.Mul(*expr.args[1:], evaluate=False))}\right)"
        shown = [self._print(a) for a in expr.args]
        return r" \cdot ".join([shown[0]] + [rf"\left({t}\right)" if t.startswith("-") else t for t in shown[1:]])

    def _print_Add(self, expr: sp.Add) -> str:  # SymPy's own negates a term, which works -5 · (-1) out
        out = self._print(expr.args[0])
        for term in expr.args[1:]:
            shown = self._print(term)
            out += f" - {shown[1:].lstrip()}" if shown.startswith("-") else f" + {shown}"
        return out

    def _print_Pow(self, expr: sp.Pow) -> str:
        if expr.base.is_Number and expr.exp.is_Integer and expr.exp < 0:
            bottom = expr.base if expr.exp == -1 else sp.Pow(expr.base, -expr.exp, evaluate=False)
            return rf"\frac{{1}}{{{self._print(bottom)}}}"
        return super()._print_Pow(expr)


def tex(expr: sp.Basic) -> str:
    """The LaTeX of a line in the order it was built, as `steps_base.tex`."""
    return _CalculusLatex({"order": "none", "inv_trig_style": "full", "ln_notation": True}).doprint(expr)


def _add(w: Worked, expr: sp.Basic, reason: str) -> None:
    w.add(expr, reason, tex(expr))


def _outer_derivative(g: sp.Basic, var: sp.Symbol) -> tuple[sp.Basic, sp.Basic, sp.Basic] | None:
    """(outer function of u as an expression in `U`, its derivative in `U`, the inner u) for sin, cos, tan, e^u,
    ln u and u^n with n a number (g evaluated: e^u is exp(u)); None for anything else."""
    derivatives = {sp.sin: sp.cos(U), sp.cos: -sp.sin(U), sp.tan: sp.cos(U) ** -2, sp.exp: sp.exp(U), sp.log: 1 / U}
    if type(g) in derivatives and g.args[0].has(var):
        return type(g)(U), derivatives[type(g)], g.args[0]
    if isinstance(g, sp.Pow) and g.exp.is_number and g.base.has(var):
        return U ** g.exp, g.exp * U ** (g.exp - 1), g.base
    return None


def _split_number(term: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """(number factor, the rest) of a term: 3x^2 -> (3, x^2), -x -> (-1, x)."""
    coefficient, rest = evaluated(term).as_coeff_Mul()
    return coefficient, arrange(rest)


def _times(coefficient: sp.Basic, expr: sp.Basic) -> sp.Basic:
    """coefficient · expr as written (1 · expr is expr, -1 · expr is -expr)."""
    return expr if coefficient == 1 else sp.Mul(coefficient, expr, evaluate=False)


def _differentiate_once(g: sp.Basic, var: sp.Symbol, whole: bool) -> tuple[sp.Basic, str]:
    """d/dvar g by one rule: (the result, still with `Derivative` parts where the rule leaves them, the rule's
    name). `whole`: g is the whole problem (a polynomial inside a product or chain is done in one step)."""
    value = evaluated(g)
    if not value.has(var):
        return sp.Integer(0), NUMBER_RULE
    if value == var or (isinstance(value, sp.Pow) and value.base == var and value.exp.is_number):
        return arrange(sp.diff(value, var)), POWER_RULE
    d_value = tex(sp.Derivative(arrange(value), var))
    if not whole and value.is_polynomial(var):
        derivative = arrange(sp.diff(value, var))
        return derivative, f"the power rule, term by term: ${d_value} = {tex(derivative)}$"
    if isinstance(value, sp.Add):
        parts = [_split_number(t) for t in value.as_ordered_terms()]
        pulled = any(c != 1 for c, rest in parts if rest.has(var))
        shown = [_times(c, sp.Derivative(rest, var)) if rest.has(var) else sp.Derivative(c * rest, var)
                 for c, rest in parts]
        return total(shown), SUM_RULE + ("; " + CONSTANT_MULTIPLE if pulled else "")
    coefficient, rest = _split_number(value)
    if coefficient != 1:
        return _times(coefficient, sp.Derivative(rest, var)), CONSTANT_MULTIPLE
    outer = _outer_derivative(value, var)
    if outer is not None:
        f, f_prime, inner = outer
        inner = arrange(inner)
        if inner == var:
            derivative = arrange(f_prime.xreplace({U: var}))
            rule = POWER_RULE if isinstance(f, sp.Pow) else \
                f"the derivative of ${tex(f.xreplace({U: var}))}$ is ${tex(derivative)}$"
            return derivative, rule
        chain = f"the chain rule with $u = {tex(inner)}$: $\\frac{{d}}{{dx}} {tex(f)} = {tex(f_prime)} \\cdot " \
                r"\frac{du}{dx}$"
        return sp.Mul(arrange(f_prime.xreplace({U: inner})), sp.Derivative(inner, var), evaluate=False), chain
    if isinstance(value, sp.Mul):
        num, den = sp.fraction(value, exact=True)  # x e^{-x} is a product, not x / e^{x}
        quotient = num.has(var) and den.has(var)
        first, *others = value.args
        u, v = (arrange(num), arrange(den)) if quotient else (arrange(first), arrange(sp.Mul(*others)))
        du, dv = sp.Derivative(u, var), sp.Derivative(v, var)
        if quotient:
            top = sp.Add(sp.Mul(v, du, evaluate=False), sp.Mul(-1, u, dv, evaluate=False), evaluate=False)
            rule = f"{QUOTIENT_RULE} with $u = {tex(u)}$, $v = {tex(v)}$"
            return sp.Mul(top, sp.Pow(sp.Pow(v, 2, evaluate=False), -1, evaluate=False), evaluate=False), rule
        rule = f"{PRODUCT_RULE} with $u = {tex(u)}$, $v = {tex(v)}$"
        return sp.Add(sp.Mul(v, du, evaluate=False), sp.Mul(u, dv, evaluate=False), evaluate=False), rule
    raise NoSteps(f"the derivative of ${plain(value)}$ is answered without steps (only powers, sin, cos, tan, e^x, "
                  "ln x and their sums, products, quotients and compositions get steps)")


def _derivative_pass(expr: sp.Basic, var: sp.Symbol, whole: bool) -> tuple[sp.Basic, list[str]]:
    """Rewrite every `Derivative` in expr by one rule; the rules used. A product of a derivative just worked out
    is multiplied out (3 · 2x is 6x); a sum and a fraction keep their parts as written."""
    if isinstance(expr, sp.Derivative):
        new, rule = _differentiate_once(expr.expr, var, whole)
        return new, [rule]
    if not expr.has(sp.Derivative):
        return expr, []
    args, rules = [], []
    for arg in expr.args:
        new, used = _derivative_pass(arg, var, False)
        args.append(new)
        rules += used
    if isinstance(expr, sp.Add):
        return total(args), rules
    worked_out = isinstance(expr, sp.Mul) and any(isinstance(a, sp.Derivative) for a in expr.args) \
        and not any(a.has(sp.Derivative) for a in args)
    if worked_out and args[0] == -1 and len(args) > 1:  # -(x - 2) · 1 is -(x - 2), not -x + 2
        return sp.Mul(-1, arrange(sp.Mul(*args[1:])), evaluate=False), rules
    if worked_out:
        return arrange(sp.Mul(*args)), rules
    return expr.func(*args, evaluate=False), rules


def derivative_steps(raw: sp.Derivative, value: sp.Basic, input_latex: str) -> Worked:
    """d/dx f, one rule per step, then simplified to the solver's `value`."""
    if len(raw.variable_count) != 1 or raw.variable_count[0][1] != 1:
        raise NoSteps("a second or partial derivative is answered without steps")
    var = raw.variables[0]
    w = Worked("derivative")
    w.add(raw, "the derivative", input_latex)
    current: sp.Basic = sp.Derivative(arrange(evaluated(raw.expr)), var)
    for _ in range(MAX_STEPS):
        if not current.has(sp.Derivative):
            break
        current, rules = _derivative_pass(current, var, whole=len(w.steps) == 1)
        _add(w, current, "; ".join(dict.fromkeys(rules)))
    _tidy(w, arrange(value), "factor" if has_brackets(value) else "simplify")
    return w


# ---------------------------------------------------------------- integrals


def _antiderivative(h: sp.Basic, var: sp.Symbol, coefficient: sp.Basic) -> tuple[sp.Basic, str, sp.Basic | None]:
    """∫ coefficient · h d(var) for a basic h: (the antiderivative as shown, the rule, h's exponent of var when h
    is a power of var, else None)."""
    if not h.has(var):
        return arrange(coefficient * h * var), INTEGRAL_NUMBER_RULE, sp.Integer(0)
    exponent = sp.Integer(1) if h == var else h.exp if isinstance(h, sp.Pow) and h.base == var else None
    if exponent is not None and exponent.is_number and exponent != -1:
        if not exponent.is_Integer or exponent < 0:  # x^{3/2} / (3/2) and x^{-2} / (-2) are shown worked out
            return arrange(coefficient * var ** (exponent + 1) / (exponent + 1)), INTEGRAL_POWER_RULE, exponent
        top = _times(abs(coefficient), sp.Pow(var, exponent + 1, evaluate=False))
        shown = sp.Mul(top, sp.Pow(exponent + 1, -1, evaluate=False), evaluate=False)  # 3x^3/3, before it is x^3
        return _times(sp.sign(coefficient), shown), INTEGRAL_POWER_RULE, exponent
    name = "reciprocal" if exponent == -1 else type(h).__name__
    if name not in INTEGRAL_RULES or (name != "reciprocal" and h.args[0] != var):
        raise NoSteps(OTHER_CALCULUS)
    antiderivative, rule = INTEGRAL_RULES[name]
    return arrange(coefficient * antiderivative(var)), rule, (exponent if name == "reciprocal" else None)


def _defined_between(exponent: sp.Basic | None, low: sp.Basic, high: sp.Basic) -> bool:
    """Is x^exponent defined at every number from low to high (sin, cos, e^x: exponent None, always)?"""
    if exponent is None or (exponent.is_Integer and exponent >= 0):
        return True
    if exponent.is_Integer:
        return bool(low > 0 or high < 0)
    return bool(low > 0 or (exponent > 0 and low >= 0))


def _substituted(expr: sp.Basic, var: sp.Symbol, point: sp.Basic) -> sp.Basic:
    """expr with the number `point` put in for var, not worked out (x^3 at 2 is 2^3)."""
    written = [evaluated(t) for t in terms(expr)]  # -5x as (-5)·x, so at -1 it reads -5 · (-1)
    with sp.evaluate(False):
        return total([t.xreplace({var: point}) for t in written])


def _minus(a: sp.Basic, b: sp.Basic) -> tuple[sp.Basic, str]:
    """a - b as written, and its LaTeX with b in brackets when it is a sum or starts with a minus: 1 - (-1)."""
    first, shown = tex(a), tex(b)
    if isinstance(a, sp.Add):
        first = rf"\left({first}\right)"
    if isinstance(b, sp.Add) or shown.startswith("-"):
        shown = rf"\left({shown}\right)"
    negated = -b if b.is_Number else sp.Mul(-1, b, evaluate=False)
    return sp.Add(a, negated, evaluate=False), f"{first} - {shown}"


def _tidy(w: Worked, final: sp.Basic, reason: str) -> None:
    """The last line in the solver's form, unless the line before has its terms already (in another order)."""
    written = [sorted("".join(tex(t).split()) for t in terms(line)) for line in (final, w.steps[-1].expr)]
    if written[0] != written[1]:
        _add(w, final, reason)


def _definite(w: Worked, found: list, var: sp.Symbol, low: sp.Basic, high: sp.Basic, value: sp.Basic) -> Worked:
    """[F(x)] from low to high, F(high) - F(low) with the numbers put in, each worked out, the value."""
    if not all(b.is_real and b.is_finite for b in (low, high)):
        raise NoSteps("an integral with a limit that is not a real number (∞, a letter) is answered without steps")
    if not all(_defined_between(exponent, min(low, high), max(low, high)) for _, _, exponent in found):
        raise NoSteps("the integrand is not defined at every number between the limits, so it has no steps")
    antiderivative = arrange(evaluated(sum(f for f, _, _ in found)))
    bracket = sp.Add(sp.Subs(antiderivative, var, high), -sp.Subs(antiderivative, var, low), evaluate=False)
    rules = "; ".join(dict.fromkeys(rule for _, rule, _ in found))
    w.add(bracket, f"an antiderivative, term by term: {rules}",
          rf"\left[ {tex(antiderivative)} \right]_{{{tex(low)}}}^{{{tex(high)}}}")
    at_high, at_low = (_substituted(antiderivative, var, b) for b in (high, low))
    difference, difference_latex = _minus(at_high, at_low)
    w.add(difference, f"the antiderivative at the upper limit ${tex(high)}$ minus at the lower limit ${tex(low)}$",
          difference_latex)
    numbers, numbers_latex = _minus(evaluated(at_high), evaluated(at_low))
    if not same_line(numbers_latex, w.steps[-1].latex):
        w.add(numbers, "work out each value", numbers_latex)
    _tidy(w, arrange(value), "work out")
    return w


def integral_steps(raw: sp.Integral, value: sp.Basic, input_latex: str) -> Worked:
    """∫ f dx term by term with the basic antiderivatives, + C; a definite one through F(b) - F(a)."""
    if len(raw.limits) != 1:
        raise NoSteps("a double integral is answered without steps")
    var, *bounds = raw.limits[0]
    parts = [_split_number(t) for t in evaluated(raw.function).as_ordered_terms()]
    found = [_antiderivative(h, var, c) for c, h in parts]
    w = Worked("integral")
    w.add(raw, "the integral", input_latex)
    if bounds:
        return _definite(w, found, var, *bounds, value)
    split = total([_times(c, sp.Integral(h, var)) if h.has(var) else sp.Integral(c * h, var) for c, h in parts])
    if not same_line(tex(split), tex(raw)):
        why = [INTEGRAL_SUM_RULE] if len(parts) > 1 else []
        why += [INTEGRAL_CONSTANT_MULTIPLE] if any(c != 1 for c, h in parts if h.has(var)) else []
        _add(w, split, "; ".join(why))
    rules = "; ".join(dict.fromkeys(rule for _, rule, _ in found))
    _add(w, total([*(f for f, _, _ in found), INTEGRATION_CONSTANT]), f"{rules}; {ADD_CONSTANT}")
    _tidy(w, total([arrange(value), INTEGRATION_CONSTANT]), "factor" if has_brackets(value) else "simplify")
    return w


def integration_variable(expr: sp.Basic) -> sp.Symbol | None:
    """The variable of an indefinite integral in expr (its lines are the same up to a constant), else None."""
    indefinite = [i for i in expr.atoms(sp.Integral) if len(i.limits[0]) == 1]
    return indefinite[0].limits[0][0] if indefinite else None


def calculus_steps(raw: list[sp.Basic], result: dict, input_latex: str) -> Worked:
    """The worked solution of a derivative or an integral in one variable with numbers, alone on its line."""
    values = result.get("values", [])
    if len(raw) != 1 or not isinstance(raw[0], (sp.Derivative, sp.Integral)) or len(values) != 1 \
            or "_expr" not in values[0]:
        raise NoSteps(OTHER_CALCULUS)
    problem = raw[0]
    var = problem.variables[0] if isinstance(problem, sp.Derivative) else problem.limits[0][0]
    if not problem.free_symbols <= {var}:
        raise NoSteps("a derivative or an integral with letters other than its variable is answered without steps")
    if isinstance(problem, sp.Derivative):
        return derivative_steps(problem, values[0]["_expr"], input_latex)
    return integral_steps(problem, values[0]["_expr"], input_latex)
