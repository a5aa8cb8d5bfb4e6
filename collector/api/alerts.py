"""/api/v1/alerts (what fires now), the notification log, redelivery, channels and test notifications."""

from __future__ import annotations

import time
from dataclasses import asdict

from fastapi import APIRouter, Request

from collector.api.errors import ApiError
from storage.alert_store import AlertOutbox, OutboxEntry

router = APIRouter(prefix="/api/v1", tags=["alerting"])


def _evaluator(request: Request):
    evaluator = getattr(request.app.state, "evaluator", None)
    if evaluator is None:
        raise ApiError(409, "alerting is off", "this collector does not evaluate alerts (HOPSCOPE_ALERTS=false)")
    return evaluator


def _outbox(request: Request) -> AlertOutbox:
    return AlertOutbox(request.app.state.reader_client)


@router.get("/alerts", summary="Alerts pending or firing now")
def current_alerts(request: Request) -> list[dict]:
    return [asdict(a) for a in _evaluator(request).tracker.active()]


@router.get("/alerts/notifications", summary="Recent notifications with every delivery attempt")
def notifications(request: Request, limit: int = 100) -> list[dict]:
    if not 1 <= limit <= 1000:
        raise ApiError(400, "invalid limit", f"limit must be between 1 and 1000, got {limit}")
    outbox = _outbox(request)
    entries = outbox.recent(limit)
    attempts = outbox.attempts([e.id for e in entries])
    return [{**asdict(e), "attempt_log": attempts.get(e.id, [])} for e in entries]


@router.post("/alerts/notifications/{entry_id}/redeliver", summary="Send a notification again")
def redeliver(entry_id: str, request: Request) -> dict:
    outbox = _outbox(request)
    entry = outbox.get(entry_id)
    if entry is None:
        raise ApiError(404, "notification not found", f"no notification {entry_id!r}")
    again = OutboxEntry(**{**entry.__dict__, "status": "pending", "next_attempt_ms": int(time.time() * 1000)})
    outbox.update(again)
    return asdict(again)


@router.get("/alert-channels", summary="Notification channels (secrets are never shown)")
def channels(request: Request) -> list[dict]:
    return [
        {
            "name": c.name,
            "url": str(c.url),
            "format": c.format,
            "match": c.match,
            "signed": c.secret is not None,
            "headers": sorted(c.headers),
        }
        for c in _evaluator(request).channels.values()
    ]


@router.post("/alert-channels/{name}/test", status_code=202, summary="Send a test notification to a channel")
def test_channel(name: str, request: Request) -> dict:
    evaluator = _evaluator(request)
    channel = evaluator.channels.get(name)
    if channel is None:
        raise ApiError(404, "channel not found", f"no channel named {name!r}")
    return asdict(evaluator.test_notification(channel))
