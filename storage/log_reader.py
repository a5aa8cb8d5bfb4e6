"""Reading log records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from core.types import LogEvidence, TimeRange
from storage.sql_text import compose
from storage.trace_reader import ERROR_LOG, LOG_MARGIN_S, TraceBounds, log_evidence, projection_built, trace_bounds
from storage.where import Where

# A trace's logs: from this long before its first span to as long after its last, at most this many.
TRACE_LOG_MARGIN_S = 900
TRACE_LOG_LIMIT = 10_000

_LOG_COLUMNS = """toUnixTimestamp64Nano(Timestamp) AS Ns, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName,
    Body, LogAttributes"""

# A trace's records, oldest first, each saying whether it is an error record (ERROR_LOG: its span's
# evidence of failure when it lies near the trace). The TraceId projection (migration 024) names the
# granules, so the logs are read at once with the spans, without the trace's bounds.
_TRACE_LOGS = compose(
    """
SELECT {log_columns}, {error_log} AS ErrorLog
FROM otel_logs
WHERE TraceId = {trace_id:String}
ORDER BY Timestamp
LIMIT {limit:UInt32}
SETTINGS use_skip_indexes = 0, min_table_rows_to_use_projection_index = 0
""",
    log_columns=_LOG_COLUMNS,
    error_log=ERROR_LOG,
)

# Until every part has the projection (a store written before migration 024): the trace's bounds
# from the spans' lookup table, widened by TRACE_LOG_MARGIN_S, and the bloom filter on TraceId.
_TRACE_LOGS_WITHIN = compose(
    """
SELECT {log_columns}, {error_log} AS ErrorLog
FROM otel_logs
WHERE TraceId = {trace_id:String}
  AND TimestampTime >= toDateTime({first_s:Int64} - {margin:UInt32})
  AND TimestampTime <= toDateTime({last_s:Int64} + {margin:UInt32})
ORDER BY Timestamp
LIMIT {limit:UInt32}
""",
    log_columns=_LOG_COLUMNS,
    error_log=ERROR_LOG,
)


_SEARCH = compose(
    """
SELECT {log_columns}, cityHash64(ServiceName, SpanId, Body, Timestamp) AS Tiebreak FROM otel_logs
WHERE TimestampTime >= toDateTime(intDiv({since:Int64}, 1000000000))
  AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
  AND {where}
ORDER BY Timestamp DESC, Tiebreak DESC
LIMIT {limit:UInt32}
""",
    log_columns=_LOG_COLUMNS,
)

_COUNT = """
SELECT count() FROM otel_logs
WHERE TimestampTime >= toDateTime(intDiv({since:Int64}, 1000000000))
  AND Timestamp >= fromUnixTimestamp64Nano({since:Int64}) AND Timestamp < fromUnixTimestamp64Nano({until:Int64})
  AND {where}
"""

# ClickHouse's token characters (hasToken): ASCII letters and digits, and every non-ASCII byte.
_TOKEN = re.compile(r"[0-9A-Za-z\u0080-\U0010FFFF]+")
_QUOTES = "\"'`"
MAX_TERMS, MAX_TERM_LENGTH = 20, 200


def search_terms(text: str) -> tuple[str, ...]:
    """The terms of a log search: the words of `text` (whitespace-separated, quotes around a word
    dropped), each of which a record must contain. ValueError when there is nothing to search for
    or too much. Any characters may be searched: see `LogReader` for how a term is matched."""
    terms = tuple(t for t in (w.strip(_QUOTES) for w in text.split()) if t)
    if not terms:
        raise ValueError(f"{text!r} has no word to search for")
    if len(terms) > MAX_TERMS or any(len(t) > MAX_TERM_LENGTH for t in terms):
        raise ValueError(f"search at most {MAX_TERMS} words of at most {MAX_TERM_LENGTH} characters")
    return terms


SEVERITY_FLOOR = {"trace": 1, "debug": 5, "info": 9, "warn": 13, "error": 17, "fatal": 21}


@dataclass(frozen=True)
class LogQuery:
    words: tuple[str, ...] = ()  # search terms (see search_terms), each in the body or an attribute value (any case)
    min_severity: int | None = None  # SeverityNumber floor (see SEVERITY_FLOOR)
    service: str | None = None
    trace_id: str | None = None
    attributes: tuple[tuple[str, str], ...] = ()  # log or resource attribute key = value


@dataclass(frozen=True)
class LogCursor:
    """Where the previous page ended: the last record's time and tie-breaker."""

    time_ns: int
    tiebreak: int


@dataclass(frozen=True)
class LogRecord:
    time_ns: int
    trace_id: str
    span_id: str
    severity_text: str
    severity_number: int
    service: str
    body: str
    attributes: dict[str, str]


def _evidence(record: LogRecord) -> LogEvidence:
    """An error record as its span's evidence (the columns of trace_reader's evidence queries)."""
    message = record.attributes.get("exception.message", "")
    return LogEvidence(record.time_ns, record.severity_text, record.attributes.get("exception.type", ""),
                       message if message != "" else record.body)  # fmt: skip


@dataclass(frozen=True)
class TraceLogs:
    """A trace's log records, oldest first, each flagged when it is an error record (ERROR_LOG); at
    most TRACE_LOG_LIMIT (`cut`: there were more)."""

    records: list[LogRecord]
    errors: list[bool]
    cut: bool = False

    def near(self, bounds: TraceBounds) -> list[LogRecord]:
        """The records written within TRACE_LOG_MARGIN_S of the trace's spans: what its detail shows."""
        return [r for r in self.records if _within(r, bounds, TRACE_LOG_MARGIN_S)]

    def evidence(self, bounds: TraceBounds) -> dict[str, LogEvidence]:
        """Span id -> the first error record written in it within LOG_MARGIN_S of the trace's spans
        (what storage.trace_reader.log_evidence finds, when the records are not `cut`)."""
        found: dict[str, LogEvidence] = {}
        for record, error in zip(self.records, self.errors, strict=True):
            if error and record.span_id not in found and _within(record, bounds, LOG_MARGIN_S):
                found[record.span_id] = _evidence(record)
        return found


def _within(record: LogRecord, bounds: TraceBounds, margin_s: int) -> bool:
    """As `TimestampTime BETWEEN first_s - margin AND last_s + margin` (whole seconds)."""
    return bounds.first_s - margin_s <= record.time_ns // 10**9 <= bounds.last_s + margin_s


class LogReader:
    def __init__(self, client: Client) -> None:
        self._client = client
        self._projection_built = False  # once every part has it, new parts get it as they are written

    def search(
        self, query: LogQuery, time_range: TimeRange, limit: int, after: LogCursor | None = None
    ) -> tuple[list[LogRecord], LogCursor | None]:
        """Newest first; returns the page and the cursor of the next page (None on the last page)."""
        where = self._where(query)
        if after is not None:
            where.add(
                "(Timestamp, Tiebreak) < (fromUnixTimestamp64Nano({after_ns:Int64}), {after_tb:UInt64})",
                after_ns=after.time_ns,
                after_tb=after.tiebreak,
            )
        params = {**where.parameters, "since": time_range.since_ns, "until": time_range.until_ns, "limit": limit + 1}
        rows = self._client.query(compose(_SEARCH, where=where.sql()), parameters=params).result_rows
        page = [LogRecord(*row[:-1]) for row in rows[:limit]]
        more = len(rows) > limit
        return page, (LogCursor(rows[limit - 1][0], rows[limit - 1][-1]) if more else None)

    @staticmethod
    def _where(query: LogQuery) -> Where:
        where = Where()
        for word in query.words:
            # Whole tokens through the token index of the body and attribute values (migration 021);
            # a term with separators in it (`user_id`, `a.b/c`, `50%`) must also appear as written.
            tokens = _TOKEN.findall(word)
            for token in tokens:
                where.add(f"hasTokenCaseInsensitive(HopscopeText, {{{where.param('w', token)}:String}})")
            if tokens != [word]:
                where.add(f"positionCaseInsensitiveUTF8(HopscopeText, {{{where.param('p', word)}:String}}) > 0")
        if query.min_severity is not None:
            where.add("SeverityNumber >= {min_severity:UInt8}", min_severity=query.min_severity)
        if query.service:
            where.add("ServiceName = {service:String}", service=query.service)
        if query.trace_id:
            where.add("TraceId = {trace_id:String}", trace_id=query.trace_id)
        for key, value in query.attributes:
            where.attribute_equals(("LogAttributes", "ResourceAttributes"), key, value)
        return where

    def count(self, query: LogQuery, time_range: TimeRange) -> int:
        """How many records match (for alert rules)."""
        where = self._where(query)
        params = {**where.parameters, "since": time_range.since_ns, "until": time_range.until_ns}
        return self._client.query(compose(_COUNT, where=where.sql()), parameters=params).result_rows[0][0]

    def of_trace(self, trace_id: str) -> TraceLogs:
        """The trace's records (`TraceLogs.near` and `TraceLogs.evidence` take those near its spans),
        read by the trace id alone: the trace detail reads them while the spans are read on another
        session."""
        params: dict[str, int | str] = {"trace_id": trace_id, "limit": TRACE_LOG_LIMIT}
        if self._has_projection():
            query = _TRACE_LOGS
        else:
            bounds = trace_bounds(self._client, trace_id)
            if bounds is None:
                return TraceLogs([], [])
            params |= {"first_s": bounds.first_s, "last_s": bounds.last_s, "margin": TRACE_LOG_MARGIN_S}
            query = _TRACE_LOGS_WITHIN
        rows = self._client.query(query, parameters=params).result_rows
        return TraceLogs([LogRecord(*row[:-1]) for row in rows], [bool(row[-1]) for row in rows],
                         cut=len(rows) >= TRACE_LOG_LIMIT)  # fmt: skip

    def evidence(self, trace_id: str, found: TraceLogs, bounds: TraceBounds) -> dict[str, LogEvidence]:
        """The trace's log evidence per span from its records, or, when they were cut short (a span's
        evidence may lie past the limit), from the evidence query."""
        if found.cut:
            return log_evidence(self._client, trace_id, bounds)
        return found.evidence(bounds)

    def _has_projection(self) -> bool:
        if not self._projection_built:
            self._projection_built = projection_built(self._client, "otel_logs")
        return self._projection_built
