"""Reading an expression from its symbol hypotheses: symbols in context, their size and pen, atoms, layout and
structure, the decoder with its LaTeX language model, and the calibration of its confidence."""
