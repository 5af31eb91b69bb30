"""A row of the expression tree as the flat sequence of lexemes that ``tosympy``'s parser reads: numbers (digits
written side by side are one number), names (a letter, a Greek letter, a subscripted name, a constant), functions,
big operators, operators, relations and brackets, and the 2-D nodes (Frac, Sqrt, Binom) as atoms; a superscript
becomes a ``pow`` lexeme, or primes. The token vocabulary is defined here: the spellings taken as one (``_ALIASES``), and
the tables the parser reads too (``RELATIONS``, ``FUNCTIONS`` and their ``INVERSES``, ``CONSTANTS``, ``ADDITIVE``,
``BRACKETS``, ``CLOSERS``). A node or symbol with no meaning for the solver raises ``InkmathError`` naming it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import sympy as sp

from inkmath.errors import InkmathError
from inkmath.equation.core.latex import join_tokens, tokens
from inkmath.equation.core.tokens import BIG_OPS, BRACKET_PAIRS, CLOSE_BRACKETS
from inkmath.equation.core.tree import (
    BigOp, Binom, Frac, Lines, Node, Row, Sqrt, Sub, SubSup, Sup, Symbol, node_fields,
)

_ALIASES = {
    "−": "-", "*": "\\times", "×": "\\times", "·": "\\cdot", "÷": "\\div", "±": "\\pm", "{": "\\{", "}": "\\}",
    "\\lbrace": "\\{", "\\rbrace": "\\}", "\\lt": "<", "\\gt": ">", "\\le": "\\leq", "\\ge": "\\geq",
    "\\ne": "\\neq", "≤": "\\leq", "≥": "\\geq", "≠": "\\neq", "'": "\\prime", "\\to": "\\rightarrow",
    "\\sqrt{}": "\\sqrt", "\\vert": "|", "\\mid": "|", "\\ast": "\\times", "\\%": "%",
}
BRACKETS = BRACKET_PAIRS
CLOSERS = CLOSE_BRACKETS
ADDITIVE = {"+", "-", "\\pm", "\\mp"}
_MULTIPLICATIVE = {"\\times", "\\cdot", "/", "\\div"}
RELATIONS = {"=": sp.Eq, "<": sp.Lt, ">": sp.Gt, "\\leq": sp.Le, "\\geq": sp.Ge, "\\neq": sp.Ne}
PERCENT = "%"  # after a number or expression: hundredths (15% = 15/100)
DEGREE = "\\circ"  # as a superscript alone (30^{\\circ}): degrees of angle, each pi/180
# other lone superscripts read as a degree sign after a number: o anywhere (30^{o}, as typed); 0 in the argument of a
# trigonometric function (\sin 30^{0}), as the reader writes a drawn degree sign, which its classes lack: a small circle
# drawn raised after 8 CROHME validation expressions, at 3 sizes, read as a raised 0 in 13 of 24, never as o or
# \circ (docs/decisions/solver-and-worked-solutions.md)
DEGREE_AS_TYPED = "o"
DEGREE_AS_READ = "0"
TRIG_FUNCTIONS = frozenset({"\\sin", "\\cos", "\\tan", "\\cot", "\\sec", "\\csc"})
_OTHER_TOKENS = {",", "|", "!", "\\prime", "\\rightarrow", PERCENT}
_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota",
    "kappa", "lambda", "mu", "nu", "xi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}
CONSTANTS = {"\\pi": sp.pi, "\\infty": sp.oo}
FUNCTIONS = {
    "\\sin": sp.sin, "\\cos": sp.cos, "\\tan": sp.tan, "\\cot": sp.cot, "\\sec": sp.sec, "\\csc": sp.csc,
    "\\arcsin": sp.asin, "\\arccos": sp.acos, "\\arctan": sp.atan, "\\sinh": sp.sinh, "\\cosh": sp.cosh,
    "\\tanh": sp.tanh, "\\ln": sp.log, "\\log": None, "\\exp": sp.exp, "\\sqrt": sp.sqrt,
}
INVERSES = {
    "\\sin": sp.asin, "\\cos": sp.acos, "\\tan": sp.atan, "\\cot": sp.acot, "\\sec": sp.asec, "\\csc": sp.acsc,
    "\\sinh": sp.asinh, "\\cosh": sp.acosh, "\\tanh": sp.atanh,
}
_BIG_OPS = BIG_OPS


@dataclass
class Lexeme:
    """One unit of a row. kind: num | tok | name | func | bigop | atom | pow."""

    kind: str
    text: str = ""
    node: Node | None = None  # pow: exponent; atom: the node; bigop: the BigOp; func: subscript (log base)
    sup: Node | None = None  # func: its superscript (\sin^{2})

    def describe(self) -> str:
        if self.kind == "atom" and self.node is not None:
            return join_tokens(tokens(self.node))
        if self.kind == "pow" and self.node is not None:
            return "^{" + join_tokens(tokens(self.node)) + "}"
        return self.text


def lex(node: Node) -> list[Lexeme]:
    """The lexemes of ``node`` (a row, or one node of it), left to right."""
    out: list[Lexeme] = []
    _lex_into(node, out)
    _trig_degrees(out)
    return out


def _lex_into(node: Node, out: list[Lexeme]) -> None:
    if isinstance(node, Row):
        for item in node.items:
            _lex_into(item, out)
    elif isinstance(node, Symbol):
        _lex_token(node.token, out)
    elif isinstance(node, Sup):
        _lex_scripted(node.base, None, node.sup, out)
    elif isinstance(node, Sub):
        _lex_scripted(node.base, node.sub, None, out)
    elif isinstance(node, SubSup):
        _lex_scripted(node.base, node.sub, node.sup, out)
    elif isinstance(node, (Frac, Sqrt, Binom)):
        out.append(Lexeme("atom", node=node))
    elif isinstance(node, BigOp):
        out.append(Lexeme("bigop", text=_ALIASES.get(node.op, node.op), node=node))
    elif isinstance(node, Lines):
        raise InkmathError("a block of several lines sits inside a row; write each equation on its own line")
    else:
        raise InkmathError(f"cannot evaluate a {type(node).__name__}; expected a node from inkmath.equation.core.tree")


def normal_token(token: str) -> str:
    """``token`` in the spelling the parser knows (``_ALIASES``: '×' is '\\times', '\\le' is '\\leq')."""
    if not isinstance(token, str) or not token:
        raise InkmathError(f"a Symbol needs a non-empty token string, got {token!r}")
    return _ALIASES.get(token, token)


def _is_name(tok: str) -> bool:
    return (len(tok) == 1 and tok.isascii() and tok.isalpha()) or (tok.startswith("\\") and tok[1:] in _GREEK)


def _lex_token(token: str, out: list[Lexeme]) -> None:
    tok = normal_token(token)
    if tok == "." or tok.isdigit():
        if out and out[-1].kind == "num":  # digits written side by side are one number: 1 2 . 5 -> 12.5
            out[-1].text += tok
        else:
            out.append(Lexeme("num", tok))
    elif _is_name(tok) or tok in CONSTANTS:
        out.append(Lexeme("name", tok))
    elif tok in FUNCTIONS:
        out.append(Lexeme("func", tok))
    elif tok in _BIG_OPS:
        out.append(Lexeme("bigop", tok, node=BigOp(tok)))
    elif tok in ADDITIVE or tok in _MULTIPLICATIVE or tok in RELATIONS or tok in _OTHER_TOKENS:
        out.append(Lexeme("tok", tok))
    elif tok in BRACKETS or tok in CLOSERS:
        out.append(Lexeme("tok", tok))
    else:
        raise InkmathError(f"cannot evaluate the symbol {token!r}; it has no meaning for the solver")


@dataclass
class WrittenPercent:
    """A percentage as written: its number ("" after a bracket: (1+2)%) and, when it is added to or taken from what
    comes before it (200 + 10%), that sign; None for a percentage that multiplies or stands alone."""

    number: str
    added: str | None = None


_BEFORE_A_TERM = set(RELATIONS) | set(BRACKETS) | {",", "\\\\", "\\pm", "\\mp", "\\times", "\\cdot", "\\div", "/"}
_AFTER_A_TERM = set(RELATIONS) | set(CLOSERS) | {",", "\\\\", "+", "-", "\\pm", "\\mp"}


def written_percents(node: Node) -> list[WrittenPercent]:
    """The percentages written in ``node``, left to right (the solver's notes and the worked steps name them)."""
    toks = [normal_token(t) for t in tokens(node)]
    out: list[WrittenPercent] = []
    for i, tok in enumerate(toks):
        if tok != PERCENT:
            continue
        j = i
        while j > 0 and (toks[j - 1].isdigit() or toks[j - 1] == "."):
            j -= 1
        number = "".join(toks[j:i])
        sign = toks[j - 1] if j > 0 and number else None
        alone = i + 1 == len(toks) or toks[i + 1] in _AFTER_A_TERM  # 200 + 10%, not 200 + 10% x (a tenth of x)
        added = sign if sign in ("+", "-") and j > 1 and toks[j - 2] not in _BEFORE_A_TERM and alone else None
        out.append(WrittenPercent(number, added))
    return out


def mixed_number(lexemes: list[Lexeme], i: int) -> tuple[int, int, int] | None:
    """(whole, numerator, denominator) when ``lexemes[i]`` is a whole number written right before a proper fraction
    of whole numbers: a mixed number, 2\\frac{1}{2} = 2 + 1/2, as school arithmetic writes it (a product of the two
    is written with a sign, 2 \\cdot \\frac{1}{2}). Not when a power follows the fraction (2\\frac{1}{2}^{2} is
    2 · (1/2)²). Else None."""
    if i + 1 >= len(lexemes):
        return None
    whole, frac = lexemes[i], lexemes[i + 1]
    if whole.kind != "num" or not whole.text.isdigit() or frac.kind != "atom" or not isinstance(frac.node, Frac):
        return None
    if i + 2 < len(lexemes) and lexemes[i + 2].kind == "pow":
        return None
    parts = lex(frac.node.num), lex(frac.node.den)
    if any(len(p) != 1 or p[0].kind != "num" or not p[0].text.isdigit() for p in parts):
        return None
    numerator, denominator = (int(p[0].text) for p in parts)
    return (int(whole.text), numerator, denominator) if 0 < numerator < denominator else None


def written_mixed_numbers(node: Node) -> list[tuple[int, int, int]]:
    """The mixed numbers (``mixed_number``) written anywhere in ``node``, outside in."""
    return [found for lexemes in _lexeme_lists(node) for i in range(len(lexemes))
            if (found := mixed_number(lexemes, i)) is not None]


def reads_degree_sign(node: Node) -> bool:
    """Does ``node`` write a degree sign other than ``\\circ`` (``DEGREE_AS_TYPED``, ``DEGREE_AS_READ``)?"""
    return any(lx.kind == "tok" and lx.text == DEGREE and not _is_degree(lx.node)
               for lexemes in _lexeme_lists(node) for lx in lexemes)


def _lexeme_lists(node: Node) -> Iterator[list[Lexeme]]:
    """The lexemes of each line of ``node``, then of what sits inside them (scripts, a fraction's parts, a root's
    body, a function's base), outside in."""
    pending = [lex(row) for row in (node.rows if isinstance(node, Lines) else [node])]
    while pending:
        lexemes = pending.pop(0)
        yield lexemes
        for lx in lexemes:
            inner = [lx.node, lx.sup] if lx.kind in ("pow", "func") else \
                [getattr(lx.node, f) for f in node_fields(type(lx.node))] if lx.kind in ("atom", "bigop") else []
            pending += [lex(child) for child in inner if isinstance(child, Node)]


def _trig_degrees(lexemes: list[Lexeme]) -> None:
    """A number with a lone superscript 0 as the argument of a trigonometric function, in brackets or not, becomes
    that number in degrees (``DEGREE_AS_READ``), in place."""
    for i, lx in enumerate(lexemes[:-2]):
        if lx.kind != "func" or lx.text not in TRIG_FUNCTIONS or lx.sup is not None and not _is_power(lx.sup):
            continue
        j = i + 2 if lexemes[i + 1].kind == "tok" and lexemes[i + 1].text == "(" else i + 1
        if j + 1 < len(lexemes) and lexemes[j].kind == "num" and lexemes[j + 1].kind == "pow" \
                and _is_symbol(lexemes[j + 1].node, DEGREE_AS_READ):
            lexemes[j + 1] = Lexeme("tok", DEGREE, node=lexemes[j + 1].node)


def _unwrap(node: Node) -> Node:
    while isinstance(node, Row) and len(node.items) == 1:
        node = node.items[0]
    return node


def _is_symbol(node: Node | None, token: str) -> bool:
    """Is the node (a script) only this one symbol?"""
    node = _unwrap(node) if node is not None else None
    return isinstance(node, Symbol) and node.token == token


def _is_degree(node: Node | None) -> bool:
    """Is the script only the degree sign (`30^{\\circ}`)?"""
    return _is_symbol(node, DEGREE)


def _is_power(node: Node) -> bool:
    """A function's superscript that is a power (sin^{2}), not its inverse (sin^{-1})."""
    return tokens(node) != ["-", "1"]


def _is_primes(node: Node) -> int:
    """Number of primes when the script is only primes (`y^{\\prime\\prime}`), else 0."""
    node = _unwrap(node)
    items = node.items if isinstance(node, Row) else [node]
    if items and all(isinstance(i, Symbol) and _ALIASES.get(i.token, i.token) == "\\prime" for i in items):
        return len(items)
    return 0


def _lex_scripted(base: Node, sub: Node | None, sup: Node | None, out: list[Lexeme]) -> None:
    base = _unwrap(base)
    if isinstance(base, BigOp):
        merged = BigOp(base.op, base.lower if sub is None else sub, base.upper if sup is None else sup)
        out.append(Lexeme("bigop", normal_token(base.op), node=merged))
        return
    if isinstance(base, Symbol):
        tok = normal_token(base.token)
        if tok in _BIG_OPS:
            out.append(Lexeme("bigop", tok, node=BigOp(tok, sub, sup)))
            return
        if tok in FUNCTIONS:
            if sub is not None and tok != "\\log":
                raise InkmathError(f"a subscript on {tok} cannot be evaluated (only \\log_{{b}} takes one)")
            out.append(Lexeme("func", tok, node=sub, sup=sup))
            return
        if sub is not None:
            if not _is_name(tok):
                raise InkmathError(f"a subscript on {base.token!r} cannot be evaluated; subscripts name variables")
            sub_toks = tokens(sub)
            text = sub_toks[0] if len(sub_toks) == 1 else "{" + join_tokens(sub_toks) + "}"
            out.append(Lexeme("name", tok.lstrip("\\") + "_" + text))
        else:
            _lex_token(base.token, out)
    else:
        if sub is not None:
            raise InkmathError("a subscript on an expression cannot be evaluated; subscripts name variables")
        out.append(Lexeme("atom", node=base))
    if sup is not None:
        primes = _is_primes(sup)
        if primes:
            out.extend([Lexeme("tok", "\\prime")] * primes)
        else:
            degree = _is_degree(sup) or (out and out[-1].kind == "num" and _is_symbol(sup, DEGREE_AS_TYPED))
            out.append(Lexeme("tok", DEGREE, node=sup) if degree else Lexeme("pow", node=sup))
