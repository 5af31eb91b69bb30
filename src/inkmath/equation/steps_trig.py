"""placeholder"""
def is_trig_equation(f, var):
    return False
