"""Reading log records."""

from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

_LOG_COLUMNS = """toUnixTimestamp64Nano(Timestamp) AS Ns, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName,
    Body, LogAttributes"""

_TRACE_LOGS = f"""
SELECT {_LOG_COLUMNS} FROM otel_logs
WHERE TraceId = {{trace_id:String}}
  AND TimestampTime >= toDateTime(intDiv({{since:Int64}}, 1000000000))
  AND TimestampTime <= toDateTime(intDiv({{until:Int64}}, 1000000000))
ORDER BY Timestamp
LIMIT {{limit:UInt32}}
"""


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


class LogReader:
    def __init__(self, client: Client) -> None:
        self._client = client

    def for_trace(self, trace_id: str, since_ns: int, until_ns: int, limit: int = 10_000) -> list[LogRecord]:
        """The trace's log records between the two times, oldest first."""
        params = {"trace_id": trace_id, "since": since_ns, "until": until_ns, "limit": limit}
        return [LogRecord(*row) for row in self._client.query(_TRACE_LOGS, parameters=params).result_rows]
