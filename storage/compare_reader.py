"""What failing spans have in common: attribute values over-represented among the failing spans of
a selection compared with its healthy spans in the same time range.

Bounded: both sides are sampled in ClickHouse by a hash of the span id (at most `per_side` spans
each, chosen by the same rule on every run), and only aggregated (source, key, value) rows come
back, already ranked."""

from __future__ import annotations

from dataclasses import dataclass, replace

from clickhouse_connect.driver.client import Client

from core.types import AttributeDelta, TimeRange
from storage.sql_text import compose
from storage.trace_reader import FAILED_SPAN, TraceQuery, span_filter

# Attributes that restate the failure itself (a failing span "has" status 500): never a finding.
IGNORED_KEYS = (
    "http.response.status_code",
    "http.status_code",
    "rpc.grpc.status_code",
    "error",
    "error.type",
    "error.message",
    "otel.status_code",
    "otel.status_description",
    "exception.type",
    "exception.message",
    "exception.stacktrace",
)

_RANGE = (
    """Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})"""
)

_TOTALS = compose(
    """
SELECT {failed_span} AS failed, count() FROM otel_traces
WHERE {range} AND {where}
GROUP BY failed
""",
    failed_span=FAILED_SPAN,
    range=_RANGE,
)

_SAMPLED = compose(
    """cityHash64(SpanId) % if({failed_span}, {failing_every:UInt64}, {healthy_every:UInt64}) = 0""",
    failed_span=FAILED_SPAN,
)

_SAMPLED_TOTALS = compose(
    """
SELECT {failed_span} AS failed, count() FROM otel_traces
WHERE {range} AND {where} AND {sampled}
GROUP BY failed
""",
    failed_span=FAILED_SPAN,
    range=_RANGE,
    sampled=_SAMPLED,
)

_DELTAS = compose(
    """
SELECT kv.1 AS source, kv.2 AS key, kv.3 AS value, countIf(failed) AS in_failing, countIf(NOT failed) AS in_healthy
FROM (
    SELECT {failed_span} AS failed,
           arrayJoin(arrayConcat(
               arrayMap((k, v) -> ('span', toString(k), v), mapKeys(SpanAttributes), mapValues(SpanAttributes)),
               arrayMap((k, v) -> ('resource', toString(k), v), mapKeys(ResourceAttributes), mapValues(ResourceAttributes))
           )) AS kv
    FROM otel_traces
    WHERE {range} AND {where} AND {sampled}
)
WHERE NOT has({ignored:Array(String)}, key) AND length(value) <= 300
GROUP BY source, key, value
HAVING in_failing >= {min_failing:UInt64}
   AND in_failing / {failing:Float64} > in_healthy / greatest({healthy:Float64}, 1)
ORDER BY in_failing / {failing:Float64} - in_healthy / greatest({healthy:Float64}, 1) DESC, key, value
LIMIT {limit:UInt32}
""",
    failed_span=FAILED_SPAN,
    range=_RANGE,
    sampled=_SAMPLED,
)


@dataclass(frozen=True)
class Comparison:
    failing_spans: int  # in the selection and range
    healthy_spans: int
    sampled_failing: int  # compared
    sampled_healthy: int
    deltas: list[AttributeDelta]  # most over-represented first


class CompareReader:
    def __init__(self, client: Client) -> None:
        self._client = client

    def compare(self, query: TraceQuery, time_range: TimeRange, limit: int = 10, per_side: int = 20_000) -> Comparison:
        """Failing vs healthy spans matching `query` (service, operation, attributes, durations)."""
        where = span_filter(replace(query, status=None))  # both sides: failing and healthy
        params = {**where.parameters, "since": time_range.since_ns, "until": time_range.until_ns}
        totals = self._counts(compose(_TOTALS, where=where.sql()), params)
        failing, healthy = totals.get(True, 0), totals.get(False, 0)
        if not failing or not healthy:
            return Comparison(failing, healthy, 0, 0, [])  # nothing to compare with
        params["failing_every"] = -(-failing // per_side)
        params["healthy_every"] = max(-(-healthy // per_side), 1)
        sampled = self._counts(compose(_SAMPLED_TOTALS, where=where.sql()), params)
        sampled_failing, sampled_healthy = sampled.get(True, 0), sampled.get(False, 0)
        if not sampled_failing:
            return Comparison(failing, healthy, 0, sampled_healthy, [])
        params |= {
            "failing": sampled_failing,
            "healthy": sampled_healthy,
            # A value must be on a few failing spans (and 2% of them) to count: ids never are.
            "min_failing": max(2, sampled_failing // 50),
            "ignored": list(IGNORED_KEYS),
            "limit": limit,
        }
        rows = self._client.query(compose(_DELTAS, where=where.sql()), parameters=params).result_rows
        deltas = [
            AttributeDelta(
                source,
                key,
                value,
                in_failing,
                in_healthy,
                round(in_failing / sampled_failing, 4),
                round(in_healthy / sampled_healthy, 4) if sampled_healthy else 0.0,
            )
            for source, key, value, in_failing, in_healthy in rows
        ]
        return Comparison(failing, healthy, sampled_failing, sampled_healthy, deltas)

    def _counts(self, sql: str, params: dict) -> dict[bool, int]:
        return {bool(failed): count for failed, count in self._client.query(sql, parameters=params).result_rows}
