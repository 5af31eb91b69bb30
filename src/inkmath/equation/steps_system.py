from inkmath.equation.steps_base import NoSteps
def system_steps(raw, items, input_latex):
    raise NoSteps("not yet")
