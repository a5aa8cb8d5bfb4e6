"""Pausing Python's cyclic garbage collector while many small objects are built at once.

Turning 20,000 rows into spans allocates a few hundred thousand objects; every 700 allocations the
collector runs, and as the objects survive it walks them again and again (a third of the time of
reading a 20,000-span trace). None of them form cycles, so nothing is lost by pausing it for the
duration; it is re-enabled when the last of the threads that paused it is done.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0  # threads inside gc_paused()
_was_enabled = True  # the collector's state before the first of them paused it


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pausing, _was_enabled
    with _lock:
        if _pausing == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _was_enabled:
                gc.enable()
