"""A collector in a subprocess with seeded data, shared by the dashboard tests."""

from __future__ import annotations

import os
import time

import httpx
import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from hopscope_cli.collector_process import CollectorProcess
from tests.analysis.scenarios import ERROR, S, to_request
from tests.demo import recorded

PB = {"Content-Type": "application/x-protobuf"}


def broken_checkout() -> list[S]:
    """frontend -> checkout -> payment -> ledger, the ledger's database call failing, all propagated."""
    return [
        S("fe", "frontend", "POST /checkout", status=ERROR, attrs={"http.status_code": 500}),
        S("fe-c", "frontend", "POST", kind="Client", parent="fe", status=ERROR),
        S("co", "checkout", "POST /orders", parent="fe-c", status=ERROR),
        S("co-c", "checkout", "POST", kind="Client", parent="co", status=ERROR),
        S("pay", "payment", "POST /payments", parent="co-c", status=ERROR),
        S("pay-c", "payment", "POST", kind="Client", parent="pay", status=ERROR),
        S("led", "ledger", "POST /entries", parent="pay-c", status=ERROR),
        S(
            "db",
            "ledger",
            "INSERT",
            kind="Client",
            parent="led",
            status=ERROR,
            attrs={"db.system": "sqlite"},
            exception=("sqlite3.OperationalError", "database is locked"),
        ),
    ]


def inventory_fallback() -> list[S]:
    return [
        S("fe", "frontend", "POST /checkout"),
        S("fe-c", "frontend", "POST", kind="Client", parent="fe"),
        S("co", "checkout", "POST /orders", parent="fe-c"),
        S("co-c", "checkout", "GET", kind="Client", parent="co", status=ERROR),
        S("inv", "inventory", "GET /stock/{sku}", parent="co-c", attrs={"http.status_code": 503}),
    ]


def slow_recommendations(failing: bool, version: str = "3.1.0") -> list[S]:
    """gateway (version 3.1.0) -> recs: the call times out while the history query runs on."""
    tier = {"user.tier": "free" if failing else "paid"}
    spans = [
        S("gw", "gateway", "GET /home", status=ERROR if failing else 0, duration_ms=600, version=version),
        S("gw-c", "gateway", "recs.Get", kind="Client", parent="gw", start_ms=5, duration_ms=500 if failing else 80,
          status=ERROR if failing else 0, exception=("DeadlineExceeded", "timed out") if failing else None, attrs=tier),
        S("rc", "recs", "recs.Get", parent="gw-c", start_ms=8, duration_ms=700 if failing else 70),
        S("db", "recs", "SELECT history", kind="Client", parent="rc", start_ms=12, duration_ms=690 if failing else 60,
          attrs={"db.system": "postgresql"}),
    ]  # fmt: skip
    return spans


def async_order(producer: str) -> tuple[list[S], list[S]]:
    """web publishes an order; shipping's consumer (another trace) fails two hops further, at the carrier."""
    produced = [S("root", "web", "POST /orders"), S("pub", "web", "orders publish", kind="Producer", parent="root")]
    consumed = [
        S("con", "shipping", "orders process", kind="Consumer", links=(f"{producer}/pub",), status=ERROR),
        S("call", "shipping", "POST", kind="Client", parent="con", status=ERROR),
        S("label", "carrier", "POST /labels", parent="call", status=ERROR, exception=("LabelError", "no label")),
    ]
    return produced, consumed


def seed(url: str) -> dict[str, list[str]]:
    """Six propagated ledger failures and six absorbed inventory ones, plus the ledger's logs; four
    gateway timeouts (and four healthy calls) with a latency cause, a deploy and a telling
    attribute; an order whose consumer fails in another trace."""
    traces: dict[str, list[str]] = {k: [] for k in ("broken", "absorbed", "slow", "slow_ok", "produced", "consumed")}

    def send(spans: list[S], kind: str, ago_s: int, trace_id: str | None = None) -> None:
        trace_id = trace_id or os.urandom(16).hex()
        body = to_request(spans, trace_id, time.time_ns() - ago_s * 10**9).SerializeToString()
        assert httpx.post(url + "/v1/traces", content=body, headers=PB).status_code == 200
        traces[kind].append(trace_id)

    # The version 3.1.0 replaced, two hours ago: outside every count of the last hour.
    old = to_request(
        slow_recommendations(failing=False, version="3.0.0"), os.urandom(16).hex(), time.time_ns() - 7200 * 10**9
    )
    assert httpx.post(url + "/v1/traces", content=old.SerializeToString(), headers=PB).status_code == 200
    for i in range(4):
        send(slow_recommendations(failing=True), "slow", 100 - i)
        send(slow_recommendations(failing=False), "slow_ok", 100 - i)
    producer = os.urandom(16).hex()
    produced, consumed = async_order(producer)
    send(produced, "produced", 90, producer)
    send(consumed, "consumed", 88)
    for i in range(6):
        for kind, spans in (("broken", broken_checkout()), ("absorbed", inventory_fallback())):
            trace_id = os.urandom(16).hex()
            body = to_request(spans, trace_id, time.time_ns() - (120 - i) * 10**9).SerializeToString()
            assert httpx.post(url + "/v1/traces", content=body, headers=PB).status_code == 200
            traces[kind].append(trace_id)
    logs = ExportLogsServiceRequest()
    rl = logs.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value="ledger"))
    for trace_id in traces["broken"]:
        record = rl.scope_logs.add().log_records.add(
            time_unix_nano=time.time_ns() - 60 * 10**9,
            severity_number=17,
            severity_text="ERROR",
            trace_id=bytes.fromhex(trace_id),
        )
        record.body.string_value = f"ledger write failed: database is locked ({trace_id[:6]})"
    assert httpx.post(url + "/v1/logs", content=logs.SerializeToString(), headers=PB).status_code == 200
    metrics = ExportMetricsServiceRequest()
    rm = metrics.resource_metrics.add()
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value="frontend"))
    hist = rm.scope_metrics.add().metrics.add(name="http.server.duration", unit="ms").histogram
    hist.aggregation_temporality = 2
    start = time.time_ns() - 300 * 10**9
    for i, counts in enumerate(([2, 1, 0], [5, 4, 1], [9, 6, 1])):
        hist.data_points.add(
            count=sum(counts),
            bucket_counts=counts,
            explicit_bounds=[50.0, 500.0],
            start_time_unix_nano=start,
            time_unix_nano=start + (i + 1) * 60 * 10**9,
        )
    assert httpx.post(url + "/v1/metrics", content=metrics.SerializeToString(), headers=PB).status_code == 200
    return traces


@pytest.fixture(scope="session")
def seeded_collector(tmp_path_factory):
    env = {"HOPSCOPE_ALERT_INTERVAL_SECONDS": "0.5"}
    with CollectorProcess(tmp_path_factory.mktemp("dash") / "data", env=env) as collector:
        collector.traces = seed(collector.url)
        collector.wait_stored()
        yield collector


@pytest.fixture(scope="session")
def demo_collector(tmp_path_factory):
    """A collector holding a recorded copy of the live demo's data with the ledger timeout on
    (tests/demo/recorded.py), as it arrived: the newest trace a minute old."""
    with CollectorProcess(tmp_path_factory.mktemp("demo") / "data") as collector:
        collector.recorded = recorded.load()
        spans, logs = recorded.replay(collector.recorded, "", time.time_ns() - 60 * 10**9)
        assert (
            httpx.post(collector.url + "/v1/traces", content=spans.SerializeToString(), headers=PB).status_code == 200
        )
        assert httpx.post(collector.url + "/v1/logs", content=logs.SerializeToString(), headers=PB).status_code == 200
        collector.wait_stored()
        yield collector


@pytest.fixture(scope="module")
def healthy_collector(tmp_path_factory):
    """A collector whose traffic never failed."""
    with CollectorProcess(tmp_path_factory.mktemp("healthy") / "data") as collector:
        for _ in range(3):
            spans = [
                S("fe", "frontend", "GET /"),
                S("fe-c", "frontend", "GET", kind="Client", parent="fe"),
                S("cat", "catalog", "GET /items", parent="fe-c"),
            ]
            body = to_request(spans, os.urandom(16).hex(), time.time_ns() - 30 * 10**9).SerializeToString()
            assert httpx.post(collector.url + "/v1/traces", content=body, headers=PB).status_code == 200
        collector.wait_stored()
        yield collector
