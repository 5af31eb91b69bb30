"""Worked solutions, one module per kind of problem; worked.worked_steps chooses among them."""
