"""Expression tree -> CROHME-style LaTeX tokens, a LaTeX string, and MathML for the web page.

`tokens` gives the space-separated token form the CROHME/WAP captions use (`\\frac { 1 } { 2 }`, `x ^ { 2 }`,
`\\sum _ { i = 1 } ^ { n }`), so a recognised tree can be scored against the truth token by token. `to_latex`
joins the same tokens into a compact string (`\\frac{1}{2}`) for display and copying; both come from one walk over
the tree, so they cannot disagree.
"""

from __future__ import annotations

import html
import re

from inkmath.errors import InkmathError
from inkmath.equation.core.tree import BigOp, Binom, Frac, Lines, Node, Row, Sqrt, Sub, SubSup, Sup, Symbol

# Tokens the parser may emit in a plain form that LaTeX would read as something else.
_ESCAPES = {"{": "\\{", "}": "\\}", "#": "\\#", "%": "\\%", "&": "\\&", "$": "\\$", "~": "\\sim", "\\sqrt{}": "\\sqrt"}
_OPEN = {"(", "[", "\\{", "\\lbrace", "|"}
_CLOSE = {")", "]", "\\}", "\\rbrace", "|"}
_CONTROL_WORD = re.compile(r"\\[A-Za-z]+$")
LINE_BREAK = "\\\\"


def tokens(node: Node) -> list[str]:
    """CROHME tokens of a tree: `Frac(1, 2)` -> `['\\frac', '{', '1', '}', '{', '2', '}']`.

    `Lines` rows are separated by the token `\\\\`. Raises `InkmathError` on something that is not a tree node.
    """
    out: list[str] = []
    _emit(node, out)
    return out


def to_latex(node: Node) -> str:
    """Compact LaTeX of a tree: `\\frac{1}{2}`, `x^{2}`, `\\sqrt[3]{x}`, `\\sum_{i=1}^{n}`, rows joined by ` \\\\ `."""
    if isinstance(node, Lines):
        return f" {LINE_BREAK} ".join(join_tokens(tokens(row)) for row in node.rows)
    return join_tokens(tokens(node))


def join_tokens(toks: list[str]) -> str:
    """Join tokens without spaces, except where LaTeX needs one (`\\sin x`, not `\\sinx`) or where it reads
    better (after a control word such as `\\times`)."""
    parts: list[str] = []
    prev = ""
    for tok in toks:
        if parts and _CONTROL_WORD.match(prev) and tok not in {"{", "}", "[", "]", "_", "^", "(", ")"}:
            parts.append(" ")
        elif parts and (tok == LINE_BREAK or prev == LINE_BREAK):
            parts.append(" ")
        parts.append(tok)
        prev = tok
    return "".join(parts)


def to_mathml(node_or_latex: Node | str, fallback: bool = True) -> str:
    """Display-block MathML for a tree or a LaTeX string, through the `latex2mathml` package.

    `Lines` become a left-aligned table (one row per line). When latex2mathml cannot read the LaTeX, the result
    is a `<math>` element holding an `<merror>` with the LaTeX as text, so a page still shows what was read;
    with `fallback=False` an `InkmathError` is raised instead.
    """
    from latex2mathml import converter, exceptions

    if isinstance(node_or_latex, Lines):
        rows = f" {LINE_BREAK} ".join(join_tokens(tokens(row)) for row in node_or_latex.rows)
        latex = "\\begin{array}{l} " + rows + " \\end{array}"
    elif isinstance(node_or_latex, Node):
        latex = to_latex(node_or_latex)
    elif isinstance(node_or_latex, str):
        latex = node_or_latex
    else:
        raise InkmathError(f"to_mathml needs a tree node or a LaTeX string, not {type(node_or_latex).__name__}")
    known = tuple(
        cls for cls in vars(exceptions).values() if isinstance(cls, type) and issubclass(cls, Exception)
    )
    try:
        return converter.convert(latex, display="block")
    # latex2mathml reports bad input with its own exception classes and, on some truncated input, with
    # IndexError/KeyError/ValueError from its tokenizer; all of them mean "this LaTeX could not be converted".
    except (*known, IndexError, KeyError, ValueError) as exc:
        if not fallback:
            raise InkmathError(f"cannot convert LaTeX {latex!r} to MathML ({type(exc).__name__}); check the braces") from exc
        text = html.escape(latex)
        return (
            '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">'
            f'<merror><mtext>{text}</mtext></merror></math>'
        )


def _emit(node: Node, out: list[str]) -> None:
    if isinstance(node, Symbol):
        if not isinstance(node.token, str) or not node.token:
            raise InkmathError(f"a Symbol needs a non-empty token string, got {node.token!r}")
        out.append(_ESCAPES.get(node.token, node.token))
    elif isinstance(node, Row):
        for item in node.items:
            _emit(item, out)
    elif isinstance(node, Sup):
        _emit_base(node.base, out)
        _script("^", node.sup, out)
    elif isinstance(node, Sub):
        _emit_base(node.base, out)
        _script("_", node.sub, out)
    elif isinstance(node, SubSup):
        _emit_base(node.base, out)
        _script("_", node.sub, out)
        _script("^", node.sup, out)
    elif isinstance(node, Frac):
        out.append("\\frac")
        _group(node.num, out)
        _group(node.den, out)
    elif isinstance(node, Binom):
        out.append("\\binom")
        _group(node.top, out)
        _group(node.bottom, out)
    elif isinstance(node, Sqrt):
        out.append("\\sqrt")
        if node.index is not None and not _is_empty(node.index):
            out.append("[")
            _emit(node.index, out)
            out.append("]")
        _group(node.body, out)
    elif isinstance(node, BigOp):
        out.append(node.op)
        if node.lower is not None:
            _script("_", node.lower, out)
        if node.upper is not None:
            _script("^", node.upper, out)
    elif isinstance(node, Lines):
        for i, row in enumerate(node.rows):
            if i:
                out.append(LINE_BREAK)
            _emit(row, out)
    else:
        raise InkmathError(f"cannot write {type(node).__name__} as LaTeX; expected a node from inkmath.equation.core.tree")


def _group(node: Node, out: list[str]) -> None:
    out.append("{")
    _emit(node, out)
    out.append("}")


def _script(mark: str, node: Node, out: list[str]) -> None:
    out.append(mark)
    _group(node, out)


def _emit_base(base: Node, out: list[str]) -> None:
    """Emit the base of a script. A base that is itself scripted (`x^{2}` in `{x^{2}}^{3}`) or a row of several
    items that is not one bracketed group (`{x+1}^{2}`) is braced, else LaTeX would attach the script to the
    last item only (or fail on a double superscript)."""
    while isinstance(base, Row) and len(base.items) == 1:
        base = base.items[0]
    needs_braces = isinstance(base, (Sup, Sub, SubSup)) or (isinstance(base, Row) and not _bracketed(base))
    if needs_braces:
        _group(base, out)
    else:
        _emit(base, out)


def _bracketed(row: Row) -> bool:
    """True when the row is `( ... )` with the first bracket closing at the very end."""
    items = row.items
    if len(items) < 2 or not isinstance(items[0], Symbol) or not isinstance(items[-1], Symbol):
        return False
    if items[0].token not in _OPEN - {"|"} or items[-1].token not in _CLOSE - {"|"}:
        return False
    depth = 0
    for i, item in enumerate(items):
        if isinstance(item, Symbol) and item.token in _OPEN - {"|"}:
            depth += 1
        elif isinstance(item, Symbol) and item.token in _CLOSE - {"|"}:
            depth -= 1
            if depth == 0 and i != len(items) - 1:
                return False
    return depth == 0


def _is_empty(node: Node) -> bool:
    return isinstance(node, Row) and all(_is_empty(item) for item in node.items)
