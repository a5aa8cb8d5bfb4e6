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
_EDGES = """
SELECT p.ServiceName AS caller,
       if(c.SpanId = '', p.HopscopePeer, c.ServiceName) AS callee,
       if(c.SpanId = '', p.HopscopePeerType, 'service') AS callee_type,
       count() AS calls,
       countIf(p.HopscopeFailed = 1 OR c.HopscopeFailed = 1) AS errors,
       quantiles(0.5, 0.95)(p.Duration) AS q
FROM (
    SELECT TraceId, SpanId, ServiceName, HopscopePeer, HopscopePeerType, HopscopeFailed, Duration FROM otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
      AND SpanKind IN ('Client', 'Producer')
) AS p
LEFT JOIN (
    SELECT TraceId, SpanId, ParentSpanId, ServiceName, HopscopeFailed FROM otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until_margin:Int64})
      AND SpanKind IN ('Server', 'Consumer') AND ParentSpanId != ''
) AS c ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId
WHERE c.SpanId = '' OR c.ServiceName != p.ServiceName
GROUP BY caller, callee, callee_type
ORDER BY calls DESC
"""


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

    def edges(self, time_range: TimeRange) -> list[Edge]:
        params = {
            "since": time_range.since_ns,
            "until": time_range.until_ns,
            "until_margin": time_range.until_ns + TRACE_MARGIN_NS,
        }
        rows = self._client.query(_EDGES, parameters=params).result_rows
        return [Edge(caller, callee, kind, calls, errors, *q) for caller, callee, kind, calls, errors, q in rows]
