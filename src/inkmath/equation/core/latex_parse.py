"""Typed LaTeX -> the expression tree that recognition builds (`inkmath.equation.core.tree`), with no `eval`.

    parse_latex("2(x-1) = x+4")            # Row([Symbol('2'), Symbol('('), ...])
    parse_latex(r"\\frac{x}{2} = 3")        # Row([Frac(Row([x]), Row([2])), Symbol('='), Symbol('3')])
    parse_latex(r"x+y=5 \\\\ x-y=1")         # Lines([...]): a system, one row per line

The subset is what `inkmath.equation.core.latex.to_latex` writes: one Symbol per character or control word,
`\\frac{a}{b}`, `\\binom{n}{k}`, `\\sqrt{x}` / `\\sqrt[n]{x}`, `^{..}` / `_{..}` on the item before them (a single
character or a braced group), `\\sum`, `\\int`, `\\prod`, `\\lim` with their limits, `{...}` groups and ` \\\\ `
between lines.
Also accepted because people type them: `^2` without braces, `'` for a prime, `\\left(` / `\\right)`, spacing
commands (`\\,`, `\\quad`), `\\dfrac`, `\\cdot`, `*`, `\\lt`-style aliases, and font wrappers (`\\mathrm{d}`),
which are dropped. A percent sign, `\\%` or a bare `%` (which LaTeX would read as a comment, but people type it
for per cent), is the symbol `%`. Anything else is an error whose message names the 0-based character position:
`unexpected '}' at position 7`.
"""

from __future__ import annotations

from dataclasses import dataclass

from inkmath.errors import InkmathError
from inkmath.equation.core.metrics import latex_tokens
from inkmath.equation.core.tree import BigOp, Binom, Frac, Lines, Node, Row, Sqrt, Sub, SubSup, Sup, Symbol

MAX_LATEX_CHARS = 2000  # a school problem is well under 200 characters; the web API's bound on typed input
MAX_NESTING = 40  # braces, fractions, roots and scripts inside each other; deeper input is refused

LINE_BREAK = "\\\\"
BIG_OPS = {"\\sum", "\\int", "\\prod", "\\lim"}
# Layout and spacing commands that carry no symbol.
DROP = {"$", "\\left", "\\right", "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr",
        "\\biggl", "\\biggr", "\\Biggl", "\\Biggr", "\\limits", "\\nolimits", "\\displaystyle", "\\textstyle",
        "\\,", "\\;", "\\:", "\\!", "\\ ", "~", "\\quad", "\\qquad"}
# Font wrappers whose argument is kept without them.
UNWRAP = {"\\mathrm", "\\mathit", "\\mathbf", "\\mathnormal", "\\operatorname", "\\boldsymbol", "\\mbox",
          "\\text", "\\textrm", "\\textit"}
FRACTIONS = {"\\frac", "\\dfrac", "\\tfrac"}
BINOMIALS = {"\\binom", "\\dbinom", "\\tbinom"}
# Other spellings of a symbol -> the token recognition emits.
ALIASES = {"\\lt": "<", "\\gt": ">", "\\le": "\\leq", "\\ge": "\\geq", "\\ne": "\\neq", "\\to": "\\rightarrow",
           "\\lbrace": "\\{", "\\rbrace": "\\}", "\\vert": "|", "\\mid": "|", "\\dots": "\\ldots",
           "\\leqslant": "\\leq", "\\geqslant": "\\geq", "\\ast": "*"}
# Control words that are one symbol of the tree (the CROHME classes, the solver's functions and Greek letters).
KNOWN_WORDS = {
    "\\alpha", "\\beta", "\\gamma", "\\delta", "\\epsilon", "\\varepsilon", "\\zeta", "\\eta", "\\theta",
    "\\vartheta", "\\iota", "\\kappa", "\\lambda", "\\mu", "\\nu", "\\xi", "\\rho", "\\sigma", "\\tau", "\\upsilon",
    "\\phi", "\\varphi", "\\chi", "\\psi", "\\omega", "\\Gamma", "\\Delta", "\\Theta", "\\Lambda", "\\Xi", "\\Pi",
    "\\Sigma", "\\Upsilon", "\\Phi", "\\Psi", "\\Omega", "\\pi", "\\infty",
    "\\sin", "\\cos", "\\tan", "\\cot", "\\sec", "\\csc", "\\arcsin", "\\arccos", "\\arctan", "\\sinh", "\\cosh",
    "\\tanh", "\\ln", "\\log", "\\exp",
    "\\times", "\\cdot", "\\div", "\\pm", "\\mp", "\\leq", "\\geq", "\\neq", "\\rightarrow", "\\in", "\\exists",
    "\\forall", "\\ldots", "\\cdots", "\\prime", "\\{", "\\}", "\\circ",
}
# Things typed LaTeX may hold that the tree has no node for (named in the error, counted by the round-trip report).
_ONE_PER_LINE = "write one equation per line, separated by \\\\"
UNSUPPORTED = {"\\begin": "an environment (\\begin{...})", "\\end": "an environment (\\end{...})",
               "&": "an alignment '&'"}
ACCENTS = {"\\overline", "\\underline", "\\hat", "\\bar", "\\vec", "\\dot", "\\ddot", "\\tilde", "\\widehat",
           "\\overrightarrow"}
PERCENT_SIGNS = {"\\%", "%"}  # 15\% and 15%: per cent, the tree's symbol '%' (written back as \%)
_SINGLE_CHARS = set("0123456789+-=<>/()[]|!,.:;*'") | {"−", "×", "÷", "·", "±", "≤", "≥", "≠"}


@dataclass
class _Tok:
    text: str
    pos: int  # 0-based character offset in the input


def tokenize(text: str) -> list[_Tok]:
    """Tokens with their positions (``metrics.latex_tokens``: whitespace only separates control words)."""
    return [_Tok(tok, pos) for tok, pos in latex_tokens(text)]


def parse_latex(text: str) -> Node:
    """The tree for typed LaTeX: a `Row` for one line, `Lines` for several separated by `\\\\`.

    Raises `InkmathError` naming the problem and its character position for malformed or unsupported input.
    """
    if not isinstance(text, str):
        raise InkmathError(f"LaTeX must be text, not {type(text).__name__}")
    if len(text) > MAX_LATEX_CHARS:
        raise InkmathError(f"the LaTeX is {len(text)} characters long; the limit is {MAX_LATEX_CHARS}")
    if not text.strip():
        raise InkmathError("the LaTeX is empty; type an expression such as 2x+1=7")
    return _TypedLatex(text, tokenize(text)).document()


class _TypedLatex:
    """Recursive descent over typed LaTeX tokens into the tree, each error naming its position."""

    def __init__(self, text: str, toks: list[_Tok]) -> None:
        self.text = text
        self.toks = toks
        self.i = 0
        self.depth = 0

    def fail(self, message: str, tok: _Tok | None = None, hint: str = "") -> InkmathError:
        pos = tok.pos if tok is not None else len(self.text)
        where = f"at position {pos}" if tok is not None else f"at the end (position {pos})"
        return InkmathError(f"{message} {where}" + (f"; {hint}" if hint else ""))

    def peek(self) -> _Tok | None:
        while self.i < len(self.toks) and self.toks[self.i].text in DROP:
            if self.toks[self.i].text in ("\\left", "\\right") and self._next_is(".", self.i + 1):
                self.i += 1  # \left. is an invisible delimiter
            self.i += 1
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _next_is(self, text: str, j: int) -> bool:
        return j < len(self.toks) and self.toks[j].text == text

    def take(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise self.fail("the LaTeX ends too early; something is missing")
        self.i += 1
        return tok

    # ------------------------------------------------------------ structure

    def document(self) -> Node:
        rows = [Row(self.row(stops={LINE_BREAK}))]
        while self.peek() is not None and self.peek().text == LINE_BREAK:
            brk = self.take()
            if self.peek() is None:
                break  # a trailing \\ ends the last line
            items = self.row(stops={LINE_BREAK})
            if not items:
                raise self.fail("an empty line between two \\\\", brk)
            rows.append(Row(items))
        if not rows[0].items:
            raise self.fail("nothing before the line break", self.toks[0] if self.toks else None)
        return rows[0] if len(rows) == 1 else Lines(rows)

    def row(self, stops: set[str]) -> list[Node]:
        items: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.text in stops:
                return items
            if tok.text == "'" and not items:  # a prime alone in a script: y^{'}
                self.take()
                items.append(Symbol("\\prime"))
                continue
            if tok.text in ("^", "_", "'"):
                if not items:
                    raise self.fail(f"'{tok.text}' has nothing before it", tok)
                items[-1] = self.scripts(items[-1])
                continue
            if tok.text == "}":
                raise self.fail("unexpected '}' (no '{' opens it)", tok)
            if tok.text == "]" and "]" in stops:
                return items
            if tok.text == "]":  # a closing square bracket of an interval or a bracketed group
                self.take()
                items.append(Symbol("]"))
                continue
            items.extend(self.atom())

    def group(self, opener: _Tok) -> list[Node]:
        """The items of `{...}` after its `{` was taken."""
        self.enter(opener)
        items = self.row(stops={"}"})
        closer = self.peek()
        if closer is None:
            raise self.fail(f"'{{' at position {opener.pos} is never closed", None, "add '}'")
        if closer.text != "}":
            raise self.fail(f"a line break inside '{{' (opened at position {opener.pos})", closer)
        self.take()
        self.depth -= 1
        return items

    def enter(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail(f"the expression is nested more than {MAX_NESTING} levels deep", tok)

    def argument(self, owner: _Tok) -> Node:
        """One argument of a command or script: `{...}`, or a single token (`x^2`, `\\frac12`, `\\sqrt\\pi`)."""
        tok = self.peek()
        if tok is None:
            raise self.fail(f"{owner.text} at position {owner.pos} needs an argument")
        if tok.text == "{":
            self.take()
            return Row(self.group(tok))
        if tok.text in ("}", "^", "_", LINE_BREAK, "&") or tok.text in BIG_OPS:
            raise self.fail(f"{owner.text} at position {owner.pos} needs an argument, not '{tok.text}'", tok)
        self.enter(tok)
        items = self.atom()
        self.depth -= 1
        return items[0] if len(items) == 1 else Row(items)

    def scripts(self, base: Node) -> Node:
        """Attach the `^`, `_` and primes that follow to `base` (a BigOp takes them as limits)."""
        sub: Node | None = None
        sup: Node | None = None
        primes = 0
        while (tok := self.peek()) is not None and tok.text in ("^", "_", "'"):
            self.take()
            if tok.text == "'":
                primes += 1
            elif tok.text == "^":
                if sup is not None:
                    raise self.fail("a second superscript on the same base", tok, "add braces: {x^{a}}^{b}")
                sup = self.argument(tok)
            else:
                if sub is not None:
                    raise self.fail("a second subscript on the same base", tok, "add braces")
                sub = self.argument(tok)
        if primes:
            marks: list[Node] = [Symbol("\\prime")] * primes
            sup = Row(marks + (_items(sup) if sup is not None else []))
        if isinstance(base, BigOp) and (sub is None or base.lower is None) and (sup is None or base.upper is None):
            return BigOp(base.op, base.lower if sub is None else sub, base.upper if sup is None else sup)
        if isinstance(base, (Sup, Sub, SubSup)):
            # x^{2}_{1} written as two scripts in a row on one base: merge them when they do not clash
            old_sub = base.sub if isinstance(base, (Sub, SubSup)) else None
            old_sup = base.sup if isinstance(base, (Sup, SubSup)) else None
            if (sub is None or old_sub is None) and (sup is None or old_sup is None):
                base, sub, sup = base.base, sub if sub is not None else old_sub, sup if sup is not None else old_sup
        if sub is not None and sup is not None:
            return SubSup(base, sub, sup)
        if sup is not None:
            return Sup(base, sup)
        return Sub(base, sub)

    def two_arguments(self, tok) -> tuple[Node, Node]:
        """The two brace arguments of ``tok`` (a fraction's or a binomial's), each as a row."""
        self.enter(tok)
        first = self.argument(tok)
        second = self.argument(tok)
        self.depth -= 1
        return _as_row(first), _as_row(second)

    def atom(self) -> list[Node]:
        """The next item(s) of a row (a group may splice several)."""
        tok = self.take()
        text = tok.text
        if text == "{":
            return [Row(self.group(tok))]
        if text in FRACTIONS:
            return [Frac(*self.two_arguments(tok))]
        if text in BINOMIALS:
            return [Binom(*self.two_arguments(tok))]
        if text == "\\sqrt":
            return [self.root(tok)]
        if text in BIG_OPS:
            return [BigOp(text)]
        if text in UNWRAP:
            return _items(self.argument(tok))
        if text == LINE_BREAK:
            raise self.fail("a line break inside a group or script", tok)
        if text in UNSUPPORTED:
            raise self.fail(f"{UNSUPPORTED[text]} is not supported", tok, _ONE_PER_LINE)
        if text in ACCENTS:
            raise self.fail(f"{text} (an accent) is not part of the expression tree", tok)
        if text.startswith("\\") and len(text) > 1 and text[1].isalpha():
            word = ALIASES.get(text, text)
            if word not in KNOWN_WORDS and word.startswith("\\"):
                raise self.fail(f"unknown command {text}", tok)
            return [Symbol(word)]
        if text in ("\\{", "\\}"):
            return [Symbol(text)]
        if text in PERCENT_SIGNS:
            return [Symbol("%")]
        if text == "\\\\":
            raise self.fail("a line break here", tok)
        if text.startswith("\\"):
            raise self.fail(f"unknown command {text}", tok)
        if (text.isascii() and text.isalpha()) or text in _SINGLE_CHARS:
            return [Symbol(text)]
        raise self.fail(f"unexpected character {text!r}", tok)

    def root(self, tok: _Tok) -> Sqrt:
        self.enter(tok)
        index: Node | None = None
        nxt = self.peek()
        if nxt is not None and nxt.text == "[":
            self.take()
            items = self.row(stops={"]"})
            close = self.peek()
            if close is None or close.text != "]":
                raise self.fail(f"'[' of \\sqrt at position {nxt.pos} is never closed", close, "add ']'")
            self.take()
            if not items:
                raise self.fail("an empty root index \\sqrt[]", nxt)
            index = Row(items)
        body = self.argument(tok)
        self.depth -= 1
        return Sqrt(_as_row(body), index)


def _items(node: Node) -> list[Node]:
    return list(node.items) if isinstance(node, Row) else [node]


def _as_row(node: Node) -> Row:
    return node if isinstance(node, Row) else Row([node])
