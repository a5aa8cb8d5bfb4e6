"""GET /metrics, scraped from a running collector as Prometheus would: the counters move with the
traffic, and the write-ahead log's and the inserter's figures are there."""

from __future__ import annotations

import time

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from prometheus_client.parser import text_string_to_metric_families

from hopscope_cli.collector_process import CollectorProcess

pytestmark = pytest.mark.slow
PB = {"Content-Type": "application/x-protobuf"}


def _scrape(url: str) -> dict[tuple[str, tuple], float]:
    response = httpx.get(url + "/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _spans(n: int, bad: int = 0) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="metered"))
    now = time.time_ns()
    for i in range(1, n + 1):
        span_id = b"\x01" if i <= bad else i.to_bytes(8, "big")
        rs.scope_spans.add().spans.add(trace_id=i.to_bytes(16, "big"), span_id=span_id, name="op",
                                       start_time_unix_nano=now, end_time_unix_nano=now + 1)  # fmt: skip
    return request.SerializeToString()


def test_metrics_move_with_the_traffic(tmp_path):
    with CollectorProcess(tmp_path / "data") as collector:
        before = _scrape(collector.url)
        for _ in range(3):
            assert httpx.post(collector.url + "/v1/traces", content=_spans(10, bad=2), headers=PB).status_code == 200
        assert httpx.post(collector.url + "/v1/traces", content=b"\xff garbage", headers=PB).status_code == 400
        collector.wait_stored()
        after = _scrape(collector.url)

    def moved(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    http = {"signal": "traces", "transport": "http"}
    assert moved("hopscope_otlp_requests_total", outcome="accepted", **http) == 3
    assert moved("hopscope_otlp_requests_total", outcome="invalid", **http) == 1
    assert moved("hopscope_otlp_records_total", signal="traces", outcome="accepted") == 24
    assert moved("hopscope_otlp_records_total", signal="traces", outcome="refused") == 6
    assert moved("hopscope_otlp_request_bytes_total", **http) > 0
    assert moved("hopscope_otlp_ack_seconds_count", transport="http") == 3
    assert moved("hopscope_wal_appended_records_total") == 3
    assert moved("hopscope_inserted_rows_total") == 24 and moved("hopscope_inserts_total") >= 1
    assert moved("hopscope_insert_seconds_total") > 0
    assert after[("hopscope_wal_records", ())] == 0 and after[("hopscope_store_down", ())] == 0
    assert ("hopscope_shed_requests_total", ()) in after
    assert after[("hopscope_lease_held", (("lease", "alerting"),))] == 1  # the only collector holds it
