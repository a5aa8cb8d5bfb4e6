"""/api/v1/alerts/notifications: the notification log with every delivery attempt, and redelivery."""

from __future__ import annotations

import time
from dataclasses import asdict, replace

from fastapi import APIRouter

from collector.api.errors import ApiError
from collector.dependencies import AlertingDep

router = APIRouter(prefix="/api/v1/alerts/notifications", tags=["alerting"])


@router.get("", summary="Recent notifications with every delivery attempt")
def notifications(alerting: AlertingDep, limit: int = 100) -> list[dict]:
    if not 1 <= limit <= 1000:
        raise ApiError(400, "invalid limit", f"limit must be between 1 and 1000, got {limit}")
    entries = alerting.outbox.recent(limit)
    attempts = alerting.outbox.attempts([e.id for e in entries])
    return [{**asdict(e), "attempt_log": attempts.get(e.id, [])} for e in entries]


@router.post("/{entry_id}/redeliver", summary="Send a notification again")
def redeliver(entry_id: str, alerting: AlertingDep) -> dict:
    entry = alerting.outbox.get(entry_id)
    if entry is None:
        raise ApiError(404, "notification not found", f"no notification {entry_id!r}")
    again = replace(entry, status="pending", next_attempt_ms=int(time.time() * 1000))
    alerting.outbox.update(again)
    return asdict(again)
