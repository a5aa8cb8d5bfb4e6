"""The issue's scenario on the live demo: the ledger timeout is injected, the frontend error-rate
alert fires naming ledger as the origin in all three formats, and resolves once the fault is off."""

from __future__ import annotations

import asyncio

import pytest

from demo import load
from hopscope_cli.collector_process import CollectorProcess
from hopscope_cli.demo import Demo
from tests.alerting.test_alerting_end_to_end import Receiver, _wait

pytestmark = pytest.mark.slow
PATHS = ("/generic", "/slack", "/am")


def _with_status(receiver: Receiver, path: str, status: str) -> list[dict]:
    out = []
    for item in receiver.delivered(path):
        body = item["json"]
        text = body.get("text", "")
        state = body.get("status") or ("resolved" if "*RESOLVED*" in text else "firing" if "*FIRING*" in text else "")
        if state == status:
            out.append(body)
    return out


def test_ledger_timeout_fires_a_frontend_alert_naming_ledger_then_resolves(tmp_path):
    receiver = Receiver({})
    rules = tmp_path / "alerts.yaml"
    rules.write_text(f"""
rules:
  - {{name: frontend-errors, type: error_rate, service: frontend, window: 30s, threshold: 0.2, severity: critical}}
channels:
  - {{name: generic, url: "{receiver.url}/generic", format: generic, secret: demo}}
  - {{name: slack, url: "{receiver.url}/slack", format: slack}}
  - {{name: am, url: "{receiver.url}/am", format: alertmanager}}
""")
    env = {"HOPSCOPE_ALERT_RULES_FILE": str(rules), "HOPSCOPE_ALERT_INTERVAL_SECONDS": "0.5"}
    with CollectorProcess(tmp_path / "data", env=env) as collector:
        demo = Demo(collector.url, tmp_path / "demo").start()
        try:
            send = lambda n: asyncio.run(load.run(demo.urls["frontend"], rate=10, count=n, every=0))  # noqa: E731
            assert send(10).failed == 0
            demo.set_fault("ledger_timeout", True)
            assert send(8).failed == 8
            _wait(lambda: all(_with_status(receiver, p, "firing") for p in PATHS), timeout=60)
            generic = _with_status(receiver, "/generic", "firing")[0]
            chain = generic["chains"][0]
            assert (chain["origin_service"], chain["origin_operation"]) == ("ledger", "INSERT")
            assert chain["path"] == ["frontend", "checkout", "payment", "ledger"] and chain["propagated"]
            assert "origin *ledger* `INSERT`" in _with_status(receiver, "/slack", "firing")[0]["text"]
            annotations = _with_status(receiver, "/am", "firing")[0]["alerts"][0]["annotations"]
            assert annotations["origin"].startswith("ledger INSERT")
            assert annotations["chain"] == "frontend -> checkout -> payment -> ledger"

            demo.set_fault("ledger_timeout", False)
            for _ in range(6):
                send(20)
                if all(_with_status(receiver, p, "resolved") for p in PATHS):
                    break
            _wait(lambda: all(_with_status(receiver, p, "resolved") for p in PATHS), timeout=60)
        finally:
            demo.stop()
