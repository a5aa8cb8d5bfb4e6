"""Reading log records."""

from __future__ import annotations

import re
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from core.types import LogEvidence, TimeRange
from storage.sql_text import compose
from storage.trace_reader import ERROR_LOG, LOG_MARGIN_S, log_evidence, trace_bounds
from storage.where import Where

# A trace's logs: from this long before its first span to as long after its last, at most this many.
TRACE_LOG_MARGIN_S = 900
TRACE_LOG_LIMIT = 10_000

_LOG_COLUMNS = """toUnixTimestamp64Nano(Timestamp) AS Ns, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName,
    Body, LogAttributes"""

# A trace's records: its time span (its bounds, from the spans' lookup table) widened by a margin
# for logs written just before or after them; the bloom filter on TraceId picks the granules. Each
# record says whether it is its span's evidence of failure (storage.trace_reader ERROR_LOG, within
# the evidence's narrower margin): the trace detail takes the first per span from them instead of
# a second query (one read of the trace's logs: 6-9 ms less at 10 M spans).
_TRACE_LOGS_AND_EVIDENCE = compose(
    """
SELECT {log_columns},
       ({error_log})
       AND TimestampTime >= toDateTime({first_s:Int64} - {evidence_margin:UInt32})
       AND TimestampTime <= toDateTime({last_s:Int64} + {evidence_margin:UInt32}) AS Evidence
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
    """What a trace's detail shows of its logs: its records, and the error record each span was
    written in (its evidence of failure)."""

    records: list[LogRecord]
    evidence: dict[str, LogEvidence]


class LogReader:
    def __init__(self, client: Client) -> None:
        self._client = client

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
        """The trace's records (oldest first, within TRACE_LOG_MARGIN_S of its spans) and its spans'
        log evidence (what storage.trace_reader.log_evidence finds), all on this reader's own
        session: the trace detail reads them while the spans are read on another."""
        bounds = trace_bounds(self._client, trace_id)
        if bounds is None:
            return TraceLogs([], {})
        params = {
            "trace_id": trace_id,
            "first_s": bounds.first_s,
            "last_s": bounds.last_s,
            "margin": TRACE_LOG_MARGIN_S,
            "evidence_margin": LOG_MARGIN_S,
            "limit": TRACE_LOG_LIMIT,
        }
        rows = self._client.query(_TRACE_LOGS_AND_EVIDENCE, parameters=params).result_rows
        records = [LogRecord(*row[:-1]) for row in rows]
        if len(rows) >= TRACE_LOG_LIMIT:  # cut short: a span's evidence may lie past the limit
            return TraceLogs(records, log_evidence(self._client, trace_id, bounds))
        evidence: dict[str, LogEvidence] = {}
        for record, (*_, is_evidence) in zip(records, rows, strict=True):
            if is_evidence and record.span_id not in evidence:  # oldest first: the span's first
                evidence[record.span_id] = _evidence(record)
        return TraceLogs(records, evidence)
