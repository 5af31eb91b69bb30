"""A photo's pixels: the sheet, its clean-up, its orientation, the groups of ink that make expressions, and the
views of a one-expression photo. Reads nothing."""
