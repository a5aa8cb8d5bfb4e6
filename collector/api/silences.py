"""/api/v1/silences: silences from the rule file (read-only here) and the API."""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Body, Response

from alerting.rules import Silence
from collector.api.bodies import validated
from collector.api.errors import ApiError
from collector.dependencies import AlertingDep

router = APIRouter(prefix="/api/v1/silences", tags=["alerting"])


@router.get("", summary="Silences from the rule file and the API")
def list_silences(alerting: AlertingDep) -> list[dict]:
    now = datetime.now(timezone.utc)
    out = [{"id": None, "source": "file", **s.model_dump(mode="json")} for s in alerting.config.silences]
    out += [{"id": sid, "source": "api", **body} for sid, body in alerting.silence_store.all().items()]
    for item in out:
        item["active"] = datetime.fromisoformat(item["ends"].replace("Z", "+00:00")) > now
    return out


@router.post("", status_code=201, summary="Silence alerts until a time")
def create_silence(alerting: AlertingDep, body: Any = Body(...)) -> dict:
    silence = validated(Silence, body)
    sid = "s-" + uuid.uuid4().hex[:12]
    alerting.silence_store.put(sid, silence.model_dump(mode="json"))
    return {"id": sid, "source": "api", **silence.model_dump(mode="json")}


@router.delete("/{sid}", status_code=204, summary="End a silence created through the API")
def delete_silence(sid: str, alerting: AlertingDep) -> Response:
    if sid not in alerting.silence_store.all():
        raise ApiError(404, "silence not found", f"no silence {sid!r}")
    alerting.silence_store.delete(sid)
    return Response(status_code=204)
