"""The one error type of the library, and the version: the lowest module, imported by every other."""

__version__ = "0.1.0"


class InkmathError(Exception):
    """An error whose message tells the user what went wrong and what to do; the CLI prints it without a traceback."""
