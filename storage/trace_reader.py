"""Reading spans: one trace by id, the failing traces of a time range, and trace search."""

from __future__ import annotations

from dataclasses import dataclass, replace

from clickhouse_connect.driver.client import Client

from core.gcpause import gc_paused
from core.types import LogEvidence, Span, TimeRange
from storage.model.from_rows import ANALYSIS_COLUMNS, SPAN_COLUMNS, analysis_span_from_row, span_from_row
from storage.sql_text import compose
from storage.where import Where

# Spans of a trace may start a little before or end after the range that found it.
TRACE_MARGIN_NS = 15 * 60 * 10**9

# A trace's first span start and last span end, in whole seconds, from the exporter's lookup table
# (a view on every insert): read once per trace lookup and passed to the queries of its spans,
# their log evidence and its logs (a scalar subquery in each cost ~5 ms a time at 10 M spans).
_TRACE_BOUNDS = """
SELECT toUnixTimestamp(min(Start)), toUnixTimestamp(max(End)), count() FROM otel_traces_trace_id_ts
WHERE TraceId = {trace_id:String}
"""

# The trace's granules are named by the TraceId projection (migration 022), a binary search per part
# instead of the TraceId bloom filter of every granule of the day. ClickHouse consults a projection
# index only where skip indexes have not already narrowed the read, and by default only on tables of
# a million rows or more: hence both settings.
_TRACE_SPANS = compose(
    """
SELECT {span_columns} FROM otel_traces
WHERE TraceId = {trace_id:String}
SETTINGS use_skip_indexes = 0, min_table_rows_to_use_projection_index = 0
""",
    span_columns=SPAN_COLUMNS,
)

# Until every part has the projection (a store written before migration 022, while ClickHouse builds
# it for the old parts in the background), a part without it would be read whole: the trace's
# bounds narrow the read to its days and the bloom filter on TraceId picks the granules, as before.
_TRACE_SPANS_BY_BLOOM_FILTER = compose(
    """
SELECT {span_columns} FROM otel_traces
WHERE TraceId = {trace_id:String}
  AND Timestamp >= toDateTime64({first_s:Int64}, 9) AND Timestamp < toDateTime64({last_s:Int64} + 1, 9)
""",
    span_columns=SPAN_COLUMNS,
)

# Active parts of a table (on a cluster: this node's shard) without its TraceId projection.
_PARTS_WITHOUT_PROJECTION = """
SELECT count() FROM system.parts
WHERE database = currentDatabase() AND table IN ({table:String}, {table:String} || '_local') AND active
  AND (table, name) NOT IN (
      SELECT table, parent_name FROM system.projection_parts
      WHERE database = currentDatabase() AND table IN ({table:String}, {table:String} || '_local')
        AND name = 'trace_id_order' AND active)
"""

# A span failed: the HopscopeFailed column (migration 004) states the rule of analysis.chains.is_failed.
FAILED_SPAN = "HopscopeFailed = 1"

# A log record that makes the span it was written in failed (analysis.chains.is_failed): ERROR or
# worse with an exception type, or FATAL, carrying a trace and span id.
ERROR_LOG = "TraceId != '' AND SpanId != '' AND (SeverityNumber >= 21 OR (SeverityNumber >= 17 AND LogAttributes['exception.type'] != ''))"

# Traces with a failed span, or with an error log record inside one of their spans.
_FAILING_TRACES = compose(
    """
SELECT TraceId FROM (
    SELECT TraceId, max(Timestamp) AS Last FROM otel_traces
    WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
      AND {failed_span}
    GROUP BY TraceId
    UNION ALL
    SELECT TraceId, max(Timestamp) AS Last FROM otel_logs
    WHERE TimestampTime >= toDateTime(intDiv({since:Int64}, 1000000000))
      AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
      AND {error_log}
    GROUP BY TraceId
)
GROUP BY TraceId
ORDER BY max(Last) DESC
LIMIT {limit:UInt32}
""",
    failed_span=FAILED_SPAN,
    error_log=ERROR_LOG,
)

_EVIDENCE_COLUMNS = """TraceId, SpanId, toUnixTimestamp64Nano(Timestamp), SeverityText, LogAttributes['exception.type'],
    if(LogAttributes['exception.message'] != '', LogAttributes['exception.message'], Body)"""

# The first error log record of each span of these traces.
_LOG_EVIDENCE = compose(
    """
SELECT {evidence_columns} FROM otel_logs
WHERE TraceId IN {trace_ids:Array(String)}
  AND TimestampTime >= toDateTime(intDiv({since:Int64}, 1000000000))
  AND TimestampTime <= toDateTime(intDiv({until:Int64}, 1000000000))
  AND {error_log}
ORDER BY Timestamp
LIMIT 1 BY TraceId, SpanId
""",
    evidence_columns=_EVIDENCE_COLUMNS,
    error_log=ERROR_LOG,
)

# The same for one trace, within its bounds widened by a margin (as the trace's logs are read).
_TRACE_LOG_EVIDENCE = compose(
    """
SELECT {evidence_columns} FROM otel_logs
WHERE TraceId = {trace_id:String}
  AND TimestampTime >= toDateTime({first_s:Int64} - {margin:UInt32})
  AND TimestampTime <= toDateTime({last_s:Int64} + {margin:UInt32})
  AND {error_log}
ORDER BY Timestamp
LIMIT 1 BY TraceId, SpanId
""",
    evidence_columns=_EVIDENCE_COLUMNS,
    error_log=ERROR_LOG,
)
# Logs may be written a little before or after the spans' own times.
LOG_MARGIN_S = 300

_SPANS_OF_TRACES = compose(
    """
SELECT {analysis_columns} FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp <= fromUnixTimestamp64Nano({until:Int64})
""",
    analysis_columns=ANALYSIS_COLUMNS,
)


# Traces with a span linking to one of these traces (consumers of their messages), from the links
# sorted by the trace they point to (migration 025): a binary search instead of the Links.TraceId
# bloom filter of every granule within the window (docs/benchmarks.md).
_LINKING_TRACES = """
SELECT DISTINCT TraceId FROM otel_traces_links
WHERE LinkedTraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp <= fromUnixTimestamp64Nano({until:Int64})
  AND NOT has({trace_ids:Array(String)}, TraceId)
LIMIT {limit:UInt32}
"""

_TRACE_SEARCH = """
SELECT TraceId FROM otel_traces
WHERE Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
  AND {where}
GROUP BY TraceId
ORDER BY max(Timestamp) DESC
LIMIT {limit:UInt32}
"""

_TRACE_SUMMARIES = compose(
    """
SELECT TraceId,
       min(toUnixTimestamp64Nano(Timestamp)) AS start,
       max(toUnixTimestamp64Nano(Timestamp) + Duration) - start AS duration,
       count() AS spans,
       countIf({failed_span}) > 0 AS failed,
       if(countIf(ParentSpanId = '') > 0, argMinIf(ServiceName, Timestamp, ParentSpanId = ''),
          argMin(ServiceName, Timestamp)) AS root_service,
       if(countIf(ParentSpanId = '') > 0, argMinIf(SpanName, Timestamp, ParentSpanId = ''),
          argMin(SpanName, Timestamp)) AS root_operation,
       groupUniqArray(ServiceName) AS services
FROM otel_traces
WHERE TraceId IN {trace_ids:Array(String)}
  AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp <= fromUnixTimestamp64Nano({until:Int64})
GROUP BY TraceId
ORDER BY start DESC
""",
    failed_span=FAILED_SPAN,
)


@dataclass(frozen=True)
class TraceQuery:
    """Search filters; a trace matches when one of its spans matches all of them."""

    service: str | None = None
    operation: str | None = None
    status: str | None = None  # "error": a failed span; "ok": a span that did not fail
    min_duration_ns: int | None = None
    max_duration_ns: int | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # span or resource attribute key = value


@dataclass(frozen=True)
class TraceBounds:
    """A trace's first span start and last span end, in whole seconds (the lookup table's)."""

    first_s: int
    last_s: int


@dataclass(frozen=True)
class TraceSummary:
    trace_id: str
    start_ns: int
    duration_ns: int
    spans: int
    failed: bool
    root_service: str
    root_operation: str
    services: list[str]


class TraceReader:
    """Thread-safe: each method issues independent queries on the given client."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._projection_built = False  # once every part has it, new parts get it as they are written

    def bounds(self, trace_id: str) -> TraceBounds | None:
        """When the trace's spans ran; None when no span of it is stored."""
        return trace_bounds(self._client, trace_id)

    def spans(self, trace_id: str) -> list[Span]:
        """All spans of one trace, without their log evidence (`with_log_evidence`); an empty list
        when the trace is unknown."""
        if self._has_projection():
            result = self._client.query(_TRACE_SPANS, parameters={"trace_id": trace_id})
        else:
            bounds = self.bounds(trace_id)
            if bounds is None:
                return []
            result = self._client.query(
                _TRACE_SPANS_BY_BLOOM_FILTER,
                parameters={"trace_id": trace_id, "first_s": bounds.first_s, "last_s": bounds.last_s},
            )
        with gc_paused():
            return [span_from_row(row) for row in result.result_rows]

    def _has_projection(self) -> bool:
        if not self._projection_built:
            self._projection_built = projection_built(self._client, "otel_traces")
        return self._projection_built

    def get_trace(self, trace_id: str) -> list[Span]:
        """All spans of one trace, each with its log evidence; an empty list when the trace is
        unknown."""
        spans = self.spans(trace_id)
        if not spans:
            return spans
        return with_log_evidence(spans, log_evidence(self._client, trace_id, span_bounds(spans)))

    def failing_traces(self, time_range: TimeRange, limit: int) -> dict[str, list[Span]]:
        """The newest `limit` traces with a failed span in the range, each with all its spans —
        for analysis: failure, peer and HTTP status precomputed, attribute maps left empty."""
        params = {"since": time_range.since_ns, "until": time_range.until_ns, "limit": limit}
        trace_ids = [row[0] for row in self._client.query(_FAILING_TRACES, parameters=params).result_rows]
        return self.spans_of_traces(trace_ids, time_range)

    def linking_traces(self, trace_ids: list[str], time_range: TimeRange, limit: int) -> list[str]:
        """Up to `limit` other traces with a span that links to one of `trace_ids` (in the range)."""
        if not trace_ids:
            return []
        params = {"trace_ids": trace_ids, "since": time_range.since_ns, "until": time_range.until_ns, "limit": limit}
        return [row[0] for row in self._client.query(_LINKING_TRACES, parameters=params).result_rows]

    def spans_of_traces(self, trace_ids: list[str], time_range: TimeRange) -> dict[str, list[Span]]:
        """The spans of these traces that started in the range (widened by a margin), for analysis:
        failure, peer and status precomputed, attribute maps left empty, log evidence attached."""
        if not trace_ids:
            return {}
        spans: dict[str, list[Span]] = {trace_id: [] for trace_id in trace_ids}
        result = self._client.query(
            _SPANS_OF_TRACES,
            parameters={
                "trace_ids": trace_ids,
                "since": time_range.since_ns - TRACE_MARGIN_NS,
                "until": time_range.until_ns + TRACE_MARGIN_NS,
            },
        )
        with gc_paused():
            for row in result.result_rows:
                spans[row[0]].append(analysis_span_from_row(row))
        evidence = self._client.query(
            _LOG_EVIDENCE,
            parameters={
                "trace_ids": trace_ids,
                "since": time_range.since_ns - TRACE_MARGIN_NS,
                "until": time_range.until_ns + TRACE_MARGIN_NS,
            },
        ).result_rows
        by_trace: dict[str, list] = {}
        for row in evidence:
            by_trace.setdefault(row[0], []).append(row)
        return {
            trace_id: with_log_evidence(trace_spans, _evidence_by_span(by_trace.get(trace_id, [])))
            for trace_id, trace_spans in spans.items()
        }

    def search(self, query: TraceQuery, time_range: TimeRange, limit: int) -> list[TraceSummary]:
        """Matching traces, newest first."""
        where = span_filter(query)
        sql = compose(_TRACE_SEARCH, where=where.sql())
        params = {**where.parameters, "since": time_range.since_ns, "until": time_range.until_ns, "limit": limit}
        trace_ids = [row[0] for row in self._client.query(sql, parameters=params).result_rows]
        if not trace_ids:
            return []
        rows = self._client.query(
            _TRACE_SUMMARIES,
            parameters={
                "trace_ids": trace_ids,
                "since": time_range.since_ns - TRACE_MARGIN_NS,
                "until": time_range.until_ns + TRACE_MARGIN_NS,
            },
        ).result_rows
        return [
            TraceSummary(tid, start, duration, spans, bool(failed), root_service, root_operation, services)
            for tid, start, duration, spans, failed, root_service, root_operation, services in rows
        ]


def projection_built(client: Client, table: str) -> bool:
    """Whether every part of `table` has its TraceId projection (`trace_id_order`, migrations 022
    and 024); parts written before it get it from a background mutation."""
    return client.query(_PARTS_WITHOUT_PROJECTION, parameters={"table": table}).result_rows[0][0] == 0


def span_bounds(spans: list[Span]) -> TraceBounds:
    """When these spans ran: the first start and the last end, in whole seconds."""
    return TraceBounds(min(s.start_ns for s in spans) // 10**9, max(s.start_ns + s.duration_ns for s in spans) // 10**9)


def trace_bounds(client: Client, trace_id: str) -> TraceBounds | None:
    """When the trace's spans ran (from the lookup table); None when no span of it is stored."""
    first_s, last_s, found = client.query(_TRACE_BOUNDS, parameters={"trace_id": trace_id}).result_rows[0]
    return TraceBounds(first_s, last_s) if found else None


def log_evidence(client: Client, trace_id: str, bounds: TraceBounds) -> dict[str, LogEvidence]:
    """Span id -> the first error log record written in it, for one trace within `bounds`."""
    params = {"trace_id": trace_id, "first_s": bounds.first_s, "last_s": bounds.last_s, "margin": LOG_MARGIN_S}
    return _evidence_by_span(client.query(_TRACE_LOG_EVIDENCE, parameters=params).result_rows)


def _evidence_by_span(rows) -> dict[str, LogEvidence]:
    """Rows of _EVIDENCE_COLUMNS by span id."""
    return {
        span_id: LogEvidence(ns, severity, exception_type, message)
        for _, span_id, ns, severity, exception_type, message in rows
    }


def with_log_evidence(spans: list[Span], found: dict[str, LogEvidence]) -> list[Span]:
    """The spans, those an error log record was written in carrying it."""
    if not found:
        return spans
    return [replace(s, log_evidence=found[s.span_id]) if s.span_id in found else s for s in spans]


def span_filter(query: TraceQuery) -> Where:
    """The spans `query` selects, as a WHERE clause (search and comparison share it)."""
    where = Where()
    if query.service:
        where.add("ServiceName = {service:String}", service=query.service)
    if query.operation:
        where.add("SpanName = {operation:String}", operation=query.operation)
    if query.status == "error":
        where.add(FAILED_SPAN)
    elif query.status == "ok":
        where.add(f"NOT {FAILED_SPAN}")
    if query.min_duration_ns is not None:
        where.add("Duration >= {min_duration:UInt64}", min_duration=query.min_duration_ns)
    if query.max_duration_ns is not None:
        where.add("Duration <= {max_duration:UInt64}", max_duration=query.max_duration_ns)
    for key, value in query.attributes:
        where.attribute_equals(("SpanAttributes", "ResourceAttributes"), key, value)
    return where
