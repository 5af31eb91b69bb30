from inkmath.equation.steps_base import NoSteps
def arithmetic_steps(raw, input_latex):
    raise NoSteps("not yet")
def simplify_steps(raw, item, result, input_latex):
    raise NoSteps("not yet")
