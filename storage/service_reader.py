"""Service-level aggregates: RED metrics per service or operation, and the service map."""

from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from storage.trace_reader import FAILED_SPAN, TRACE_MARGIN_NS
from storage.types import TimeRange

# A "request" of a service: a span that starts work in it (server or consumer span, or a root).
_RED = f"""
SELECT {{group_by:Identifier}} AS name, count() AS requests, countIf({FAILED_SPAN}) AS errors,
       quantiles(0.5, 0.95, 0.99)(Duration) AS q
FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({{since:Int64}}) AND Timestamp < fromUnixTimestamp64Nano({{until:Int64}})
  AND (SpanKind IN ('Server', 'Consumer') OR ParentSpanId = '')
  AND ({{service:String}} = '' OR ServiceName = {{service:String}})
GROUP BY name
ORDER BY errors / requests DESC, requests DESC
"""

# Edges are seen from the caller's side: each client or producer span is one call; its callee is
# the service of the server/consumer span it caused, or, when none was instrumented, its peer.
# As aggregate states per minute, so that rolled-up minutes and live ones merge in one query.
_EDGE_STATES = """
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

_ROLLUP = "INSERT INTO hopscope_service_edges " + _EDGE_STATES

_ROLLED_UP = "SELECT toUnixTimestamp(min(Minute)), toUnixTimestamp(max(Minute)), count() FROM hopscope_service_edges"

# Rolled-up minutes for the middle of the range, live spans for its two ends.
_EDGES = f"""
SELECT Caller, Callee, CalleeType, sum(Calls) AS calls, sum(Errors) AS errors, quantilesMerge(0.5, 0.95)(Latency) AS q
FROM (
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency FROM hopscope_service_edges
    WHERE Minute >= toDateTime(intDiv({{rolled_since:Int64}}, 1000000000))
      AND Minute < toDateTime(intDiv({{rolled_until:Int64}}, 1000000000))
    UNION ALL
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency FROM ({
    _EDGE_STATES.replace("{since:", "{head_since:")
    .replace("{until:", "{head_until:")
    .replace("{until_margin:", "{head_margin:")
})
    UNION ALL
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency FROM ({
    _EDGE_STATES.replace("{since:", "{tail_since:")
    .replace("{until:", "{tail_until:")
    .replace("{until_margin:", "{tail_margin:")
})
)
GROUP BY Caller, Callee, CalleeType
ORDER BY calls DESC
"""

MINUTE_NS = 60 * 10**9


@dataclass(frozen=True)
class RedStats:
    name: str
    requests: int
    errors: int
    p50_ns: float
    p95_ns: float
    p99_ns: float


@dataclass(frozen=True)
class Edge:
    caller: str
    callee: str
    callee_type: str  # service, database, queue or external
    calls: int
    errors: int
    p50_ns: float
    p95_ns: float


class ServiceReader:
    def __init__(self, client: Client) -> None:
        self._client = client

    def red(self, time_range: TimeRange, service: str = "") -> list[RedStats]:
        """Per service, or per operation of `service` when one is given."""
        params = {
            "since": time_range.since_ns,
            "until": time_range.until_ns,
            "service": service,
            "group_by": "SpanName" if service else "ServiceName",
        }
        rows = self._client.query(_RED, parameters=params).result_rows
        return [RedStats(name, requests, errors, *q) for name, requests, errors, q in rows]

    def rolled_up(self) -> tuple[int, int] | None:
        """[first, last + 1 minute) in Unix nanoseconds that the roll-up covers, or None."""
        first, last, rows = self._client.query(_ROLLED_UP).result_rows[0]
        return (first * 10**9, last * 10**9 + MINUTE_NS) if rows else None

    def rollup_edges(self, since_ns: int, until_ns: int) -> None:
        """Roll up whole minutes [since_ns, until_ns) (both minute-aligned). Not idempotent: each
        minute must be rolled up once, after its spans have arrived (see collector.rollups)."""
        self._client.command(
            _ROLLUP, parameters={"since": since_ns, "until": until_ns, "until_margin": until_ns + TRACE_MARGIN_NS}
        )

    def edges(self, time_range: TimeRange) -> list[Edge]:
        """Calls per caller -> callee in the range: rolled-up minutes where they exist, spans elsewhere."""
        since, until = time_range.since_ns, time_range.until_ns
        covered = self.rolled_up()
        first = -(-since // MINUTE_NS) * MINUTE_NS  # whole minutes inside the range
        last = until // MINUTE_NS * MINUTE_NS
        if covered:
            first, last = max(first, covered[0]), min(last, covered[1])
        if not covered or first >= last:
            first = last = since  # nothing rolled up in this range: all of it live
        params = {
            "rolled_since": first,
            "rolled_until": last,
            "head_since": since,
            "head_until": first,
            "head_margin": first + TRACE_MARGIN_NS,
            "tail_since": max(last, since),
            "tail_until": until,
            "tail_margin": until + TRACE_MARGIN_NS,
        }
        rows = self._client.query(_EDGES, parameters=params).result_rows
        return [Edge(caller, callee, kind, calls, errors, *q) for caller, callee, kind, calls, errors, q in rows]
