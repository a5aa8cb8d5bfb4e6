"""Load shedding before work: a budget of request-body bytes being read, decoded or logged.

A request takes its declared size (Content-Length; more as its body arrives when it declared none)
before any of its body is read, and gives it back when it is answered. A request that does not fit
is answered 503 with Retry-After at once: under overload the collector answers quickly and keeps
its memory bounded, instead of queueing work whose clients will have given up by the time it is
done (and retried it: stored twice).

Used from the event loop only, so it needs no lock.
"""

from __future__ import annotations


class InflightBudget:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.shed = 0  # requests refused, since start

    def try_take(self, size: int) -> bool:
        """Take `size` bytes if they fit (a request larger than the whole budget is taken when
        nothing else is in flight, or it could never be served: the body limit bounds it)."""
        if self.used and self.used + size > self.limit:
            self.shed += 1
            return False
        self.used += size
        return True

    def release(self, size: int) -> None:
        self.used -= size
