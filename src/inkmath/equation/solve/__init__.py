"""Answering a read or typed expression: the tree as SymPy objects, the solver and its worker processes, the
worked steps (steps/) and the graph. Never imports the reader."""
