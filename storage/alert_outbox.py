"""The notification outbox: one entry per notification and channel, with where its delivery
stands, and the log of every delivery attempt. In ClickHouse, so a restart loses nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from storage.sql_text import compose

_OUTBOX_COLUMNS = (
    "Id",
    "Version",
    "NotificationId",
    "Channel",
    "Rule",
    "Kind",
    "Body",
    "Status",
    "Attempts",
    "NextAttemptAt",
    "CreatedAt",
    "LastStatus",
    "LastError",
)
_OUTBOX_LATEST = """
SELECT Id, argMax(NotificationId, Version), argMax(Channel, Version), argMax(Rule, Version), argMax(Kind, Version),
       argMax(Body, Version), argMax(Status, Version) AS status, argMax(Attempts, Version),
       toUnixTimestamp64Milli(argMax(NextAttemptAt, Version)) AS next_ms, toUnixTimestamp64Milli(argMax(CreatedAt, Version)) AS created_ms,
       argMax(LastStatus, Version), argMax(LastError, Version)
FROM hopscope_alert_outbox
WHERE {where}
GROUP BY Id
HAVING {having}
ORDER BY {order}
LIMIT {limit:UInt32}
"""
_ATTEMPTS = """
SELECT Id, Attempt, toUnixTimestamp64Milli(At), HttpStatus, Error, Milliseconds FROM hopscope_alert_attempts
WHERE Id IN {ids:Array(String)} ORDER BY Id, Attempt
"""


@dataclass
class OutboxEntry:
    """One notification to one channel and where its delivery stands."""

    id: str
    notification_id: str
    channel: str
    rule: str
    kind: str  # firing, repeat, resolved, test
    body: str
    status: str  # pending, delivered, failed
    attempts: int
    next_attempt_ms: int
    created_ms: int
    last_status: int
    last_error: str


class AlertOutbox:
    """Durable delivery queue. Every change writes a new version of the entry's row."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def enqueue(self, entries: list[OutboxEntry]) -> None:
        if entries:
            self._write(entries)

    def update(self, entry: OutboxEntry) -> None:
        self._write([entry])

    def _write(self, entries: list[OutboxEntry]) -> None:
        version = time.time_ns()
        rows = [
            [
                e.id,
                version + i,
                e.notification_id,
                e.channel,
                e.rule,
                e.kind,
                e.body,
                e.status,
                e.attempts,
                e.next_attempt_ms,
                e.created_ms,
                e.last_status,
                e.last_error,
            ]
            for i, e in enumerate(entries)
        ]
        self._client.insert("hopscope_alert_outbox", rows, column_names=list(_OUTBOX_COLUMNS))

    def _select(self, having: str, limit: int, where: str = "1", order: str = "next_ms", **params) -> list[OutboxEntry]:
        sql = compose(_OUTBOX_LATEST, where=where, having=having, order=order)
        rows = self._client.query(sql, parameters={"limit": limit, **params}).result_rows
        return [OutboxEntry(*row) for row in rows]

    def due(self, now_ms: int, limit: int = 100) -> list[OutboxEntry]:
        return self._select("status = 'pending' AND next_ms <= {now:Int64}", limit, now=now_ms)

    def get(self, entry_id: str) -> OutboxEntry | None:
        found = self._select("1", 1, where="Id = {id:String}", id=entry_id)
        return found[0] if found else None

    def recent(self, limit: int = 200) -> list[OutboxEntry]:
        """The newest entries first."""
        return self._select("1", limit, order="created_ms DESC")

    def record_attempt(
        self, entry_id: str, attempt: int, at_ms: int, http_status: int, error: str, milliseconds: float
    ) -> None:
        self._client.insert(
            "hopscope_alert_attempts",
            [[entry_id, attempt, at_ms, http_status, error, milliseconds]],
            column_names=["Id", "Attempt", "At", "HttpStatus", "Error", "Milliseconds"],
        )

    def attempts(self, entry_ids: list[str]) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {i: [] for i in entry_ids}
        if entry_ids:
            for eid, attempt, at_ms, status, error, ms in self._client.query(
                _ATTEMPTS, parameters={"ids": entry_ids}
            ).result_rows:
                out[eid].append(
                    {"attempt": attempt, "at_ms": at_ms, "http_status": status, "error": error, "milliseconds": ms}
                )
        return out
