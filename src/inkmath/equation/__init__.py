"""Equation recognition: strokes or an image -> symbols -> 2-D layout -> expression tree -> LaTeX / SymPy."""
