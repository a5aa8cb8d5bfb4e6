"""GET /api/v1/metrics and /api/v1/metrics/{name} over seeded points of every metric type."""

from __future__ import annotations

import time
import uuid

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

PB = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def seeded(collector):
    tag = uuid.uuid4().hex[:6]
    t0 = (time.time_ns() // 10**10 - 6) * 10**10 + 10**9  # 1 s into a 10 s step, a minute ago
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value=f"svc-{tag}"))
    sm = rm.scope_metrics.add()
    gauge = sm.metrics.add(name=f"queue.depth.{tag}", unit="1").gauge
    for i, value in enumerate((5, 9, 7)):
        point = gauge.data_points.add(as_int=value, time_unix_nano=t0 + i * 10**10)
        point.attributes.add(key="queue", value=AnyValue(string_value="orders"))
    gauge.data_points.add(as_int=100, time_unix_nano=t0).attributes.add(key="queue", value=AnyValue(string_value="x"))
    counter = sm.metrics.add(name=f"requests.{tag}", unit="1").sum
    counter.is_monotonic, counter.aggregation_temporality = True, 2
    for i, value in enumerate((10, 30, 60)):
        counter.data_points.add(as_int=value, start_time_unix_nano=t0 - 10**9, time_unix_nano=t0 + i * 10**10)
    hist = sm.metrics.add(name=f"latency.{tag}", unit="ms").histogram
    hist.aggregation_temporality = 2
    for i, counts in enumerate(([1, 1, 0], [3, 5, 2])):
        hist.data_points.add(
            count=sum(counts),
            bucket_counts=counts,
            explicit_bounds=[10.0, 100.0],
            start_time_unix_nano=t0 - 10**9,
            time_unix_nano=t0 + i * 10**10,
        )
    summary = sm.metrics.add(name=f"rpc.{tag}", unit="s").summary
    summary.data_points.add(count=4, sum=2.0, time_unix_nano=t0)
    assert collector.post("/v1/metrics", content=request.SerializeToString(), headers=PB).status_code == 200
    return tag, t0


def _series(collector, name, **params):
    response = collector.get(f"/api/v1/metrics/{name}", params={"since": "5m", "step": "10s", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_catalog_lists_names_types_units_and_services(collector, seeded):
    tag, _ = seeded
    metrics = {m["name"]: m for m in collector.get("/api/v1/metrics", params={"since": "5m"}).json()["metrics"]}
    assert metrics[f"queue.depth.{tag}"]["type"] == "gauge"
    assert metrics[f"requests.{tag}"]["type"] == "sum"
    assert metrics[f"latency.{tag}"]["type"] == "histogram" and metrics[f"latency.{tag}"]["unit"] == "ms"
    assert metrics[f"rpc.{tag}"]["type"] == "summary"
    assert metrics[f"requests.{tag}"]["services"] == [f"svc-{tag}"]


def test_gauge_series_with_aggregation_and_attribute_filter(collector, seeded):
    tag, t0 = seeded
    body = _series(collector, f"queue.depth.{tag}", aggregation="max", attr="queue=orders")
    [series] = body["series"]
    assert series["points"] == [[t0 // 10**9 - 1, 5], [t0 // 10**9 + 9, 9], [t0 // 10**9 + 19, 7]]
    unfiltered = _series(collector, f"queue.depth.{tag}", aggregation="max")["series"][0]["points"]
    assert unfiltered[0][1] == 100


def test_monotonic_sum_is_a_rate_per_second(collector, seeded):
    tag, _ = seeded
    body = _series(collector, f"requests.{tag}")
    assert body["aggregation"] == "rate"
    assert [p[1] for p in body["series"][0]["points"]] == [0.0, 2.0, 3.0]


def test_histogram_quantiles_from_bucket_increments(collector, seeded):
    tag, _ = seeded
    body = _series(collector, f"latency.{tag}")
    assert body["columns"] == ["t", "count", "p50", "p95", "p99"]
    first, second = body["series"][0]["points"]
    assert second[1] == 8  # 10 cumulative - 2 before
    assert second[2] == pytest.approx(55.0)  # rank 4 of [2, 4, 2]: halfway through (10, 100]
    assert second[3] == 100.0  # in the overflow bucket: its lower bound
    assert first[1] == 0  # the first point of a cumulative series has no increment to show


def test_summary_mean(collector, seeded):
    tag, _ = seeded
    assert _series(collector, f"rpc.{tag}")["series"][0]["points"][0][1] == 0.5


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("nope.metric?since=5m", 404, "unknown metric"),
        ("{m}?since=5m&step=fast", 400, "invalid duration"),
        ("{m}?since=5m&step=10ms", 400, "invalid step"),
        ("{m}?since=30d&step=1s", 400, "invalid step"),
        ("{m}?since=5m&aggregation=median", 400, "invalid parameter"),
        ("{gauge}?since=5m&aggregation=rate", 400, "invalid aggregation"),
        ("{m}?since=5m&attr=broken", 400, "invalid attribute filter"),
    ],
)
def test_bad_metric_queries(collector, seeded, query, status, error):
    tag, _ = seeded
    path = query.format(m=f"requests.{tag}", gauge=f"queue.depth.{tag}")
    response = collector.get(f"/api/v1/metrics/{path}")
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
