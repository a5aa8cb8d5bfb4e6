"""Load shedding: a budget of request-body bytes being read, decoded or logged (`InflightBudget`),
and background loops that give way while the store is behind on inserts (`BackgroundYield`).

A request takes its declared size (Content-Length; more as its body arrives when it declared none)
before any of its body is read, and gives it back when it is answered. A request that does not fit
is answered 503 with Retry-After at once: under overload the collector answers quickly and keeps
its memory bounded, instead of queueing work whose clients will have given up by the time it is
done (and retried it: stored twice).

The budget is what the collector gets through in `target_seconds` at the rate it has been
finishing requests lately (never less than `floor`, never more than `limit`): so a request that is
let in is answered within seconds on a fast machine and a slow one alike.

Used from the event loop only, so it needs no lock.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class InflightBudget:
    def __init__(
        self, limit: int, target_seconds: float = 2.0, floor: int = 4 * 1024**2, window_seconds: float = 5.0
    ) -> None:
        self.limit = limit
        self.used = 0
        self.shed = 0  # requests refused, since start
        self._target = target_seconds
        self._floor = min(floor, limit)
        self._window = window_seconds
        self._done: deque[tuple[float, int]] = deque()  # (when, bytes) of requests finished lately
        self._done_bytes = 0

    def capacity(self) -> int:
        now = time.monotonic()
        while self._done and self._done[0][0] < now - self._window:
            self._done_bytes -= self._done.popleft()[1]
        rate = self._done_bytes / self._window
        return int(min(self.limit, max(self._floor, rate * self._target)))

    def try_take(self, size: int) -> bool:
        """Take `size` bytes if they fit (a request larger than the whole budget is taken when
        nothing else is in flight, or it could never be served: the body limit bounds it)."""
        if self.used and self.used + size > self.capacity():
            self.shed += 1
            return False
        self.used += size
        return True

    def release(self, size: int, finished: bool = False) -> None:
        """Give `size` bytes back; `finished` when the request's work was done (it counts towards
        the rate), not when it was refused or failed early."""
        self.used -= size
        if finished:
            self._done.append((time.monotonic(), size))
            self._done_bytes += size


class BackgroundYield:
    """`may_run` for a background loop (the failure analysis, the service-map roll-up): while the
    store is behind on inserts (the write-ahead log holds more than `backlog_bytes`, more than one
    round of INSERTs), the loop skips its pass, so a burst goes into ClickHouse with every core
    on it, and a pass in progress stops between its steps (`stop_early`); but never for more than
    `max_wait` seconds in a row, so under sustained load the loop still runs whole passes (with more
    to do at a time). `max_wait` 0: never skips.

    Measured on a burst (bench/ingest.py): the drain competed with the analysis of the burst's
    failing traces, ~0.5 ms of CPU each, and their memory added to the inserts' (docs/benchmarks.md).
    Called from its loop's thread only."""

    def __init__(self, backlog: Callable[[], int], backlog_bytes: int, max_wait: float) -> None:
        self._backlog, self._backlog_bytes, self._max_wait = backlog, backlog_bytes, max_wait
        self._ran_at = time.monotonic()
        self._forced = False  # the pass running was let in by `max_wait`, behind as the store was
        self.skipped = 0  # passes skipped, since start

    def __call__(self) -> bool:
        """Whether a pass may start now."""
        now = time.monotonic()
        behind = self._behind()
        if behind and now - self._ran_at < self._max_wait:
            self.skipped += 1
            return False
        self._ran_at, self._forced = now, behind
        return True

    def stop_early(self) -> bool:
        """Between the steps of a pass: whether to leave the rest for later (the store fell behind
        since the pass started; a pass let in by `max_wait` runs to its end)."""
        return not self._forced and self._behind()

    def _behind(self) -> bool:
        return self._backlog() > self._backlog_bytes
