"""`hopscope up --demo`, the README's first command, as a user runs it: real processes, a fault
switched on from a second command, everything stopped by one SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from hopscope_cli.processes import free_port, query_data_dir
from tests.dashboard.test_pages import PAGES
from tests.polling import wait_until

pytestmark = pytest.mark.slow


def _hopscope(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hopscope_cli", *args], capture_output=True, text=True, **kwargs)


def _frontend_errors(collector: str) -> int:
    services = httpx.get(collector + "/api/v1/services", params={"since": "5m"}, timeout=30).json()["items"]
    return sum(s["errors"] for s in services if s["name"] == "frontend")


def _received(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _naming_ledger(path, status: str) -> bool:
    return any(
        body["status"] == status and body["chains"] and body["chains"][0]["origin_service"] == "ledger"
        for body in _received(path)
    )


def _resolved(path, rule: str) -> bool:
    return any(body["status"] == "resolved" and body["rule"] == rule for body in _received(path))


def _metrics_page_is_readable(collector: str, monkeypatch) -> None:
    """The Metrics page on the live demo: one quantile of one metric, a series per service (at most
    eight, distinct colours), the unit on the axis — not 21 similar lines."""
    monkeypatch.setenv("HOPSCOPE_API_URL", collector)
    wait_until(
        lambda: any(
            m["name"] == "http.server.duration" for m in httpx.get(collector + "/api/v1/metrics").json()["metrics"]
        ),
        60,
        "the demo's request-duration metric",
    )
    app = AppTest.from_file(str(PAGES / "metrics.py"), default_timeout=60).run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox[0].value == "http.server.duration" and app.radio[0].value == "p95"
    figure = json.loads(app.get("plotly_chart")[0].proto.spec)
    lines = [t for t in figure["data"] if t.get("mode") != "markers"]
    assert 1 <= len(lines) <= 8, [t["name"] for t in lines]
    assert len({t["line"]["color"] for t in lines}) == len(lines)
    assert figure["layout"]["yaxis"]["title"]["text"] == "p95 http.server.duration (ms)"


def test_up_demo_produces_failing_multi_hop_traffic(tmp_path, monkeypatch):
    data = tmp_path / "data"
    port = free_port()
    out = open(tmp_path / "up.log", "w")  # noqa: SIM115
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hopscope_cli",
            "up",
            "--demo",
            "--port",
            str(port),
            "--grpc-port",
            str(free_port()),
            "--dashboard-port",
            str(free_port()),
            "--data-dir",
            str(data),
            "--demo-rate",
            "5",
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: up.poll() is not None or "[load]" in (tmp_path / "up.log").read_text(), 90, "the load")
        assert up.poll() is None, (tmp_path / "up.log").read_text()
        # From any directory, without saying where the demo's data is: the running demo is found.
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        switched = _hopscope("fault", "ledger_timeout", "on", timeout=60, cwd=elsewhere)
        assert switched.returncode == 0 and "in 7 of 7 demo services" in switched.stdout, switched
        listed = _hopscope("fault", timeout=60, cwd=elsewhere).stdout.splitlines()
        assert any(line.startswith("on  ledger_timeout") for line in listed), listed
        assert any(line.startswith("off slow_db") for line in listed), listed
        wait_until(lambda: _frontend_errors(f"http://127.0.0.1:{port}") >= 5, 60, "frontend errors")
        _metrics_page_is_readable(f"http://127.0.0.1:{port}", monkeypatch)
        # The demo's rules notify its local receiver: an alert naming the ledger, within a minute…
        received = data / "demo" / "alerts-received.jsonl"
        wait_until(lambda: _naming_ledger(received, "firing"), 60, "a firing alert naming the ledger")
        # …and resolved once the fault is off.
        assert _hopscope("fault", "ledger_timeout", "off", timeout=60, cwd=elsewhere).returncode == 0
        wait_until(lambda: _resolved(received, "frontend-errors"), 180, "the frontend alert resolved")
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    finally:
        if up.poll() is None:
            up.kill()
        out.close()
    log = (tmp_path / "up.log").read_text()
    assert "demo shop running" in log and "frontend" in log and "dashboard: http://127.0.0.1:" in log
    assert '"POST /v1/' not in log  # no access-log line per OTLP export at the default level
    assert "[alert] FIRING frontend-errors (critical): origin ledger INSERT" in log  # printed as it arrives
    assert any("last " in line and "total: sent" in line for line in log.splitlines() if line.startswith("[load]"))
    services = query_data_dir(data, "SELECT DISTINCT ServiceName FROM otel_traces ORDER BY 1")
    assert [s["ServiceName"] for s in services] == sorted(
        ["checkout", "frontend", "inventory", "ledger", "payment", "queue", "shipping"]
    )
    failed = query_data_dir(
        data,
        "SELECT count() AS n FROM otel_traces WHERE ServiceName = 'frontend' "
        "AND SpanKind = 'Server' AND StatusCode = 'Error'",
    )
    assert failed[0]["n"] >= 5  # the ledger timeout reached users


def test_fault_command_lists_faults_and_explains_a_missing_demo(tmp_path):
    listed = _hopscope("fault", "--data-dir", str(tmp_path), timeout=60)
    assert listed.returncode == 0 and "ledger_timeout" in listed.stdout and "payment_glitch" in listed.stdout
    assert "no demo running" in listed.stdout
    missing = _hopscope("fault", "ledger_timeout", "on", "--data-dir", str(tmp_path), timeout=60)
    assert missing.returncode == 2 and "hopscope up --demo" in missing.stderr
    unknown = _hopscope("fault", "nope", "on", "--data-dir", str(tmp_path), timeout=60)
    assert unknown.returncode == 2
