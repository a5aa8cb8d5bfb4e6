"""The service-map roll-up: per-minute aggregate states of caller -> callee calls, kept in
hopscope_service_edges so the service map over a day reads minutes, not spans.

`EdgeRollup.run_once` rolls up the minutes that are complete (older than `lag`, so late spans have
arrived), starting where the roll-up ends, or on a new store at its first span of the last
`backfill`, in chunks so one pass never holds the engine for long. Not idempotent: each minute must
be rolled up once, so it runs in one collector only when several write to one ClickHouse
(HOPSCOPE_ROLLUPS=false on the others).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from clickhouse_connect.driver.client import Client

from core.periodic import PeriodicThread
from storage.trace_reader import TRACE_MARGIN_NS

log = logging.getLogger("hopscope.rollups")
MINUTE_NS = 60 * 10**9

# Edges are seen from the caller's side: each client or producer span is one call; its callee is
# the service of the server/consumer span it caused, or, when none was instrumented, its peer.
# As aggregate states per minute, so that rolled-up minutes and live ones merge in one query.
EDGE_STATES = """
SELECT toStartOfMinute(p.Timestamp) AS Minute, p.ServiceName AS Caller,
       if(c.SpanId = '', p.HopscopePeer, c.ServiceName) AS Callee,
       if(c.SpanId = '', p.HopscopePeerType, 'service') AS CalleeType,
       toUInt64(count()) AS Calls,
       toUInt64(countIf(p.HopscopeFailed = 1 OR c.HopscopeFailed = 1)) AS Errors,
       quantilesState(0.5, 0.95)(p.Duration) AS Latency
FROM (
    SELECT Timestamp, TraceId, SpanId, ServiceName, HopscopePeer, HopscopePeerType, HopscopeFailed, Duration
    FROM otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
      AND SpanKind IN ('Client', 'Producer')
) AS p
LEFT JOIN (
    SELECT TraceId, SpanId, ParentSpanId, ServiceName, HopscopeFailed FROM otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until_margin:Int64})
      AND SpanKind IN ('Server', 'Consumer') AND ParentSpanId != ''
) AS c ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId
WHERE c.SpanId = '' OR c.ServiceName != p.ServiceName
GROUP BY Minute, Caller, Callee, CalleeType
"""

_ROLLUP = "INSERT INTO hopscope_service_edges " + EDGE_STATES

_ROLLED_UP = "SELECT toUnixTimestamp(min(Minute)), toUnixTimestamp(max(Minute)), count() FROM hopscope_service_edges"


# The first span since `since` (a new store's roll-up starts there, not a whole backfill earlier).
_FIRST_SPAN = """
SELECT toUnixTimestamp64Nano(min(Timestamp)), count() FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64})
"""


def rolled_up(client: Client) -> tuple[int, int] | None:
    """[first, last + 1 minute) in Unix nanoseconds that the roll-up covers, or None."""
    first, last, rows = client.query(_ROLLED_UP).result_rows[0]
    return (first * 10**9, last * 10**9 + MINUTE_NS) if rows else None


class EdgeRollup:
    """Writes hopscope_service_edges; `start()` runs `run_once` every `interval` seconds."""

    def __init__(
        self,
        client: Client,
        interval: float = 30.0,
        lag: float = 120.0,
        backfill: float = 86_400.0,
        chunk: float = 600.0,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        self._client = client
        self._may_run = may_run  # the lease: one collector rolls up, however many run
        self._lag_ns = int(lag * 10**9)
        self._backfill_ns = int(backfill * 10**9)
        self._chunk_ns = max(MINUTE_NS, int(chunk * 10**9) // MINUTE_NS * MINUTE_NS)
        self._thread = PeriodicThread("hopscope-rollup", self._pass, interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._thread.stop(timeout)

    def roll_up(self, since_ns: int, until_ns: int) -> None:
        """Roll up whole minutes [since_ns, until_ns) (both minute-aligned)."""
        self._client.command(
            _ROLLUP, parameters={"since": since_ns, "until": until_ns, "until_margin": until_ns + TRACE_MARGIN_NS}
        )

    def run_once(self, now_ns: int | None = None) -> int:
        """Roll up every complete minute not rolled up yet; returns how many minutes were added."""
        now_ns = now_ns or time.time_ns()
        target = (now_ns - self._lag_ns) // MINUTE_NS * MINUTE_NS
        covered = rolled_up(self._client)
        if covered:
            start = covered[1]
        else:  # a new store: from its first span (within the backfill), nothing before it to roll up
            params = {"since": now_ns - self._backfill_ns}
            first_ns, spans = self._client.query(_FIRST_SPAN, parameters=params).result_rows[0]
            if not spans:
                return 0
            start = first_ns // MINUTE_NS * MINUTE_NS
        done = 0
        while start < target and not self._thread.stopping:
            end = min(start + self._chunk_ns, target)
            self.roll_up(start, end)
            done += (end - start) // MINUTE_NS
            start = end
        return done

    def _pass(self) -> None:
        if not self._may_run():
            return
        added = self.run_once()
        if added:
            log.debug("rolled up %d minutes of service-map edges", added)
