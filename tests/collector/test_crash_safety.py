"""kill -9, as the OOM killer does it: no child process outlives the collector, and under load at
random moments nothing acknowledged is lost and nothing is stored twice."""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from hopscope_cli.collector_process import CollectorProcess
from hopscope_cli.processes import query_data_dir
from tests.polling import wait_until

pytestmark = pytest.mark.slow
PB = {"Content-Type": "application/x-protobuf"}


def _descendants(pid: int) -> set[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; only its parent's bookkeeping is left


def _request(first_id: int, n: int) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="crash"))
    spans = rs.scope_spans.add().spans
    now = time.time_ns()
    for i in range(first_id, first_id + n):
        spans.add(trace_id=i.to_bytes(16, "big"), span_id=i.to_bytes(8, "big"), name="op",
                  start_time_unix_nano=now, end_time_unix_nano=now + 1000)  # fmt: skip
    return request.SerializeToString()


def test_no_child_outlives_a_kill_9_of_the_collector(tmp_path):
    """Finding 6: ingest workers and the resource tracker stayed alive forever (~126 MB each)."""
    collector = CollectorProcess(tmp_path / "data", env={"HOPSCOPE_INGEST_WORKERS": "2"}).start()
    assert httpx.post(collector.url + "/v1/traces", content=_request(1, 10), headers=PB).status_code == 200
    assert collector.proc is not None
    children = _descendants(collector.proc.pid)
    assert len(children) >= 2, children  # the workers (and multiprocessing's resource tracker)
    collector.proc.kill()
    collector.stop()
    wait_until(lambda: not any(_running(pid) for pid in children), 10, "the collector's children to exit")


def test_kill_9_under_load_loses_no_acknowledged_record_and_stores_none_twice(tmp_path):
    data = tmp_path / "data"
    rng = random.Random(20261122)
    acknowledged: list[tuple[int, int]] = []  # (first span id, count) of every request answered 200
    next_id = [1]
    lock = threading.Lock()

    def send(url: str, stop: threading.Event) -> None:
        with httpx.Client(timeout=10) as client:
            while not stop.is_set():
                with lock:
                    first, next_id[0] = next_id[0], next_id[0] + 100
                try:
                    response = client.post(url + "/v1/traces", content=_request(first, 100), headers=PB)
                except httpx.HTTPError:
                    return  # the collector is gone; this request was never acknowledged
                if response.status_code == 200:
                    with lock:
                        acknowledged.append((first, 100))

    for _ in range(20):
        collector = CollectorProcess(data, env={"HOPSCOPE_INGEST_WORKERS": "1"}).start()
        stop = threading.Event()
        senders = [threading.Thread(target=send, args=(collector.url, stop)) for _ in range(3)]
        for sender in senders:
            sender.start()
        time.sleep(rng.uniform(0.2, 2.5))  # a random moment under load
        assert collector.proc is not None
        os.kill(collector.proc.pid, 9)
        collector.stop()
        stop.set()
        for sender in senders:
            sender.join(30)
    with CollectorProcess(data) as last:  # the last crash's log is inserted at this start
        last.wait_stored()
    counts = query_data_dir(data, "SELECT SpanId AS id, count() AS n FROM otel_traces GROUP BY SpanId")
    stored = {int(row["id"], 16): row["n"] for row in counts}
    assert all(n == 1 for n in stored.values()), [hex(i) for i, n in stored.items() if n > 1][:10]
    wanted = {first + k for first, n in acknowledged for k in range(n)}
    lost = wanted - stored.keys()
    assert len(wanted) > 5_000 and not lost, f"{len(lost)} of {len(wanted)} acknowledged spans lost"
