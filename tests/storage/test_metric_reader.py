"""MetricReader against the embedded ClickHouse: the catalog, gauges, counter rates, histograms."""

from __future__ import annotations

import time
import uuid

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from core.types import TimeRange
from storage.metric_reader import MetricReader

PB = {"Content-Type": "application/x-protobuf"}


def test_catalog_gauge_rate_and_histogram(collector, ch, service_name):
    tag = uuid.uuid4().hex[:6]
    start = (time.time_ns() // 60_000_000_000 - 5) * 60_000_000_000  # minute-aligned, five minutes ago
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value=service_name))
    metrics = rm.scope_metrics.add().metrics
    gauge = metrics.add(name=f"depth.{tag}", unit="1").gauge
    counter = metrics.add(name=f"requests.{tag}", unit="1").sum
    counter.is_monotonic, counter.aggregation_temporality = True, 2  # cumulative
    histogram = metrics.add(name=f"latency.{tag}", unit="ms").histogram
    histogram.aggregation_temporality = 2
    for minute in range(3):
        at = start + minute * 60 * 10**9
        gauge.data_points.add(time_unix_nano=at, as_double=10.0 * (minute + 1))
        counter.data_points.add(start_time_unix_nano=start, time_unix_nano=at, as_int=600 * (minute + 1))
        histogram.data_points.add(start_time_unix_nano=start, time_unix_nano=at, count=4 * (minute + 1),
                                  bucket_counts=[2 * (minute + 1), 2 * (minute + 1)], explicit_bounds=[100.0])  # fmt: skip
    assert collector.post("/v1/metrics", content=request.SerializeToString(), headers=PB).status_code == 200

    reader, window = MetricReader(ch), TimeRange(start - 60 * 10**9, start + 4 * 60 * 10**9)
    catalog = {m.name: m for m in reader.catalog(window) if m.name.endswith(tag)}
    assert {m.type for m in catalog.values()} == {"gauge", "sum", "histogram"}
    assert catalog[f"latency.{tag}"].unit == "ms" and catalog[f"depth.{tag}"].services == [service_name]

    gauge_values = reader.values(catalog[f"depth.{tag}"], window, 60, "max", service=service_name)
    assert [v for _, _, v in gauge_values] == [10.0, 20.0, 30.0]
    rates = reader.values(catalog[f"requests.{tag}"], window, 60, "rate", service=service_name)
    assert [v for _, _, v in rates][1:] == [10.0, 10.0]  # 600 more per minute = 10/s
    steps = reader.histogram(catalog[f"latency.{tag}"], window, 60, service=service_name)
    assert [buckets for _, _, buckets, _ in steps][1:] == [[2, 2], [2, 2]] and steps[0][3] == [100.0]
