"""Service-level aggregates: RED metrics per service or operation, and the service map."""

from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from core.types import TimeRange
from storage.service_edges import EDGE_STATES, MINUTE_NS, rolled_up
from storage.sql_text import compose, rename_parameters
from storage.trace_reader import FAILED_SPAN, TRACE_MARGIN_NS

# A "request" of a service: a span that starts work in it (server or consumer span, or a root).
_RED = compose(
    """
SELECT {group_by:Identifier} AS name, count() AS requests, countIf({failed_span}) AS errors,
       quantiles(0.5, 0.95, 0.99)(Duration) AS q, toUnixTimestamp64Nano(min(Timestamp)) AS first
FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
  AND (SpanKind IN ('Server', 'Consumer') OR ParentSpanId = '')
  AND ({service:String} = '' OR ServiceName = {service:String})
GROUP BY name
ORDER BY errors / requests DESC, requests DESC
""",
    failed_span=FAILED_SPAN,
)

# Which service serves each address (migration 020): the one seen there last.
_SERVICES_AT = """
SELECT Endpoint, argMax(ServiceName, LastSeen) FROM hopscope_endpoints
WHERE has({endpoints:Array(String)}, Endpoint)
GROUP BY Endpoint
"""

# Rolled-up minutes for the middle of the range, live spans for its two ends; a callee known only by
# its address is named by the service that serves it (so a call that failed before the service's
# span was written joins that service's edge).
_EDGES = compose(
    """
SELECT Caller, if(e.Service != '', e.Service, u.Callee) AS Callee, if(e.Service != '', 'service', u.CalleeType) AS Type,
       sum(Calls) AS calls, sum(Errors) AS errors, quantilesMerge(0.5, 0.95)(Latency) AS q
FROM (
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency, if(CalleeType = 'external', Callee, '') AS Address
    FROM (
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency FROM hopscope_service_edges
    WHERE Minute >= toDateTime(intDiv({rolled_since:Int64}, 1000000000))
      AND Minute < toDateTime(intDiv({rolled_until:Int64}, 1000000000))
    UNION ALL
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency FROM ({head})
    UNION ALL
    SELECT Caller, Callee, CalleeType, Calls, Errors, Latency FROM ({tail})
    )
) AS u
LEFT JOIN (
    SELECT Endpoint, argMax(ServiceName, LastSeen) AS Service FROM hopscope_endpoints GROUP BY Endpoint
) AS e ON e.Endpoint = u.Address
WHERE Caller != Callee OR u.CalleeType != 'external'
GROUP BY Caller, Callee, Type
ORDER BY calls DESC
""",
    head=rename_parameters(EDGE_STATES, since="head_since", until="head_until", until_margin="head_margin"),
    tail=rename_parameters(EDGE_STATES, since="tail_since", until="tail_until", until_margin="tail_margin"),
)


# Each version of each service: when it was first and last seen (migration 017).
_VERSIONS = """
SELECT ServiceName, Version, anyLast(Environment), toUnixTimestamp64Nano(min(FirstSeen)) AS first,
       toUnixTimestamp64Nano(max(LastSeen)), sum(Spans)
FROM hopscope_service_versions
WHERE Version != '' AND ({service:String} = '' OR ServiceName = {service:String})
  AND (length({services:Array(String)}) = 0 OR has({services:Array(String)}, ServiceName))
GROUP BY ServiceName, Version
HAVING first >= {since:Int64} AND first < {until:Int64}
ORDER BY first
"""


@dataclass(frozen=True)
class Deploy:
    """A version of a service and when hopscope first saw it: a deploy marker."""

    service: str
    version: str
    environment: str
    first_seen_ns: int
    last_seen_ns: int
    spans: int


@dataclass(frozen=True)
class RedStats:
    name: str
    requests: int
    errors: int
    p50_ns: float
    p95_ns: float
    p99_ns: float
    first_ns: int = 0  # its first request in the range


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
        return [RedStats(name, requests, errors, q[0], q[1], q[2], first) for name, requests, errors, q, first in rows]

    def edges(self, time_range: TimeRange) -> list[Edge]:
        """Calls per caller -> callee in the range: rolled-up minutes where they exist, spans elsewhere."""
        since, until = time_range.since_ns, time_range.until_ns
        covered = rolled_up(self._client)
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

    def services_at(self, endpoints: list[str]) -> dict[str, str]:
        """Address -> the service that serves it, for the addresses known (see migration 020)."""
        if not endpoints:
            return {}
        rows = self._client.query(_SERVICES_AT, parameters={"endpoints": endpoints}).result_rows
        return {endpoint: service for endpoint, service in rows}

    def deploys(
        self, time_range: TimeRange | None = None, service: str = "", services: tuple[str, ...] = ()
    ) -> list[Deploy]:
        """Versions first seen in the range (all of them without one), oldest first; only of `service`
        or of `services` when given."""
        params = {
            "service": service,
            "services": list(services),
            "since": time_range.since_ns if time_range else 0,
            "until": time_range.until_ns if time_range else 2**63 - 1,
        }
        rows = self._client.query(_VERSIONS, parameters=params).result_rows
        return [Deploy(*row) for row in rows]

    def version_first_seen(self, services: tuple[str, ...]) -> dict[tuple[str, str], int]:
        """(service, version) -> when that version was first seen, for these services."""
        if not services:
            return {}
        return {(d.service, d.version): d.first_seen_ns for d in self.deploys(services=services)}
