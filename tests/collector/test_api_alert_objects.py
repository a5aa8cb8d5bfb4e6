"""Channels and silences through the API: validated, persisted, secrets never returned, and used."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from alerting.evaluator import silenced_by
from alerting.rules import Silence


def test_channels_are_created_listed_without_secrets_and_removed(collector):
    name = "hook-" + uuid.uuid4().hex[:6]
    body = {
        "name": name,
        "url": "https://example.com/h",
        "format": "slack",
        "secret": "top-secret",
        "match": {"severity": "critical"},
    }
    created = collector.post("/api/v1/alert-channels", json=body)
    assert created.status_code == 201 and created.json()["signed"] and "top-secret" not in created.text
    listed = collector.get("/api/v1/alert-channels")
    assert name in [c["name"] for c in listed.json()] and "top-secret" not in listed.text
    assert collector.post("/api/v1/alert-channels", json=body).status_code == 409
    changed = collector.put(f"/api/v1/alert-channels/{name}", json={**body, "format": "alertmanager"})
    assert changed.json()["format"] == "alertmanager"
    channels = collector.app.state.alerting.channels
    assert channels.get(name).secret.get_secret_value() == "top-secret"  # kept for signing
    assert collector.delete(f"/api/v1/alert-channels/{name}").status_code == 204
    assert name not in channels.all()


def test_bad_channels_and_silences_are_400(collector):
    bad = collector.post("/api/v1/alert-channels", json={"name": "x", "url": "nowhere"})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid channel" and "url" in bad.json()["detail"]
    ends = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    nothing = collector.post("/api/v1/silences", json={"ends": ends})
    assert nothing.status_code == 400 and "a silence needs a rule or at least one matcher" in nothing.json()["detail"]
    assert collector.delete("/api/v1/silences/s-nope").status_code == 404


def test_an_api_silence_mutes_matching_alerts(collector):
    tag = uuid.uuid4().hex[:6]
    ends = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    created = collector.post(
        "/api/v1/silences", json={"matchers": {"service": f"svc-{tag}"}, "ends": ends, "comment": "maintenance"}
    )
    assert created.status_code == 201
    sid = created.json()["id"]
    listed = {s["id"]: s for s in collector.get("/api/v1/silences").json()}
    assert listed[sid]["active"] and listed[sid]["comment"] == "maintenance"
    active = [
        Silence.model_validate({k: v for k, v in s.items() if k not in ("id", "source", "active")})
        for s in collector.get("/api/v1/silences").json()
        if s["active"]
    ]
    check = silenced_by(active, datetime.now(timezone.utc))
    assert check("any-rule", {"service": f"svc-{tag}"}) and not check("any-rule", {"service": "other"})
    assert collector.delete(f"/api/v1/silences/{sid}").status_code == 204
    assert sid not in {s["id"] for s in collector.get("/api/v1/silences").json()}
