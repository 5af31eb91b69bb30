"""inkmath: read handwritten mathematics.

The core imports light: heavy parts (torch models, the web app, plots) load where they are used.
"""

__version__ = "0.1.0"


class InkmathError(Exception):
    """An error whose message tells the user what went wrong and what to do; the CLI prints it without a traceback."""
