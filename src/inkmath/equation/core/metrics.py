"""Compare LaTeX readings the way CROHME results are compared: on normalised token sequences.

The CROHME truth is written in many styles (``x^2`` / ``x^{2}``, ``\\left( .. \\right)``, ``\\limits``,
``\\mathrm{e}``, sub- and superscripts in either order, ``\\lt`` / ``<``, spacing commands, redundant braces).
``normalize_latex`` rewrites any of them into one canonical token list, the style of the WAP captions:

    \\frac { a } { b }   x _ { i } ^ { 2 }   \\sqrt [ 3 ] { x }   ( a + b )   <

so that two readings of the same expression compare equal token by token. ExpRate is the share of exact
matches; ``within_k`` allows up to k token edits (the "<=1 error", "<=2 errors" columns of the CROHME tables).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\S", re.S)

# Same symbol, different spelling -> one spelling.
ALIASES = {
    "\\lt": "<", "\\gt": ">", "\\ge": "\\geq", "\\le": "\\leq", "\\geqslant": "\\geq", "\\leqslant": "\\leq",
    "\\ne": "\\neq", "\\to": "\\rightarrow", "\\dots": "\\ldots", "\\lbrace": "\\{", "\\rbrace": "\\}",
    "\\vert": "|", "\\mid": "|", "\\lvert": "|", "\\rvert": "|", "\\lbrack": "[", "\\rbrack": "]",
    "\\colon": ":", "\\ast": "*", "\\cdotp": "\\cdot", "\\varphi": "\\phi", "\\vartheta": "\\theta",
    "'": "\\prime", "COMMA": ",",
}
# Tokens that carry no symbol: layout and spacing commands.
DROP = {"$", "\\left", "\\right", "\\big", "\\Big", "\\bigg", "\\Bigg", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr",
        "\\biggl", "\\biggr", "\\Biggl", "\\Biggr", "\\limits", "\\nolimits", "\\displaystyle", "\\textstyle",
        "\\,", "\\;", "\\:", "\\!", "\\ ", "~", "\\quad", "\\qquad", "\\hfill"}
# Commands whose single argument is kept without the command (font and text wrappers).
UNWRAP = {"\\mathrm", "\\mathit", "\\mathbf", "\\mathsf", "\\mathtt", "\\mathnormal", "\\text", "\\textrm",
          "\\textit", "\\mbox", "\\operatorname", "\\boldsymbol", "\\mathcal", "\\mathbb"}
# Commands that take arguments and stay: name -> number of mandatory {} arguments.
ARGS = {"\\frac": 2, "\\dfrac": 2, "\\tfrac": 2, "\\sqrt": 1, "\\overline": 1, "\\underline": 1, "\\hat": 1,
        "\\bar": 1, "\\vec": 1, "\\dot": 1, "\\tilde": 1}
RENAME = {"\\dfrac": "\\frac", "\\tfrac": "\\frac"}


# CROHME's truth glues \lt / \gt to the letter after them (``u_n\gtM``, ``R_g\ltq^{-1}\ltl_0``): no such commands,
# they are the relation and the letters; the real commands that begin so stay whole
_GLUED_RELATION = re.compile(r"\\([lg]t)([A-Za-z]+)")
_LT_GT_COMMANDS = {"\\ltimes", "\\gtrdot", "\\gtrless", "\\gtreqless", "\\gtreqqless", "\\gtrsim", "\\gtrapprox"}


def latex_tokens(latex: str) -> list[tuple[str, int]]:
    """The one LaTeX tokenizer: (token, its character offset) for each ``\\command``, ``\\x`` (escaped character)
    or other character; whitespace only separates tokens. The typed-LaTeX parser (``latex_parse``) reads these, and
    ``tokenize`` below for comparing readings."""
    return [(m.group(), m.start()) for m in _TOKEN.finditer(latex or "")]


def tokenize(latex: str) -> list[str]:
    """Split LaTeX into tokens (``latex_tokens``), with CROHME truth's ``\\lt`` / ``\\gt`` glued to the letters after
    them split into the relation and the letters."""
    out = []
    for tok, _ in latex_tokens(latex):
        glued = _GLUED_RELATION.fullmatch(tok)
        if glued and tok not in _LT_GT_COMMANDS:
            out += ["\\" + glued[1], *glued[2]]
        else:
            out.append(tok)
    return out


class _CanonicalTokens:
    """Recursive descent over tokens building nested lists; emits the canonical form directly."""

    def __init__(self, tokens: list[str]):
        self.t = tokens
        self.i = 0

    def peek(self) -> str | None:
        return self.t[self.i] if self.i < len(self.t) else None

    def take(self) -> str | None:
        tok = self.peek()
        self.i += tok is not None
        return tok

    def row(self, stop: set[str]) -> list[str]:
        out: list[str] = []
        while self.peek() is not None and self.peek() not in stop:
            atom = self.atom(stop)
            if atom is None:
                continue
            out += self.scripts(atom, stop)
        return out

    def arg(self) -> list[str]:
        """One argument: ``{...}`` or a single atom (``x^2``, ``\\frac12``)."""
        while self.peek() in DROP:
            self.take()
        if self.peek() == "{":
            self.take()
            inner = self.row({"}"})
            self.take()
            return inner
        atom = self.atom(set())
        return atom or []

    def atom(self, stop: set[str]) -> list[str] | None:
        tok = self.take()
        if tok is None:  # input ended where an argument was expected
            return None
        if tok in DROP:
            if tok in ("\\left", "\\right") and self.peek() == ".":
                self.take()  # invisible delimiter
            return None
        if tok == "{":  # a group that is not an argument: its braces are redundant
            inner = self.row({"}"})
            self.take()
            return inner
        if tok == "}":  # unbalanced closing brace: ignore it
            return None
        if tok in UNWRAP:
            return self.arg()
        if tok == "\\sqrt":
            index: list[str] = []
            if self.peek() == "[":
                self.take()
                index = self.row({"]"})
                self.take()
            body = self.arg()
            return ["\\sqrt"] + (["[", *index, "]"] if index else []) + ["{", *body, "}"]
        if tok in ARGS:
            out = [RENAME.get(tok, tok)]
            for _ in range(ARGS[tok]):
                out += ["{", *self.arg(), "}"]
            return out
        if tok in ("_", "^"):  # a script with no base: keep it attached to nothing
            return self.scripts([], stop, first=tok)
        return [ALIASES.get(tok, tok)]

    def scripts(self, base: list[str], stop: set[str], first: str | None = None) -> list[str]:
        """Base and its scripts in canonical order ``_ { sub } ^ { sup }``; primes (``'``, bare ``\\prime``) go up."""
        sub: list[str] | None = None
        sup: list[str] | None = None
        primes = 0
        pending = first
        while True:
            tok = pending or self.peek()
            if tok in ("\\limits", "\\nolimits"):
                self.take()
                continue
            if tok not in ("_", "^", "'", "\\prime"):
                break
            if tok != "'" and tok == "\\prime" and base in ([], ["\\prime"]):
                break  # a run of primes inside a script (``^ { \\prime \\prime }``) stays a run
            if pending is None:
                self.take()
            pending = None
            if tok in ("'", "\\prime"):
                primes += 1
            elif tok == "_":
                sub = (sub or []) + self.arg()
            else:
                sup = (sup or []) + self.arg()
        if primes:
            sup = ["\\prime"] * primes + (sup or [])
        out = list(base)
        if sub:  # an empty script (``x_{}``) shows nothing and is dropped
            out += ["_", "{", *sub, "}"]
        if sup:
            out += ["^", "{", *sup, "}"]
        return out


def normalize_tokens(tokens: Sequence[str]) -> list[str]:
    """Canonical token list (see the module docstring) from raw tokens."""
    kept: list[str] = []
    tokens = [t for t in tokens if t.strip()]
    for i, t in enumerate(tokens):
        if t in DROP or (t == "." and i and tokens[i - 1] in ("\\left", "\\right")):
            continue  # layout/spacing commands and the invisible delimiter of ``\\left.`` / ``\\right.``
        kept.append(t)
    p = _CanonicalTokens(kept)
    out: list[str] = []
    while p.peek() is not None:
        out += p.row(set())
        if p.peek() is not None:  # a stray closing bracket at top level
            p.take()
    return out


def normalize_latex(latex: str | Sequence[str]) -> list[str]:
    """Canonical tokens of a LaTeX string (or of an already tokenised list, as WAP captions are)."""
    tokens = tokenize(latex) if isinstance(latex, str) else list(latex)
    return normalize_tokens(tokens)


def canonical_symbol(token: str) -> str:
    """One symbol token in canonical spelling (``\\lt`` -> ``<``, ``\\ge`` -> ``\\geq``, ``'`` -> ``\\prime``)."""
    token = token.strip()
    return ALIASES.get(token, token)


def edit_distance(a: Sequence[str], b: Sequence[str]) -> int:
    """Levenshtein distance between two token sequences (insert, delete, substitute: cost 1 each)."""
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i]
        for j, y in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y)))
        prev = cur
    return prev[-1]


def token_distance(pred: str | Sequence[str], truth: str | Sequence[str]) -> int:
    """Edit distance between two readings after normalisation."""
    return edit_distance(normalize_latex(pred), normalize_latex(truth))


def same_expression(pred: str | Sequence[str], truth: str | Sequence[str]) -> bool:
    return normalize_latex(pred) == normalize_latex(truth)


def exprate(preds: Iterable, truths: Iterable) -> float:
    """Share of readings that equal their truth after normalisation (CROHME ExpRate), in [0, 1]."""
    pairs = list(zip(preds, truths, strict=True))
    return sum(same_expression(p, t) for p, t in pairs) / len(pairs) if pairs else 0.0


def within_k(preds: Iterable, truths: Iterable, k: int) -> float:
    """Share of readings at most ``k`` token edits from their truth (k=0 is ExpRate)."""
    pairs = list(zip(preds, truths, strict=True))
    return sum(token_distance(p, t) <= k for p, t in pairs) / len(pairs) if pairs else 0.0


BOX_MATCH = 0.5  # box IoU from which a read expression's box is a written one's (the page benchmark, the page recipes)


def box_iou(a: Sequence[float], b: Sequence[float]) -> float:
    """Intersection over union of two boxes (x0, y0, x1, y1): how the page benchmark matches an expression's box
    with its truth's (0 for boxes that do not overlap or have no area)."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0
