"""A service instrumented by `import hopscope.auto` whose collector is down or never answers:
requests keep succeeding, memory stays bounded, and it stops within 2 s."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hopscope_cli.processes import free_port, wait_http_ok

pytestmark = pytest.mark.slow


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize("collector", ["refusing", "silent"])
def test_service_is_unharmed_when_the_collector_is_unreachable(tmp_path, collector):
    silent = socket.socket()  # accepts connections into its backlog and never answers them
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)
    otlp_port = silent.getsockname()[1] if collector == "silent" else free_port()
    port = free_port()
    env = {
        **os.environ,
        "OTEL_SERVICE_NAME": "inventory",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{otlp_port}",
        "DEMO_DATA_DIR": str(tmp_path),
        "OTEL_METRIC_EXPORT_INTERVAL": "1000",
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    log = open(tmp_path / "service.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "demo.services.inventory:app", "--port", str(port), "--no-access-log"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_http_ok(url + "/healthz", 60, proc)
        statuses = []
        with httpx.Client(timeout=10) as client:
            for i in range(6000):
                statuses.append(client.get(f"{url}/stock/sku-{i % 50}").status_code)
                if i == 1000:
                    warm = _rss_mib(proc.pid)  # queues full by now: what follows must not grow
        grown = _rss_mib(proc.pid) - warm
        assert set(statuses) == {200}
        assert grown < 25, f"RSS grew {grown:.1f} MiB over 5,000 requests with the collector {collector}"
        stop_at = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        took = time.monotonic() - stop_at
        assert took < 2.0, f"the service took {took:.2f}s to stop"
        print(f"collector {collector}: RSS +{grown:.1f} MiB over 5,000 requests, stopped in {took:.2f}s")
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
        silent.close()
    output = (tmp_path / "service.log").read_text()
    assert "Traceback" not in output, output[-3000:]
