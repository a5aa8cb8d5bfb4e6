"""/api/v1/alerts (what fires now), the notification log, redelivery, channels and test notifications."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Body, Request, Response
from pydantic import ValidationError

from alerting.rules import AlertConfig, Channel, Silence, problems_of
from collector.api.errors import ApiError
from storage.alert_store import CHANNELS, SILENCES, AlertOutbox, AlertRuleStore, OutboxEntry

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


def _channel_store(request: Request) -> AlertRuleStore:
    return AlertRuleStore(request.app.state.reader_client, CHANNELS)


def _silence_store(request: Request) -> AlertRuleStore:
    return AlertRuleStore(request.app.state.reader_client, SILENCES)


def _file_config(request: Request):
    return getattr(request.app.state, "alert_config", None) or AlertConfig()


def _validated(model, body: Any):
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise ApiError(400, f"invalid {model.__name__.lower()}", "; ".join(problems_of(exc))) from None


def _stored_channel(channel: Channel) -> dict:
    body = channel.model_dump(mode="json")
    body["secret"] = (
        channel.secret.get_secret_value() if channel.secret is not None else None
    )  # kept to sign; never returned
    return body


@router.post("/alert-channels", status_code=201, summary="Add a notification channel")
def create_channel(request: Request, body: Any = Body(...)) -> dict:
    channel = _validated(Channel, body)
    if channel.name in _evaluator(request).channels:
        raise ApiError(409, "channel exists", f"a channel named {channel.name!r} exists; PUT to change it")
    _channel_store(request).put(channel.name, _stored_channel(channel))
    return _public(channel, "api")


@router.put("/alert-channels/{name}", summary="Replace a channel added through the API")
def update_channel(name: str, request: Request, body: Any = Body(...)) -> dict:
    if name in {c.name for c in _file_config(request).channels}:
        raise ApiError(409, "channel from file", f"{name!r} is defined in the rule file; change it there")
    if name not in _channel_store(request).all():
        raise ApiError(404, "channel not found", f"no channel named {name!r}")
    channel = _validated(Channel, body)
    if channel.name != name:
        raise ApiError(400, "invalid channel", f"the body names {channel.name!r}, the path {name!r}")
    _channel_store(request).put(name, _stored_channel(channel))
    return _public(channel, "api")


@router.delete("/alert-channels/{name}", status_code=204, summary="Remove a channel added through the API")
def delete_channel(name: str, request: Request) -> Response:
    if name in {c.name for c in _file_config(request).channels}:
        raise ApiError(409, "channel from file", f"{name!r} is defined in the rule file; remove it there")
    if name not in _channel_store(request).all():
        raise ApiError(404, "channel not found", f"no channel named {name!r}")
    _channel_store(request).delete(name)
    return Response(status_code=204)


@router.get("/silences", summary="Silences from the rule file and the API")
def list_silences(request: Request) -> list[dict]:
    now = datetime.now(timezone.utc)
    out = [{"id": None, "source": "file", **s.model_dump(mode="json")} for s in _file_config(request).silences]
    out += [{"id": sid, "source": "api", **body} for sid, body in _silence_store(request).all().items()]
    for item in out:
        item["active"] = datetime.fromisoformat(item["ends"].replace("Z", "+00:00")) > now
    return out


@router.post("/silences", status_code=201, summary="Silence alerts until a time")
def create_silence(request: Request, body: Any = Body(...)) -> dict:
    silence = _validated(Silence, body)
    sid = "s-" + uuid.uuid4().hex[:12]
    _silence_store(request).put(sid, silence.model_dump(mode="json"))
    return {"id": sid, "source": "api", **silence.model_dump(mode="json")}


@router.delete("/silences/{sid}", status_code=204, summary="End a silence created through the API")
def delete_silence(sid: str, request: Request) -> Response:
    if sid not in _silence_store(request).all():
        raise ApiError(404, "silence not found", f"no silence {sid!r}")
    _silence_store(request).delete(sid)
    return Response(status_code=204)


def _public(channel: Channel, source: str) -> dict:
    return {
        "name": channel.name,
        "url": str(channel.url),
        "format": channel.format,
        "match": channel.match,
        "signed": channel.secret is not None,
        "headers": sorted(channel.headers),
        "source": source,
    }


@router.get("/alert-channels", summary="Notification channels (secrets are never shown)")
def channels(request: Request) -> list[dict]:
    file_names = {c.name for c in _file_config(request).channels}
    return [_public(c, "file" if c.name in file_names else "api") for c in _evaluator(request).channels.values()]


@router.post("/alert-channels/{name}/test", status_code=202, summary="Send a test notification to a channel")
def test_channel(name: str, request: Request) -> dict:
    evaluator = _evaluator(request)
    channel = evaluator.channels.get(name)
    if channel is None:
        raise ApiError(404, "channel not found", f"no channel named {name!r}")
    return asdict(evaluator.test_notification(channel))
