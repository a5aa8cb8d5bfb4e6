"""The one background loop: a daemon thread that runs a task now and then until stopped.

The evaluator, the webhook deliverer, the service-map roll-up and the batch writer all run on it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys
import threading
from collections.abc import Callable

log = logging.getLogger("hopscope")

_PR_SET_NAME = 15


def name_os_thread(name: str) -> None:
    """Give the calling thread `name` in the operating system too (Linux keeps 15 bytes), so `top -H`
    and /proc tell the loops apart from ClickHouse's threads. Best effort: nothing elsewhere."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_NAME, name.encode()[:15], 0, 0, 0)
    except (OSError, AttributeError):
        pass


class PeriodicThread:
    """Runs `task` on a daemon thread named `name`: once at start, then again after the number of
    seconds it returns (`interval` when it returns None), or at once after `wake()`.

    An exception from `task` is logged and the next pass tries again: a storage hiccup must not end
    a background loop. `stop()` lets the pass in progress finish and ends the loop; a task that
    runs long checks `stopping` to end early. Thread-safe; `start()` and `stop()` once each.
    """

    def __init__(self, name: str, task: Callable[[], float | None], interval: float) -> None:
        self.name = name
        self._task = task
        self._interval = interval
        self._stopping = False
        self._woken = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        """Run the next pass now (or right after the one in progress)."""
        self._woken.set()

    def stop(self, timeout: float = 30.0) -> None:
        """End the loop and wait up to `timeout` seconds for the pass in progress."""
        self._stopping = True
        self._woken.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        name_os_thread(self.name)
        while not self._stopping:
            delay: float | None = None
            try:
                delay = self._task()
            except Exception as exc:  # noqa: BLE001 - see the class docstring
                log.warning("%s: pass failed, retrying in %.0fs: %s", self.name, self._interval, exc)
            if self._stopping:
                break
            self._woken.wait(self._interval if delay is None else max(0.0, delay))
            self._woken.clear()
