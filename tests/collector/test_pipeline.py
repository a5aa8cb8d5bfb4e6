"""The ingest pipeline's worker processes: thread mode, and recovery when a worker dies."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.main import create_app
from tests.conftest import StoringClient, make_settings

PB = {"Content-Type": "application/x-protobuf"}


def _spans(service: str, n: int) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    now = time.time_ns()
    for i in range(1, n + 1):
        rs.scope_spans.add().spans.add(trace_id=i.to_bytes(16, "big"), span_id=i.to_bytes(8, "big"), name="op",
                                       start_time_unix_nano=now, end_time_unix_nano=now + 5)  # fmt: skip
    return request.SerializeToString()


def _count(ch, service: str) -> int:
    return ch.query(
        "SELECT count() FROM otel_traces WHERE ServiceName = {s:String}", parameters={"s": service}
    ).result_rows[0][0]


def _worker_pids() -> list[int]:
    """Child processes of this test process that run multiprocessing's spawn entry point."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == os.getpid() and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


def test_conversion_on_threads_when_workers_is_zero(storage_url, ch, service_name):
    with StoringClient(create_app(make_settings(storage_url, ingest_workers=0))) as client:
        assert client.post("/v1/traces", content=_spans(service_name, 4), headers=PB).status_code == 200
    assert _count(ch, service_name) == 4


def test_a_killed_worker_costs_one_retry_not_the_collector(storage_url, ch, service_name):
    with StoringClient(create_app(make_settings(storage_url, ingest_workers=1))) as client:
        assert client.post("/v1/traces", content=_spans(service_name, 2), headers=PB).status_code == 200
        workers = _worker_pids()
        assert workers, "the pool should have started a worker process"
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
        statuses = [client.post("/v1/traces", content=_spans(service_name, 3), headers=PB) for _ in range(2)]
        assert [r.status_code for r in statuses] in ([503, 200], [200, 200])
        if statuses[0].status_code == 503:
            assert statuses[0].headers["retry-after"] == "1"
        assert client.get("/healthz").status_code == 200
    accepted = sum(3 for r in statuses if r.status_code == 200)
    assert _count(ch, service_name) == 2 + accepted
