"""The load line of `./scripts/up`: the last interval first, the run's total apart."""

from __future__ import annotations

from demo.load import Progress


def test_the_load_line_shows_the_last_interval_after_a_fault_is_switched_off():
    progress = Progress()
    progress.sent, progress.failed = 10, 10  # the fault was on
    progress.latencies = [2000.0] * 10
    first = progress.line(5.0)
    assert "last 5s: ok 0  failed 10 (100%)  2.0 req/s" in first and "total: sent 10, failed 10 (100%)" in first
    progress.sent, progress.ok = 20, 10  # ...and is off again
    progress.latencies += [40.0] * 10
    second = progress.line(10.0)
    assert "last 5s: ok 10  failed 0 (0%)  2.0 req/s  p50 40 ms" in second
    assert "total: sent 20, failed 10 (50%)" in second
