"""The reader's shared ground: the expression tree, token roles, LaTeX out and its normalisation, typed LaTeX in,
the small nets (perceptron, transformer) and the WAP-like rendering. Imports nothing else of inkmath.equation."""
