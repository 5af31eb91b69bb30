"""What students write on a line, taken apart as text before anything is computed.

    pieces("2x=10 ; x=5")                 # [Piece(["2", "x", "=", "1", "0"]), Piece(["x", "=", "5"])]
    pieces(r"\\therefore \\boxed{x=5}")     # [Piece(["x", "=", "5"], final=True)]
    split_top(tokens, {","})              # the parts between top-level commas (not those inside brackets)

A line is read token by token (the project's LaTeX tokenizer, `inkmath.equation.core.metrics.latex_tokens`), so a
separator inside braces or brackets never splits it. What is taken apart here:
- several steps on one line, separated by `;`, `\\Rightarrow`, `\\implies`, `\\iff`, `=>`, `⇒`, or the words
  "so", "hence", "thus", "then";
- an answer marked by `\\boxed{..}`, `\\therefore` or `∴` (the piece is `final`);
- words between the maths: "or" (alternatives, `\\lor`), "and" (a comma), "no (real) solution" (`\\emptyset`),
  "every real number" / "infinitely many solutions" (`\\mathbb{R}`), "is rejected" / "extraneous" / "not a
  solution" after values (`REJECT`), typed bare or in `\\text{..}`; a line of words only is `words_only`;
- spacing (`\\quad`, `\\,`, `\\;`, `~`) and `$`.
What the parts mean (alternatives, conditions, intervals, tuples, chains of `=`) is read in `statements`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from inkmath.equation.core.metrics import latex_tokens

OR = "\\lor"
NO_SOLUTION = "\\emptyset"
EVERY_NUMBER = "\\mathbb{R}"  # one token here: every real number (or, in a system, infinitely many solutions)
REJECT = "\\rejected"  # "x = 2 is rejected", "x = -1 (extraneous)": the values are no solutions (no LaTeX command)
INTEGERS = "\\mathbb{Z}"
ROW = "\\\\"  # between the equations of a system written on one line
RELATIONS = {"=", "<", ">", "\\leq", "\\geq", "\\neq", "\\le", "\\ge", "\\ne", "\\lt", "\\gt", "\\leqslant",
             "\\geqslant", "≤", "≥", "≠"}
OPENERS = {"{", "(", "[", "\\{", "\\left(", "\\left["}
CLOSERS = {"}", ")", "]", "\\}", "\\right)", "\\right]"}
STEP_WORDS = {"so", "hence", "thus", "then", "therefore", "gives", "implies"}
FINAL_WORDS = {"therefore", "answer", "ans"}
SPACING = {"\\quad", "\\qquad", "\\,", "\\;", "\\:", "\\!", "\\ ", "~", "$", "\\displaystyle", "\\left", "\\right",
           "\\big", "\\Big", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "&"}
ARROWS = {"\\Rightarrow", "\\implies", "\\Longrightarrow", "\\Leftrightarrow", "\\iff", "\\Longleftrightarrow",
          "\\therefore", ";"}
WRAPPERS = {"\\text", "\\textrm", "\\mathrm", "\\mbox", "\\textit", "\\textbf", "\\operatorname"}
BOXES = {"\\boxed", "\\fbox", "\\framebox"}
# a bare word of maths, not English, when typed without its backslash
MATH_WORDS = {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "sqrt", "lim", "arcsin", "arccos",
              "arctan", "sinh", "cosh", "tanh", "frac", "cdot", "pi", "infty", "int", "sum", "or", "and"}

_UNICODE = {"−": "-", "–": "-", "⇒": " \\Rightarrow ", "⟹": " \\Rightarrow ", "⇔": " \\iff ", "∴": " \\therefore ",
            "×": " \\times ", "·": " \\cdot ", "÷": " \\div ", "≤": " \\leq ", "≥": " \\geq ", "≠": " \\neq ",
            "∈": " \\in ", "∪": " \\cup ", "∅": " \\emptyset ", "ℝ": " \\mathbb{R} ", "∞": " \\infty ",
            "√": " \\sqrt ", "π": " \\pi ", "±": " \\pm ", "Δ": " \\Delta "}
# phrases, typed bare or inside \text{..}, and the token each becomes ("" drops it)
_PHRASES = [
    (r"no\s+real\s+(?:solutions?|roots?)", NO_SOLUTION), (r"no\s+(?:solutions?|roots?)", NO_SOLUTION),
    (r"(?:has\s+)?infinitely\s+many(?:\s+solutions)?", EVERY_NUMBER),
    (r"(?:every|all|any)\s+real(?:\s+numbers?|\s+x)?", EVERY_NUMBER), (r"(?:every|all|any)\s+x", EVERY_NUMBER),
    (r"identity", EVERY_NUMBER), (r"none", NO_SOLUTION),
    (r"(?:is\s+)?(?:rejected|extraneous|not\s+a\s+solution|invalid|impossible)|reject|does\s*n[o']t\s+work|fails",
     REJECT),
    (r"or", f" {OR} "), (r"and", " , "),
    (r"so|hence|thus|then|therefore|gives|implies", " ; "),
]
_WORD = re.compile(r"(?<![\\A-Za-z])(" + "|".join(p for p, _ in _PHRASES) + r")(?![A-Za-z])", re.I)
_LETTERS = re.compile(r"(?<![\\A-Za-z])[A-Za-z]{3,}")
_ENVIRONMENT = re.compile(r"\\(?:begin|end)\s*\{(?:cases|aligned|align\*?|gathered|split|array|matrix)\}"
                          r"(?:\s*\{[lcr|]*\})?")
_ANNOTATION = re.compile(r"\|\s*(?:[-+:*/·]|\\cdot|\\times|\\div)[^|]*$")


def _drop_annotation(text: str) -> str:
    """2x + 3 = 11 | -3: the operation noted after a bar (as German schools write it) is no part of the step; a bar
    that closes an absolute value (an odd one) is kept."""
    m = _ANNOTATION.search(text)
    if m is None or text[:m.start()].count("|") % 2:
        return text
    return text[:m.start()]


@dataclass
class Piece:
    """One step as written: its tokens, and whether it is marked as the answer."""

    tokens: list[str]
    final: bool = False
    partial: bool = False  # one root of several, each on a line of its own (x = 2, then x = -2)

    @property
    def text(self) -> str:
        return " ".join(self.tokens)


def _phrase(match: re.Match) -> str:
    said = " ".join(match.group(1).lower().split())
    for pattern, token in _PHRASES:
        if re.fullmatch(pattern, said):
            return f" {token} " if token.strip() in (NO_SOLUTION, EVERY_NUMBER, REJECT) else token
    return " "


def normalise(line: str) -> str:
    """The line with unicode symbols as LaTeX, the words it holds as tokens (`OR`, `NO_SOLUTION`, ...), `\\text{..}`
    unwrapped and spacing dropped."""
    text = str(line)
    for char, latex in _UNICODE.items():
        text = text.replace(char, latex)
    text = _ENVIRONMENT.sub(" ", text)  # \begin{cases} x+y=5 \\ x-y=1 \end{cases}: the rows stay
    text = _drop_annotation(text)
    text = re.sub(r"\\(?:text|textrm|mathrm|mbox|textit|textbf)\s*\{([^{}]*)\}", lambda m: f" {m.group(1)} ", text)
    text = re.sub(r"\\mathbb\s*\{\s*([RZN])\s*\}", lambda m: f" \\mathbb{m.group(1)} ", text)
    text = re.sub(r"\\varnothing|\\O(?![A-Za-z])|\\\{\s*\\\}", lambda m: f" {NO_SOLUTION} ", text)
    return _WORD.sub(_phrase, text)


def tokens_of(text: str) -> list[str]:
    """The tokens of normalised text, spacing left out; `\\mathbb{R}` and `\\mathbb{Z}` are single tokens."""
    out: list[str] = []
    for tok, _ in latex_tokens(text):
        if tok in SPACING:
            continue
        if tok in ("\\mathbbR", "\\mathbbN"):
            tok = EVERY_NUMBER
        elif tok == "\\mathbbZ":
            tok = INTEGERS
        out.append(tok)
    return out


def words_only(line: str) -> bool:
    """Is this a line of words, not of mathematics ("I think this is right")? Runs of three or more letters that
    are no function name ("sin", "log", ...) and no word the checker reads ("or", "so") make it so."""
    text = normalise(line)
    text = re.sub(r"\\[A-Za-z]+", " ", text)
    runs = [w for w in _LETTERS.findall(text) if w.lower() not in MATH_WORDS]
    return bool(runs) and (len(runs) >= 2 or max(len(w) for w in runs) >= 4)


def split_top(tokens: list[str], separators: set[str]) -> list[list[str]]:
    """The runs of tokens between top-level separators (not inside braces or brackets; an interval's '(' and ']'
    count as a pair)."""
    parts: list[list[str]] = [[]]
    depth = 0
    for tok in tokens:
        if tok in OPENERS:
            depth += 1
        elif tok in CLOSERS:
            depth = max(0, depth - 1)
        if depth == 0 and tok in separators:
            parts.append([])
        else:
            parts[-1].append(tok)
    return parts


def top_positions(tokens: list[str], wanted: set[str]) -> list[int]:
    """Where tokens of `wanted` stand at the top level."""
    out, depth = [], 0
    for i, tok in enumerate(tokens):
        if tok in OPENERS:
            depth += 1
        elif tok in CLOSERS:
            depth = max(0, depth - 1)
        elif depth == 0 and tok in wanted:
            out.append(i)
    return out


def _boxes_opened(tokens: list[str]) -> tuple[list[str], set[int]]:
    """The tokens without `\\boxed{` and its closing brace, and the positions (in what is returned) that stood in a
    box: a box may hold several steps (\\boxed{3x = -18 ; x = -6})."""
    out: list[str] = []
    boxed: set[int] = set()
    closing: list[int] = []
    depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in BOXES and i + 1 < len(tokens) and tokens[i + 1] == "{":
            depth += 1
            closing.append(depth)
            i += 2
            continue
        if tok == "{":
            depth += 1
        elif tok == "}":
            if closing and closing[-1] == depth:
                closing.pop()
                depth -= 1
                i += 1
                continue
            depth -= 1
        if closing:
            boxed.add(len(out))
        out.append(tok)
        i += 1
    return out, boxed


def pieces(line: str) -> list[Piece]:
    """The steps written on one line, in order (empty ones dropped)."""
    toks, boxed = _boxes_opened(tokens_of(normalise(line)))
    out: list[Piece] = []
    final_next = False
    current: list[str] = []

    in_box = [False]

    def flush(final: bool) -> None:
        if current:
            out.append(Piece(list(current), final or in_box[0]))
        in_box[0] = False

    depth = 0
    i = 0
    while i < len(toks):
        tok = toks[i]
        in_box[0] = in_box[0] or i in boxed
        if tok in OPENERS:
            depth += 1
        elif tok in CLOSERS:
            depth = max(0, depth - 1)
        arrow = depth == 0 and (tok in ARROWS or (tok == "=" and i + 1 < len(toks) and toks[i + 1] == ">"))
        if arrow:
            flush(final_next)
            current = []
            final_next = tok == "\\therefore"
            i += 2 if tok == "=" else 1
            continue
        current.append(tok)
        i += 1
    flush(final_next)
    return out
