"""One table of token roles: which CROHME tokens are digits, letters, operators, relations, brackets, big operators,
function names, marks. The layout parser, the image segmenter and the SymPy translation read their sets here.
"""

from __future__ import annotations

DIGITS = frozenset("0123456789")
CAPITALS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz") | CAPITALS

# function names written as letters, and the token each becomes
FUNCTION_NAMES = {"sin": "\\sin", "cos": "\\cos", "tan": "\\tan", "log": "\\log", "lim": "\\lim", "ln": "\\ln",
                  "exp": "\\exp", "sec": "\\sec", "cot": "\\cot"}
FUNCTION_TOKENS = frozenset(FUNCTION_NAMES.values())
# the names the CROHME symbol classifier reads whole (its classes)
CLASSIFIER_NAMES = frozenset({"\\sin", "\\cos", "\\tan", "\\log", "\\lim"})
# names whose 'i' has a dot written apart
DOTTED_NAMES = frozenset({"\\sin", "\\lim"})
BIG_OPS = frozenset({"\\sum", "\\int", "\\prod", "\\lim"})

BRACKET_PAIRS = {"(": ")", "[": "]", "\\{": "\\}"}
OPEN_BRACKETS = frozenset(BRACKET_PAIRS)
CLOSE_BRACKETS = frozenset(BRACKET_PAIRS.values())
RELATIONS = frozenset({"=", "\\neq", "\\leq", "\\geq", "\\lt", "\\gt", "<", ">", "\\in"})
OPERATORS = frozenset({"+", "-", "=", "\\times", "\\div", "\\pm", "\\neq", "\\leq", "\\geq", "\\lt", "\\gt", "<", ">",
                       "\\rightarrow", "\\in", "\\cdot", "/", ",", ".", "\\ldots", "\\exists", "\\forall"})
# between two operands
BINARY = frozenset({"+", "-", "\\times", "\\div", "\\pm", "\\rightarrow"}) | RELATIONS
# tokens a fraction bar may be read as
BAR_TOKENS = frozenset({"-", "\\rightarrow"})
# small marks written apart from the symbol they belong to (a dot, a comma, a prime's tick)
MARKS = frozenset({".", ",", "\\prime"})

# how a symbol sits on the baseline
ASCENDER_LETTERS = frozenset("bdfhklt") | {"\\delta", "\\lambda", "\\theta", "!"}
DESCENDER_LETTERS = frozenset("gpqyj") | {"\\mu", "\\gamma", "\\rho", "\\eta", ","}
TALL = DIGITS | CAPITALS | {"\\Delta", "\\beta", "\\phi", "\\Pi", "\\Sigma", "\\Omega", "|", "/", "?"}
