"""`hopscope up --demo`, the README's first command, as a user runs it: real processes, a fault
switched on from a second command, everything stopped by one SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from tests.support import free_port, query_data_dir

pytestmark = pytest.mark.slow


def _hopscope(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "collector.cli", *args], capture_output=True, text=True, **kwargs)


def test_up_demo_produces_failing_multi_hop_traffic(tmp_path):
    data = tmp_path / "data"
    port = free_port()
    out = open(tmp_path / "up.log", "w")  # noqa: SIM115
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector.cli",
            "up",
            "--demo",
            "--port",
            str(port),
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
        deadline = time.monotonic() + 90
        while "[load]" not in (tmp_path / "up.log").read_text() and time.monotonic() < deadline:
            assert up.poll() is None, (tmp_path / "up.log").read_text()
            time.sleep(0.5)
        switched = _hopscope("fault", "ledger_timeout", "on", "--data-dir", str(data), timeout=60)
        assert switched.returncode == 0 and "in 7 of 7 demo services" in switched.stdout, switched
        time.sleep(6)
        up.send_signal(signal.SIGTERM)
        assert up.wait(60) == 0
    finally:
        if up.poll() is None:
            up.kill()
        out.close()
    log = (tmp_path / "up.log").read_text()
    assert "demo shop running" in log and "frontend" in log and "dashboard: http://127.0.0.1:" in log
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
    listed = _hopscope("fault", timeout=60)
    assert listed.returncode == 0 and "ledger_timeout" in listed.stdout and "payment_glitch" in listed.stdout
    missing = _hopscope("fault", "ledger_timeout", "on", "--data-dir", str(tmp_path), timeout=60)
    assert missing.returncode == 2 and "hopscope up --demo" in missing.stderr
    unknown = _hopscope("fault", "nope", "on", "--data-dir", str(tmp_path), timeout=60)
    assert unknown.returncode == 2
