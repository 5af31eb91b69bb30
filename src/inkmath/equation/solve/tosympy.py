"""Expression tree -> SymPy objects, built directly: no `eval`, no `sympify`/`parse_expr` of text.

A Row is read as a flat sequence of lexemes (numbers, names, operators, brackets, and the 2-D nodes Frac, Sqrt,
BigOp and scripts; ``lexemes.lex``) by a small recursive-descent parser:

    line     := part (',' part)*
    part     := expr [relation expr]              relation: = < > \\leq \\geq \\neq
    expr     := term (('+' | '-' | '\\pm' | '\\mp') term)*
    term     := unary (('\\times' | '\\cdot' | '/' | '\\div') unary | postfix)*     (juxtaposition multiplies)
    unary    := ('-' | '+' | '\\pm' | '\\mp') unary | postfix
    postfix  := primary ('^{..}' | '!' | prime | '%')*
    primary  := number | name | ( expr ) | [ expr ] | \\{ expr \\} | | expr | | function arg | big-op operand
                | \\frac | \\sqrt | \\binom

Reading choices (documented here because a student's intent is not always unique):
- `e` is Euler's number when it carries a superscript (`e^{x}`), everywhere in a problem that writes one
  (`e^{x} = e`: x = 1), and as the natural logarithm's base or argument (`\\ln e` = 1, `\\log_{e} x` = ln x);
  elsewhere a bare `e` is a variable. `\\pi` is pi,
  `\\infty` is oo. `i` is a variable (it is usually an index), never the imaginary unit.
- An odd root of a negative number is the real one: `\\sqrt[3]{-8}` = `(-8)^{1/3}` = -2, `(-8)^{2/3}` = 4.
- `\\log x` is the base-10 logarithm, `\\ln x` the natural one, `\\log_{b} x` base b.
- `\\sin^{-1} x` is arcsin; any other power on a function applies to its value (`\\sin^{2} x` = (sin x)^2).
- A function argument without brackets runs over the following product of numbers, names, fractions and roots:
  `\\sin 2x` = sin(2x), `\\sin x \\cos y` = sin(x) cos(y), `\\sin x + 1` = sin(x) + 1.
- `f(x)` is f times x (there are no user-defined functions; `definitions.function_definition` takes a whole line
  `f(x) = body` as a definition and answers its body). Nested Rows are read as if flattened, like LaTeX
  reads `{...}`; the base of a script is one group (`{x+1}^{2}` = (x+1)^2).
- Subscripts name a symbol: `x_{1}` -> Symbol('x_1'), `x_{n-1}` -> Symbol('x_{n-1}'). Primes are part of a name.
- `\\pm` makes one expression with the marker symbol `PLUS_MINUS`; `expand_plus_minus` gives both branches.
- A whole number right before a proper fraction of whole numbers is a mixed number: `2\\frac{1}{2}` = 2 + 1/2
  (`lexemes.mixed_number`; the solver notes this reading). A product is written with a sign: `2 \\cdot \\frac{1}{2}`.
- `^{\\circ}` alone is degrees of angle: `\\sin 30^{\\circ}` = sin(pi/6) = 1/2; so is a lone `^{o}` after a number, and
  a lone `^{0}` after a number in the argument of sin, cos, tan, cot, sec or csc, which is how the reader writes a
  drawn degree sign (`lexemes.DEGREE_AS_READ`). An angle without any of them is in radians.
- `%` (typed `\\%`) after a number or bracket is hundredths: `15\\%` = 15/100, `20 \\cdot 15\\%` = 3,
  `200 + 10\\%` = 200 + 1/10 (not 10 % of 200, which is written `200 \\cdot 10\\%`; the solver notes this reading).
- `\\int f dx` needs its `d<variable>`; `\\sum`/`\\prod` need `_{i=a}^{b}`; `\\lim` needs `_{x \\rightarrow a}`.
  Their operand is the product that follows (like a function argument with brackets allowed).

The values of single pieces (numbers, names, powers, roots, factorials, binomials), with their size guards and the
real reading of odd roots, are built in `inkmath.equation.solve.tosympy_values`.
"""

from __future__ import annotations

import sympy as sp
from sympy.core.relational import Relational

from inkmath.errors import InkmathError
from inkmath.equation.core.latex import tokens
from inkmath.equation.solve.lexemes import (
    ADDITIVE, BRACKETS, CLOSERS, CONSTANTS, DEGREE, FUNCTIONS, INVERSES, PERCENT, RELATIONS, Lexeme, lex,
    mixed_number, normal_token)
from inkmath.equation.solve.tosympy_values import (binomial_value, check_defined, factorial_value, name_value, number_value,
                                             odd_root_of_negative, power_value, rebuilt, root_value)
from inkmath.equation.core.tree import BigOp, Binom, Frac, Lines, Node, Sqrt

PLUS_MINUS = sp.Symbol("±")  # marker for the sign of a \pm branch; replaced by +1 / -1 in expand_plus_minus
PER_CENT = 100  # 15% = 15 / PER_CENT


def to_sympy(node: Node) -> sp.Basic | list[sp.Basic]:
    """SymPy object for a tree: an expression, or a relation (`Eq(..., evaluate=False)`, `Lt`, ...) for a line
    with `=`/`<`/...; a list when the tree holds several (a `Lines` node, or parts separated by commas).

    Raises `InkmathError` naming the problem for malformed input (unbalanced brackets, a dangling operator, an
    unknown symbol, a division by zero, a number too large to build).
    """
    items = to_sympy_lines(node)
    if isinstance(node, Lines) or len(items) != 1:
        return items
    return items[0]


def to_sympy_lines(node: Node, raw: bool = False) -> list[sp.Basic]:
    """Like `to_sympy`, but always a list: one entry per line (and per comma-separated part).

    `raw=True` builds the same items without SymPy's automatic simplification (`2(x-1)` stays a product,
    `x/2 + x/3` stays a sum of two fractions), as written: the first line of a worked solution. Only call it on a
    tree that `raw=False` accepted (its checks for undefined values look at unevaluated objects).
    """
    rows = node.rows if isinstance(node, Lines) else [node]
    if not rows:
        raise InkmathError("nothing to evaluate: the tree has no lines")
    euler = writes_euler(node)
    out: list[sp.Basic] = []
    for number, row in enumerate(rows, 1):
        where = f"line {number}" if len(rows) > 1 else ""
        try:
            parser = (_RawParser if raw else _LexemeParser)(lex(row), where, euler)
            out.extend(parser.parse_line())
        except (TypeError, ValueError, ArithmeticError, RecursionError) as exc:
            # SymPy refusing to build something the parser accepted (none known); still a clear error, not a crash
            raise InkmathError(f"cannot build this expression in SymPy ({type(exc).__name__}: {exc})") from exc
    return out


def writes_euler(node: Node) -> bool:
    """Does the problem write e with a superscript (e^{x}), which makes e Euler's number throughout it?"""
    toks = tokens(node)
    return any(t == EULER_NAME.name and toks[i + 1] == "^" for i, t in enumerate(toks[:-1]))


def expand_plus_minus(expr: sp.Basic) -> list[sp.Basic]:
    """Both branches of an expression or relation written with `\\pm` (one entry when there is none)."""
    if not expr.has(PLUS_MINUS):
        return [expr]
    return [_replace(expr, {PLUS_MINUS: sp.Integer(1)}), _replace(expr, {PLUS_MINUS: sp.Integer(-1)})]


def _replace(expr: sp.Basic, mapping: dict) -> sp.Basic:
    if isinstance(expr, Relational):  # rebuild without evaluating, else Eq(2, 2) would collapse to True
        return type(expr)(expr.lhs.xreplace(mapping), expr.rhs.xreplace(mapping), evaluate=False)
    return expr.xreplace(mapping)


# ---------------------------------------------------------------- parsing


EULER_NAME = sp.Symbol("e")  # a bare e as the parser reads it (a variable)
DEGREES_IN_PI = 180  # 180 degrees make pi radians


class _LexemeParser:
    """Recursive descent over a row's lexemes into SymPy objects (no text is evaluated)."""

    def __init__(self, lexemes: list[Lexeme], where: str = "", euler: bool = False) -> None:
        self.lx = lexemes
        self.i = 0
        self.abs_depth = 0
        self.where = where
        self.euler = euler  # the problem writes e^{...}: every e in it is Euler's number

    # helpers
    def fail(self, message: str) -> InkmathError:
        text = " ".join(lx.describe() for lx in self.lx)
        place = f" on {self.where}" if self.where else ""
        return InkmathError(f"{message} (reading '{text}'{place})" if text else message + place)

    def peek(self) -> Lexeme | None:
        return self.lx[self.i] if self.i < len(self.lx) else None

    def at(self, *texts: str) -> bool:
        lx = self.peek()
        return lx is not None and lx.kind == "tok" and lx.text in texts

    def take(self) -> Lexeme:
        lx = self.peek()
        if lx is None:
            last = self.lx[-1].describe() if self.lx else "nothing"
            raise self.fail(f"the expression ends too early, after '{last}'; something is missing")
        self.i += 1
        return lx

    def sub(self, node: Node) -> sp.Basic:
        """One expression from a separate node (a numerator, an exponent, a limit)."""
        parser = type(self)(lex(node), self.where, self.euler)
        if not parser.lx:
            raise self.fail("an empty part (fraction, exponent, root or binomial) has nothing to evaluate")
        value = parser.parse_expr()
        if parser.peek() is not None:
            raise parser.fail(f"unexpected '{parser.peek().describe()}' inside a fraction, exponent or limit")
        return value

    # arithmetic (evaluated here; `_RawParser` keeps it as written)
    def add(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return a + b

    def neg(self, a: sp.Basic) -> sp.Basic:
        return -a

    def mul(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return a * b

    def div(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return a / b

    def power(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return power_value(a, b)

    def binomial(self, top: sp.Basic, bottom: sp.Basic) -> sp.Basic:
        return binomial_value(top, bottom)

    def percent(self, a: sp.Basic) -> sp.Basic:
        if a.is_Rational:  # 12.5% as the fraction 25/200 (raw: not 25/2 over 100)
            return self.div(sp.Integer(a.p), sp.Integer(a.q * PER_CENT))
        return self.div(a, sp.Integer(PER_CENT))

    def sqrt(self, a: sp.Basic) -> sp.Basic:
        return sp.sqrt(a)

    def apply(self, func, arg: sp.Basic) -> sp.Basic:
        return func(arg)

    # grammar
    def parse_line(self) -> list[sp.Basic]:
        if not self.lx:
            raise self.fail("nothing to evaluate: the line is empty")
        parts = [self.parse_part()]
        while self.at(","):
            self.take()
            parts.append(self.parse_part())
        if self.peek() is not None:
            lx = self.peek()
            if lx.kind == "tok" and lx.text in CLOSERS | {"|"}:
                raise self.fail(f"'{lx.text}' has no matching opening bracket")
            raise self.fail(f"unexpected '{lx.describe()}'")
        return parts

    def parse_part(self) -> sp.Basic:
        if self.peek() is None or self.at(","):
            raise self.fail("an empty part between commas")
        left = self.parse_expr()
        lx = self.peek()
        if lx is not None and lx.kind == "tok" and lx.text in RELATIONS:
            self.take()
            right = self.parse_expr()
            after = self.peek()
            if after is not None and after.kind == "tok" and after.text in RELATIONS:
                raise self.fail("more than one relation on a line; write each equation on its own line")
            return RELATIONS[lx.text](check_defined(left), check_defined(right), evaluate=False)
        return check_defined(left)

    def parse_expr(self) -> sp.Basic:
        value = self.parse_term()
        while self.at(*ADDITIVE):
            op = self.take().text
            right = self.parse_term()
            value = {
                "+": lambda: self.add(value, right), "-": lambda: self.add(value, self.neg(right)),
                "\\pm": lambda: self.add(value, self.mul(PLUS_MINUS, right)),
                "\\mp": lambda: self.add(value, self.neg(self.mul(PLUS_MINUS, right))),
            }[op]()
        return value

    def parse_term(self) -> sp.Basic:
        value = self.parse_unary()
        while True:
            if self.at("\\times", "\\cdot"):
                self.take()
                value = self.mul(value, self.parse_unary())
            elif self.at("/", "\\div"):
                self.take()
                right = self.parse_unary()
                if right == 0:
                    raise self.fail("division by zero")
                value = self.div(value, right)
            elif self.starts_factor():  # juxtaposition: 3x, 2(x-1), (a)(b), x y
                value = self.mul(value, self.parse_postfix())
            else:
                return value

    def starts_factor(self) -> bool:
        lx = self.peek()
        if lx is None:
            return False
        if lx.kind in ("num", "name", "func", "bigop", "atom"):
            return True
        return lx.kind == "tok" and (lx.text in BRACKETS or (lx.text == "|" and self.abs_depth == 0))

    def parse_unary(self) -> sp.Basic:
        if self.at("-"):
            self.take()
            return self.neg(self.parse_unary())
        if self.at("+"):
            self.take()
            return self.parse_unary()
        if self.at("\\pm", "\\mp"):
            sign = 1 if self.take().text == "\\pm" else -1
            term = self.mul(PLUS_MINUS, self.parse_unary())
            return term if sign == 1 else self.neg(term)
        return self.parse_postfix()

    def parse_postfix(self) -> sp.Basic:
        value, name = self.parse_primary()
        while True:
            lx = self.peek()
            if lx is not None and lx.kind == "pow":
                self.take()
                if name == "e":
                    value = sp.E  # e^{x}: Euler's number (a bare e stays a variable)
                value = self.power(value, self.sub(lx.node))
                name = None
            elif self.at("!"):
                self.take()
                value, name = factorial_value(value), None
            elif self.at(PERCENT):
                self.take()
                value, name = self.percent(value), None
            elif self.at(DEGREE):  # 30^{\circ}: an angle in degrees, as radians
                self.take()
                value, name = self.mul(value, self.div(sp.pi, sp.Integer(DEGREES_IN_PI))), None
            elif self.at("\\prime"):
                self.take()
                if name is None or name in CONSTANTS:
                    raise self.fail("a prime can only follow a variable name (y', f')")
                name += "'"
                value = sp.Symbol(name.lstrip("\\"))
            else:
                return value

    def parse_primary(self) -> tuple[sp.Basic, str | None]:
        lx = self.take()
        if lx.kind == "num":
            mixed = mixed_number(self.lx, self.i - 1)
            if mixed is not None:  # 2\frac{1}{2}: the whole number plus the fraction, one number (5/2)
                self.take()
                whole, numerator, denominator = mixed
                return sp.Rational(whole * denominator + numerator, denominator), None
            return number_value(lx.text), None
        if lx.kind == "name":
            if self.euler and lx.text == EULER_NAME.name:
                return sp.E, None
            return name_value(lx.text), lx.text
        if lx.kind == "atom":
            return self.atom(lx.node), None
        if lx.kind == "func":
            return self.function(lx), None
        if lx.kind == "bigop":
            return self.big_operator(lx.node), None
        if lx.kind == "pow":
            raise self.fail(f"the superscript '{lx.describe()}' has nothing before it")
        if lx.text in BRACKETS:
            return self.bracketed(lx.text), None
        if lx.text == "|":
            self.abs_depth += 1
            inner = self.parse_expr()
            if not self.at("|"):
                raise self.fail("an absolute value '|' is never closed")
            self.take()
            self.abs_depth -= 1
            return sp.Abs(inner), None
        if lx.text in CLOSERS:
            raise self.fail(f"'{lx.text}' has no matching opening bracket, or something is missing before it")
        if lx.text == PERCENT:
            raise self.fail("'\\%' needs a number before it, as in 15\\% (per cent: 15/100)")
        raise self.fail(f"'{lx.text}' comes where a number or variable was expected; a term is missing")

    def bracketed(self, opener: str) -> sp.Basic:
        saved, self.abs_depth = self.abs_depth, 0
        if self.peek() is None:
            raise self.fail(f"'{opener}' is never closed")
        inner = self.parse_expr()
        closer = self.peek()
        if closer is None or (closer.kind == "tok" and closer.text in (*RELATIONS, ",")):
            raise self.fail(f"'{opener}' is never closed")
        if not (closer.kind == "tok" and closer.text == BRACKETS[opener]):
            if closer.kind == "tok" and closer.text in CLOSERS:
                raise self.fail(f"'{opener}' is closed by '{closer.text}'")
            raise self.fail(f"unexpected '{closer.describe()}' before '{BRACKETS[opener]}'")
        self.take()
        self.abs_depth = saved
        return inner

    def atom(self, node: Node) -> sp.Basic:
        if isinstance(node, Frac):
            variable = self.derivative_variable(node)
            if variable is not None:
                return sp.Derivative(self.operand("d/d" + str(variable)), variable)
            num, den = self.sub(node.num), self.sub(node.den)
            if den == 0:
                raise self.fail("division by zero in a fraction")
            return self.div(num, den)
        if isinstance(node, Sqrt):
            body = self.sub(node.body)
            if node.index is None or not lex(node.index):
                return self.sqrt(body)
            return root_value(body, self.sub(node.index))
        if isinstance(node, Binom):
            return self.binomial(self.sub(node.top), self.sub(node.bottom))
        return self.sub(node)  # a grouped base such as {x+1} in {x+1}^{2}

    def derivative_variable(self, frac: Frac) -> sp.Symbol | None:
        """x for the operator d/dx; an error for dy/dx (an unknown function's derivative); None otherwise."""
        num, den = lex(frac.num), lex(frac.den)
        is_d = lambda lx: lx.kind == "name" and lx.text == "d"  # noqa: E731
        if len(den) == 2 and is_d(den[0]) and den[1].kind == "name" and num and is_d(num[0]):
            if len(num) == 1:
                return sp.Symbol(den[1].text.lstrip("\\"))
            raise self.fail("a derivative of an unknown function (dy/dx) cannot be evaluated")
        return None

    def operand(self, what: str) -> sp.Basic:
        if self.peek() is None or self.at(*RELATIONS, ",", *CLOSERS):
            raise self.fail(f"{what} has no operand after it")
        return self.parse_term()

    def function(self, lx: Lexeme) -> sp.Basic:
        name = lx.text
        func = FUNCTIONS[name]
        power = self.sub(lx.sup) if lx.sup is not None else None
        if power == -1 and name in INVERSES:
            func, power = INVERSES[name], None
        arg = self.function_argument(name)
        if name == "\\ln" and arg == EULER_NAME:  # ln e: the logarithm's own base, Euler's number
            arg = sp.E
        if name == "\\log":
            base = self.sub(lx.node) if lx.node is not None else sp.Integer(10)
            base = sp.E if base == EULER_NAME else base
            value = sp.log(sp.E if arg == EULER_NAME and base is sp.E else arg, base)
        else:
            value = self.apply(func, arg)
        return value if power is None else self.power(value, power)

    def function_argument(self, name: str) -> sp.Basic:
        lx = self.peek()
        if lx is None or (lx.kind == "tok" and lx.text not in BRACKETS and lx.text not in {"|", "-", "+"}):
            raise self.fail(f"{name} needs an argument")
        if lx.kind == "tok" and lx.text in BRACKETS:
            return self.bracketed(self.take().text)
        sign = 1
        if self.at("-", "+"):
            sign = -1 if self.take().text == "-" else 1
        value = self.parse_postfix()
        while self.peek() is not None and self.peek().kind in ("num", "name", "atom"):
            value = self.mul(value, self.parse_postfix())
        return value if sign == 1 else self.neg(value)

    def big_operator(self, op: BigOp) -> sp.Basic:
        name = normal_token(op.op)
        if name == "\\int":
            return self.integral(op)
        if name in ("\\sum", "\\prod"):
            if op.lower is None or op.upper is None:
                raise self.fail(f"{name} needs limits like _{{i=1}}^{{n}} to be evaluated")
            relation = type(self)(lex(op.lower), self.where, self.euler).parse_line()
            if len(relation) != 1 or not isinstance(relation[0], sp.Eq) or not relation[0].lhs.is_Symbol:
                raise self.fail(f"the lower limit of {name} must read like i=1")
            variable, start = relation[0].lhs, relation[0].rhs
            stop = self.sub(op.upper)
            body = self.operand(name)
            cls = sp.Sum if name == "\\sum" else sp.Product
            try:
                return cls(body, (variable, start, stop))
            except (NotImplementedError, ValueError) as exc:  # SymPy refuses such limits (e.g. i = i)
                raise self.fail(f"cannot evaluate this {name}: {exc}") from None
        if name == "\\lim":
            variable, target, direction = self.limit_spec(op)
            try:
                return sp.Limit(self.operand(name), variable, target, direction)
            except (NotImplementedError, ValueError) as exc:  # e.g. a limit approaching its own variable (z -> z)
                raise self.fail(f"cannot evaluate this limit: {exc}") from None
        raise self.fail(f"cannot evaluate the operator {op.op}")

    def integral(self, op: BigOp) -> sp.Basic:
        # The integrand runs up to its own d<variable>; nested integrals each consume one (\int\int f dx dy).
        depth, nesting, j = 0, 1, self.i
        bars: list[int] = []  # the depths at which an absolute value's '|' opened
        while j < len(self.lx):
            lx = self.lx[j]
            if lx.kind == "tok" and lx.text == "|" and bars and bars[-1] == depth - 1:
                bars.pop()  # the closing bar of |x| (an opening one is counted as a bracket below)
                depth -= 1
            elif lx.kind == "tok" and lx.text == "|":
                bars.append(depth)
                depth += 1
            elif lx.kind == "tok" and lx.text in BRACKETS:
                depth += 1
            elif lx.kind == "tok" and lx.text in CLOSERS:
                depth -= 1
            elif lx.kind == "bigop" and normal_token(lx.text) == "\\int":
                nesting += 1
            elif depth == 0 and lx.kind == "name" and lx.text == "d" and j + 1 < len(self.lx):
                nxt = self.lx[j + 1]
                if nxt.kind == "name" and nxt.text not in CONSTANTS:
                    nesting -= 1
                    if nesting == 0:
                        break
            j += 1
        else:
            raise self.fail("an integral needs its variable written as dx (or dt, ...) after the integrand")
        inner = type(self)(self.lx[self.i : j], self.where, self.euler)
        body = inner.parse_expr() if inner.lx else sp.Integer(1)
        if inner.peek() is not None:
            raise inner.fail(f"unexpected '{inner.peek().describe()}' in the integrand")
        variable = sp.Symbol(self.lx[j + 1].text.lstrip("\\"))
        self.i = j + 2
        if (op.lower is None) != (op.upper is None):
            raise self.fail("a definite integral needs both a lower and an upper limit")
        if op.lower is None:
            return sp.Integral(body, variable)
        return sp.Integral(body, (variable, self.sub(op.lower), self.sub(op.upper)))

    def limit_spec(self, op: BigOp) -> tuple[sp.Symbol, sp.Basic, str]:
        lexemes = lex(op.lower) if op.lower is not None else []
        arrows = [k for k, lx in enumerate(lexemes) if lx.kind == "tok" and lx.text == "\\rightarrow"]
        if len(arrows) != 1 or arrows[0] != 1 or lexemes[0].kind != "name":
            raise self.fail("\\lim needs a limit written like x \\rightarrow 0 under it")
        target_lx = lexemes[2:]
        direction = "+-"
        last = target_lx[-1] if target_lx else None
        if last is not None and last.kind == "pow":  # 0^{+}: a one-sided limit
            sign = tokens(last.node)
            if sign in (["+"], ["-"]):
                direction, target_lx = sign[0], target_lx[:-1]
        target = type(self)(target_lx, self.where, self.euler)
        if not target.lx:
            raise self.fail("\\lim needs a value after the arrow")
        value = target.parse_expr()
        if target.peek() is not None:
            raise target.fail(f"unexpected '{target.peek().describe()}' in the limit")
        if value in (sp.oo, -sp.oo):  # SymPy wants the side from which infinity is approached
            direction = "-" if value == sp.oo else "+"
        return sp.Symbol(lexemes[0].text.lstrip("\\")), value, direction


class _RawParser(_LexemeParser):
    """The same grammar, building SymPy objects without automatic simplification (`evaluate=False` on each
    operation, not SymPy's global switch, whose results could leak through SymPy's cache into other threads)."""

    def add(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return sp.Add(a, b, evaluate=False)

    def neg(self, a: sp.Basic) -> sp.Basic:
        if a.is_Number:
            return -a
        return sp.Mul(sp.Integer(-1), a, evaluate=False)

    def mul(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return sp.Mul(a, b, evaluate=False)

    def div(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        if a == 1:
            return sp.Pow(b, -1, evaluate=False)
        return sp.Mul(a, sp.Pow(b, -1, evaluate=False), evaluate=False)

    def power(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        base, exponent = rebuilt(a), rebuilt(b)
        value = power_value(base, exponent)  # its size and division-by-zero checks
        if odd_root_of_negative(base, exponent):
            return value  # the real root, as the evaluated reading has it
        return sp.Pow(a, b, evaluate=False)

    def sqrt(self, a: sp.Basic) -> sp.Basic:
        return sp.Pow(a, sp.Rational(1, 2), evaluate=False)

    def binomial(self, top: sp.Basic, bottom: sp.Basic) -> sp.Basic:
        binomial_value(rebuilt(top), rebuilt(bottom))  # its size check
        return sp.binomial(top, bottom, evaluate=False)

    def apply(self, func, arg: sp.Basic) -> sp.Basic:
        try:
            return func(arg, evaluate=False)
        except TypeError:  # a function without the keyword (sqrt, exp's helpers)
            return func(arg)
