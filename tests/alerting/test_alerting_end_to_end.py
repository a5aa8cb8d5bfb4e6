"""Alerting end to end: a collector with a rule file, failing traffic over OTLP, and a real local
webhook receiver (which refuses the first attempts) for all three formats."""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from alerting.notifications import verify
from hopscope_cli.collector_process import CollectorProcess
from tests.analysis.scenarios import S, to_request
from tests.dashboard.conftest import broken_checkout
from tests.polling import wait_until

pytestmark = pytest.mark.slow
PB = {"Content-Type": "application/x-protobuf"}


class Receiver:
    """A webhook receiver on a free (or given) port; refuses the first `fail_first[path]` requests
    and can hold the first request `delay_first` seconds."""

    def __init__(self, fail_first: dict[str, int], port: int = 0) -> None:
        self.requests: list[tuple[str, dict, bytes]] = []
        self.fail_first = dict(fail_first)
        self._initial = {p: n for p, n in fail_first.items()}
        self.delay_first = 0.0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.delay_first:
                    delay, receiver.delay_first = receiver.delay_first, 0.0
                    time.sleep(delay)
                    return  # the sender gave up waiting: no answer
                receiver.requests.append((self.path, dict(self.headers), body))
                failing = receiver.fail_first.get(self.path, 0) > 0
                if failing:
                    receiver.fail_first[self.path] -= 1
                self.send_response(500 if failing else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def delivered(self, path: str) -> list[dict]:
        """Bodies the receiver accepted (the failed attempts excluded)."""
        ok, refused = [], 0
        for p, headers, body in self.requests:
            if p != path:
                continue
            if refused < self._initial.get(path, 0):
                refused += 1
                continue
            ok.append({"headers": headers, "body": body, "json": json.loads(body)})
        return ok


def _send(url: str, spans_list: list[list[S]]) -> None:
    """Every trace in one OTLP request (each its own trace id)."""
    request = to_request(spans_list[0], os.urandom(16).hex(), time.time_ns() - 5 * 10**9)
    for spans in spans_list[1:]:
        request.MergeFrom(to_request(spans, os.urandom(16).hex(), time.time_ns() - 5 * 10**9))
    assert httpx.post(url + "/v1/traces", content=request.SerializeToString(), headers=PB).status_code == 200


def _wait(predicate, timeout: float = 60.0) -> None:
    wait_until(predicate, timeout)


def test_ledger_failure_alerts_on_frontend_naming_the_origin_then_resolves(tmp_path):
    receiver = Receiver({"/generic": 2})
    rules = tmp_path / "alerts.yaml"
    rules.write_text(f"""
rules:
  - {{name: frontend-errors, type: error_rate, service: frontend, window: 1m, for: 0s, threshold: 0.05,
     severity: critical, labels: {{team: shop}}}}
channels:
  - {{name: generic, url: "{receiver.url}/generic", format: generic, secret: s3cret}}
  - {{name: slack, url: "{receiver.url}/slack", format: slack}}
  - {{name: am, url: "{receiver.url}/am", format: alertmanager}}
""")
    env = {
        "HOPSCOPE_ALERT_RULES_FILE": str(rules),
        "HOPSCOPE_ALERT_INTERVAL_SECONDS": "0.5",
        "HOPSCOPE_DASHBOARD_URL": "http://dash.example",
    }
    with CollectorProcess(tmp_path / "data", env=env) as collector:
        _send(collector.url, [broken_checkout() for _ in range(6)])
        _wait(lambda: all(receiver.delivered(p) for p in ("/generic", "/slack", "/am")))

        generic = receiver.delivered("/generic")[0]
        body = generic["json"]
        assert body["status"] == "firing" and body["rule"] == "frontend-errors" and body["labels"]["team"] == "shop"
        chain = body["chains"][0]
        assert (chain["origin_service"], chain["origin_operation"]) == ("ledger", "INSERT")
        assert chain["path"] == ["frontend", "checkout", "payment", "ledger"] and chain["propagated"]
        assert chain["attempts"] >= chain["traces"] and "status Error" in chain["evidence"]
        assert chain["example_trace_urls"][0].startswith("http://dash.example/trace?trace_id=")
        headers = {k.lower(): v for k, v in generic["headers"].items()}
        assert verify(
            "s3cret",
            headers["x-hopscope-timestamp"],
            generic["body"],
            headers["x-hopscope-signature"],
            now=int(time.time()),
        )
        keys = {h.get("X-Hopscope-Idempotency-Key") for p, h, _ in receiver.requests if p == "/generic"}
        assert len(keys) == 1  # three attempts of one notification, one key

        slack = receiver.delivered("/slack")[0]["json"]["text"]
        assert "*FIRING* [critical] *frontend-errors*" in slack and "origin *ledger* `INSERT`" in slack
        alert = receiver.delivered("/am")[0]["json"]["alerts"][0]
        assert alert["status"] == "firing" and alert["annotations"]["origin"].startswith("ledger INSERT")
        assert alert["annotations"]["chain"] == "frontend -> checkout -> payment -> ledger"

        log = httpx.get(collector.url + "/api/v1/alerts/notifications").json()
        [generic_entry] = [e for e in log if e["channel"] == "generic" and e["kind"] == "firing"]
        assert generic_entry["status"] == "delivered" and generic_entry["attempts"] == 3
        assert [a["http_status"] for a in generic_entry["attempt_log"]] == [500, 500, 200]
        assert [a["labels"]["service"] for a in httpx.get(collector.url + "/api/v1/alerts").json()] == ["frontend"]
        channels = httpx.get(collector.url + "/api/v1/alert-channels").json()
        assert "s3cret" not in json.dumps(channels) and channels[0]["signed"]

        healthy = [[S("fe", "frontend", "POST /checkout"), S("c", "frontend", "POST", kind="Client", parent="fe")]]
        _send(collector.url, healthy * 150)  # 6 failures in 156 requests: 3.8 % < 5 %
        _wait(
            lambda: all(
                any(
                    d["json"].get("status") == "resolved" or "RESOLVED" in d["json"].get("text", "")
                    for d in receiver.delivered(p)
                )
                for p in ("/generic", "/slack", "/am")
            )
        )
        assert httpx.get(collector.url + "/api/v1/alerts").json() == []

        test = httpx.post(collector.url + "/api/v1/alert-channels/slack/test", json={})
        assert test.status_code == 202
        _wait(lambda: any("Test notification" in d["json"].get("text", "") for d in receiver.delivered("/slack")))
