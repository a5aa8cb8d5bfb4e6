"""/api/v1/alert-rules against the real store, and the rule file at start-up."""

from __future__ import annotations

import subprocess
import sys
import uuid

from collector.main import create_app
from tests.conftest import StoringClient, make_settings


def _rule(name: str, **fields) -> dict:
    return {"name": name, "type": "error_rate", "service": "frontend", "threshold": 0.05, **fields}


def test_create_get_update_delete(collector):
    name = "errors-" + uuid.uuid4().hex[:6]
    created = collector.post("/api/v1/alert-rules", json=_rule(name, window="10m", severity="critical"))
    assert created.status_code == 201, created.text
    assert created.json()["window"] == 600 and created.json()["source"] == "api"
    assert collector.post("/api/v1/alert-rules", json=_rule(name)).status_code == 409
    assert collector.get(f"/api/v1/alert-rules/{name}").json()["severity"] == "critical"
    updated = collector.put(f"/api/v1/alert-rules/{name}", json=_rule(name, threshold=0.2))
    assert updated.status_code == 200 and updated.json()["threshold"] == 0.2
    assert name in [r["name"] for r in collector.get("/api/v1/alert-rules").json()]
    assert collector.delete(f"/api/v1/alert-rules/{name}").status_code == 204
    assert collector.get(f"/api/v1/alert-rules/{name}").status_code == 404
    assert collector.delete(f"/api/v1/alert-rules/{name}").status_code == 404


def test_rules_survive_a_new_app_on_the_same_store(storage_url, ch):
    name = "kept-" + uuid.uuid4().hex[:6]
    with StoringClient(create_app(make_settings(storage_url))) as first:
        assert first.post("/api/v1/alert-rules", json=_rule(name)).status_code == 201
    with StoringClient(create_app(make_settings(storage_url))) as second:
        assert second.get(f"/api/v1/alert-rules/{name}").json()["threshold"] == 0.05


def test_invalid_bodies_are_400_with_the_field_named(collector):
    cases = [
        (_rule("x", threshold=3), "threshold: Input should be less than or equal to 1"),
        ({"name": "x", "type": "nope"}, "type: Input tag 'nope'"),
        (_rule("x", window="soon"), "window: 'soon' is not a duration"),
        (_rule("x", colour="red"), "colour: Extra inputs are not permitted"),
        ([1, 2], "Input should be a valid dictionary"),
    ]
    for body, fragment in cases:
        response = collector.post("/api/v1/alert-rules", json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "invalid rule" and fragment in response.json()["detail"], response.json()
    name = "body-" + uuid.uuid4().hex[:6]
    collector.post("/api/v1/alert-rules", json=_rule(name))
    mismatch = collector.put(f"/api/v1/alert-rules/{name}", json=_rule("other"))
    assert mismatch.status_code == 400 and "the body names 'other'" in mismatch.json()["detail"]
    assert collector.put("/api/v1/alert-rules/never-made", json=_rule("never-made")).status_code == 404


def test_rules_from_the_file_are_listed_and_read_only(storage_url, ch, tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  - {name: from-file, type: no_data, service: shipping}\n")
    with StoringClient(create_app(make_settings(storage_url, alert_rules_file=path))) as client:
        rule = client.get("/api/v1/alert-rules/from-file").json()
        assert rule["source"] == "file" and rule["type"] == "no_data"
        assert client.put("/api/v1/alert-rules/from-file", json=rule).status_code == 409
        assert client.delete("/api/v1/alert-rules/from-file").status_code == 409
        assert (
            client.post(
                "/api/v1/alert-rules", json={"name": "from-file", "type": "no_data", "service": "x"}
            ).status_code
            == 409
        )


def test_an_invalid_rule_file_stops_the_collector_with_the_line(tmp_path):
    path = tmp_path / "alerts.yaml"
    path.write_text("rules:\n  - name: a\n    type: error_rate\n    service: x\n    threshold: 7\n")
    out = subprocess.run(
        [sys.executable, "-m", "hopscope_cli", "collector", "--data-dir", str(tmp_path / "d")],
        capture_output=True,
        text=True,
        timeout=60,
        env={**__import__("os").environ, "HOPSCOPE_ALERT_RULES_FILE": str(path)},
    )
    assert out.returncode == 2
    assert f"{path}:5: rules[0].threshold: Input should be less than or equal to 1" in out.stderr
