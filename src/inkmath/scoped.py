"""A memo that lives for one piece of work: a per-thread dict that exists only inside ``with memo.scope():``.

    GEOMETRY = ScopedMemo()
    with GEOMETRY.scope():        # one input's decoding
        memo = GEOMETRY.get()     # a dict here, None outside any scope

A scope opened inside another shares the outer one's dict, and the dict goes when the outermost scope ends, so
nothing is kept across inputs.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager


class ScopedMemo:
    def __init__(self) -> None:
        self._local = threading.local()

    def get(self) -> dict | None:
        """This thread's dict inside a scope, else None."""
        return getattr(self._local, "memo", None)

    @contextmanager
    def scope(self):
        if self.get() is not None:
            yield
            return
        self._local.memo = {}
        try:
            yield
        finally:
            self._local.memo = None
