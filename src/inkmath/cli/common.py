"""What every command shares: the rich consoles and JSON that tolerates NumPy numbers."""

from __future__ import annotations

import json


def console(stderr: bool = False):
    from rich.console import Console

    return Console(stderr=stderr)


def jsonable(obj):
    return json.loads(json.dumps(obj, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
