"""Delivery under trouble: a slow receiver, a receiver down across a collector restart, redelivery."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from hopscope_cli.collector_process import CollectorProcess
from tests.alerting.test_alerting_end_to_end import Receiver, _send, _wait
from tests.dashboard.conftest import broken_checkout

pytestmark = pytest.mark.slow


def _rules(path, url: str) -> dict[str, str]:
    path.write_text(f"""
rules:
  - {{name: frontend-errors, type: error_rate, service: frontend, window: 10m, threshold: 0.05}}
channels:
  - {{name: hook, url: "{url}/hook", format: generic, secret: k}}
""")
    return {
        "HOPSCOPE_ALERT_RULES_FILE": str(path),
        "HOPSCOPE_ALERT_INTERVAL_SECONDS": "0.5",
        "HOPSCOPE_WEBHOOK_TIMEOUT_SECONDS": "1",
    }


def _firing_keys(receiver: Receiver, ok_only: bool = True) -> list[str]:
    return [
        h.get("X-Hopscope-Idempotency-Key")
        for p, h, b in receiver.requests
        if p == "/hook" and json.loads(b)["status"] == "firing"
    ]


def test_a_slow_receiver_times_out_and_is_retried(tmp_path):
    receiver = Receiver({})
    receiver.delay_first = 3.0  # longer than the 1 s timeout
    env = _rules(tmp_path / "alerts.yaml", receiver.url)
    with CollectorProcess(tmp_path / "data", env=env) as collector:
        _send(collector.url, [broken_checkout() for _ in range(3)])
        _wait(
            lambda: any(
                e["status"] == "delivered" for e in httpx.get(collector.url + "/api/v1/alerts/notifications").json()
            )
        )
        [entry] = httpx.get(collector.url + "/api/v1/alerts/notifications").json()
        attempts = entry["attempt_log"]
        assert attempts[0]["error"] == "timed out" and attempts[-1]["http_status"] == 200


def test_a_receiver_down_across_a_restart_still_gets_it_once(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _rules(tmp_path / "alerts.yaml", f"http://127.0.0.1:{port}")
    with CollectorProcess(tmp_path / "data", env=env) as collector:
        _send(collector.url, [broken_checkout() for _ in range(3)])
        _wait(lambda: any(e["attempts"] >= 1 for e in httpx.get(collector.url + "/api/v1/alerts/notifications").json()))
    receiver = Receiver({}, port=port)  # the receiver comes back while the collector is down
    with CollectorProcess(tmp_path / "data", env=env) as collector:
        notifications = lambda: httpx.get(collector.url + "/api/v1/alerts/notifications").json()  # noqa: E731
        _wait(lambda: [e["status"] for e in notifications()] == ["delivered"])
        # The restored state does not fire again (run_once level: test_rule_types); here every
        # evaluation pass until the redelivery below would add a second idempotency key.
        keys = _firing_keys(receiver)
        assert len(keys) == 1, keys
        [entry] = notifications()
        assert entry["attempts"] >= 2

        again = httpx.post(collector.url + f"/api/v1/alerts/notifications/{entry['id']}/redeliver", json={})
        assert again.status_code == 200
        _wait(lambda: len(_firing_keys(receiver)) == 2)
        assert len(set(_firing_keys(receiver))) == 1  # the same notification, the same idempotency key
        assert httpx.post(collector.url + "/api/v1/alerts/notifications/nope/redeliver", json={}).status_code == 404
