"""The one background loop: runs at start, again after the delay its task asks for, at once when
woken, survives a failing pass, and stops."""

from __future__ import annotations

import threading
import time

from core.periodic import PeriodicThread
from tests.polling import wait_until


def test_runs_at_start_then_every_interval_until_stopped():
    calls: list[float] = []
    loop = PeriodicThread("test-loop", lambda: calls.append(time.monotonic()), interval=0.05)
    loop.start()
    wait_until(lambda: len(calls) >= 3, 5)
    loop.stop()
    count = len(calls)
    time.sleep(0.15)
    assert len(calls) == count  # nothing after stop()
    assert all(b - a >= 0.04 for a, b in zip(calls, calls[1:], strict=False))


def test_wake_runs_the_next_pass_at_once_and_the_task_sets_its_delay():
    passes = threading.Semaphore(0)

    def task() -> float:
        passes.release()
        return 60.0  # would sleep a minute unless woken

    loop = PeriodicThread("test-wake", task, interval=60.0)
    loop.start()
    assert passes.acquire(timeout=5)
    loop.wake()
    assert passes.acquire(timeout=5)
    loop.stop()


def test_a_failing_pass_does_not_end_the_loop():
    calls = []

    def task() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("storage hiccup")

    loop = PeriodicThread("test-fail", task, interval=0.01)
    loop.start()
    wait_until(lambda: len(calls) >= 2, 5)
    loop.stop()
    assert loop.stopping
