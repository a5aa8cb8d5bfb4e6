"""End to end: the real OpenTelemetry SDK and OTLP/HTTP exporters against `hopscope collector`
running as a subprocess on a free port; the data directory is read back after a SIGTERM."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from hopscope_cli.collector_process import CollectorProcess
from hopscope_cli.processes import query_data_dir
from storage.migrations import latest_version

pytestmark = pytest.mark.slow
PB = {"Content-Type": "application/x-protobuf"}


def _send_with_sdk(url: str, service: str) -> dict:
    """Spans, logs and four metric types through the SDK's own exporters; returns what was sent."""
    resource = Resource.create({"service.name": service, "service.version": "1.4.2", "deployment.environment": "test"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=url + "/v1/traces")))
    tracer = tracer_provider.get_tracer("e2e.tests", "3.1")

    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(OTLPLogExporter(endpoint=url + "/v1/logs")))
    otel_logger = logger_provider.get_logger("e2e.logs")

    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[reader],
        views=[
            View(instrument_name="payload.size", aggregation=ExponentialBucketHistogramAggregation()),
        ],
    )
    meter = meter_provider.get_meter("e2e.meter")
    requests_counter = meter.create_counter("http.requests", unit="1", description="requests served")
    inflight = meter.create_up_down_counter("http.inflight")
    latency = meter.create_histogram("http.latency", unit="ms")
    payload = meter.create_histogram("payload.size", unit="By")
    meter.create_observable_gauge("queue.depth", callbacks=[lambda options: [_observation(17)]])

    with tracer.start_as_current_span(
        "GET /checkout", kind=SpanKind.SERVER, attributes={"http.route": "/checkout", "http.status_code": 500}
    ) as root:
        root_ctx = root.get_span_context()
        with tracer.start_as_current_span(
            "charge",
            kind=SpanKind.CLIENT,
            attributes={"retry": True, "amount": 12.5, "tags": ["a", "b"]},
            links=[Link(root_ctx, {"link.kind": "follows"})],
        ) as child:
            child.add_event("retrying", {"attempt": 2})
            child.set_status(Status(StatusCode.ERROR, "card declined"))
            otel_logger.emit(
                body="payment failed for order 42",
                severity_number=SeverityNumber.ERROR,
                severity_text="ERROR",
                attributes={"order.id": "42"},
            )
            latency.record(12.0, {"route": "/checkout"})
            child_ctx = child.get_span_context()
        requests_counter.add(3, {"route": "/checkout"})
        inflight.add(-2)
        for size in (1, 10, 100, 1000):
            payload.record(size)
    metrics_data = reader.get_metrics_data()
    metric_exporter = OTLPMetricExporter(endpoint=url + "/v1/metrics")
    assert metric_exporter.export(metrics_data).name == "SUCCESS"
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()
    return {
        "trace_id": format(root_ctx.trace_id, "032x"),
        "root_span": format(root_ctx.span_id, "016x"),
        "child_span": format(child_ctx.span_id, "016x"),
        "metrics": metrics_data,
        "flags": int(child_ctx.trace_flags),
        "root_times": (root.start_time, root.end_time),
        "child_times": (child.start_time, child.end_time),
    }


def _observation(value):
    from opentelemetry.metrics import Observation

    return Observation(value, {"queue": "orders"})


def _summary_request(service: str, now: int) -> bytes:
    """The Python SDK has no summary instrument; send one as other SDKs (Prometheus bridges) do."""
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    metric = rm.scope_metrics.add().metrics.add(name="rpc.duration.summary", unit="s")
    point = metric.summary.data_points.add(start_time_unix_nano=now - 10**9, time_unix_nano=now, count=8, sum=4.0)
    point.attributes.add(key="method", value=AnyValue(string_value="Pay"))
    for q, v in ((0.5, 0.4), (0.99, 1.9)):
        point.quantile_values.add(quantile=q, value=v)
    return request.SerializeToString()


def test_sdk_telemetry_arrives_exactly(tmp_path):
    service = "e2e-shop"
    now = time.time_ns()
    with CollectorProcess(tmp_path / "data") as collector:
        sent = _send_with_sdk(collector.url, service)
        assert (
            httpx.post(
                collector.url + "/v1/metrics", content=_summary_request(service, now), headers=PB, timeout=30
            ).status_code
            == 200
        )
        assert collector.stop() == 0  # SIGTERM: flush and exit cleanly
    data = tmp_path / "data"

    spans = query_data_dir(
        data,
        (
            "SELECT TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, ResourceAttributes, ScopeName,"
            " ScopeVersion, SpanAttributes, Duration, toUnixTimestamp64Nano(Timestamp) AS StartNs, StatusCode,"
            " StatusMessage, Events.Name, Events.Attributes, Links.TraceId, Links.SpanId, Links.Attributes"
            " FROM otel_traces ORDER BY Timestamp"
        ),
    )
    assert [s["SpanName"] for s in spans] == ["GET /checkout", "charge"]
    root, child = spans
    assert {root["TraceId"], child["TraceId"]} == {sent["trace_id"]}
    assert (root["SpanId"], root["ParentSpanId"]) == (sent["root_span"], "")
    assert (child["SpanId"], child["ParentSpanId"]) == (sent["child_span"], sent["root_span"])
    assert (root["SpanKind"], child["SpanKind"]) == ("Server", "Client")
    assert root["ServiceName"] == service
    assert root["ResourceAttributes"]["service.version"] == "1.4.2"
    assert root["ResourceAttributes"]["telemetry.sdk.language"] == "python"
    assert (root["ScopeName"], root["ScopeVersion"]) == ("e2e.tests", "3.1")
    assert root["SpanAttributes"] == {"http.route": "/checkout", "http.status_code": "500"}
    assert child["SpanAttributes"] == {"retry": "true", "amount": "12.5", "tags": '["a","b"]'}
    assert (child["StatusCode"], child["StatusMessage"]) == ("Error", "card declined")
    assert root["StatusCode"] == "Unset"
    assert child["Events.Name"] == ["retrying"] and child["Events.Attributes"] == [{"attempt": "2"}]
    assert child["Links.TraceId"] == [sent["trace_id"]] and child["Links.SpanId"] == [sent["root_span"]]
    assert child["Links.Attributes"] == [{"link.kind": "follows"}]
    for row, (start, end) in ((root, sent["root_times"]), (child, sent["child_times"])):
        assert (row["StartNs"], row["Duration"]) == (start, end - start)  # nanoseconds, exactly
    lookup = query_data_dir(data, "SELECT DISTINCT TraceId FROM otel_traces_trace_id_ts")
    assert lookup == [{"TraceId": sent["trace_id"]}]

    logs = query_data_dir(
        data,
        "SELECT Body, SeverityText, SeverityNumber, TraceId, SpanId, TraceFlags,"
        " ServiceName, LogAttributes, toUnixTimestamp64Nano(Timestamp) AS Ns FROM otel_logs",
    )
    assert len(logs) == 1
    log = logs[0]
    assert log["Body"] == "payment failed for order 42"
    assert (log["SeverityText"], log["SeverityNumber"]) == ("ERROR", 17)
    assert (log["TraceId"], log["SpanId"], log["TraceFlags"]) == (sent["trace_id"], sent["child_span"], sent["flags"])
    assert log["LogAttributes"]["order.id"] == "42" and log["ServiceName"] == service
    assert log["Ns"] >= now

    _assert_metrics(data, sent, service)


def _sent_points(metrics_data) -> dict:
    points = {}
    for rm in metrics_data.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                points[metric.name] = metric.data.data_points[0]
    return points


def _assert_metrics(data, sent, service):
    points = _sent_points(sent["metrics"])
    sums = query_data_dir(
        data,
        "SELECT MetricName, Value, IsMonotonic, AggregationTemporality, Attributes,"
        " MetricUnit, MetricDescription, toUnixTimestamp64Nano(TimeUnix) AS T,"
        " toUnixTimestamp64Nano(StartTimeUnix) AS S FROM otel_metrics_sum ORDER BY MetricName",
    )
    assert [(m["MetricName"], m["Value"], m["IsMonotonic"]) for m in sums] == [
        ("http.inflight", -2.0, False),
        ("http.requests", 3.0, True),
    ]
    requests = sums[1]
    assert requests["AggregationTemporality"] == 2 and requests["Attributes"] == {"route": "/checkout"}
    assert (requests["MetricUnit"], requests["MetricDescription"]) == ("1", "requests served")
    assert requests["T"] == points["http.requests"].time_unix_nano  # nanoseconds kept exactly
    assert requests["S"] == points["http.requests"].start_time_unix_nano

    gauges = query_data_dir(data, "SELECT MetricName, Value, Attributes, ServiceName FROM otel_metrics_gauge")
    assert gauges == [
        {"MetricName": "queue.depth", "Value": 17.0, "Attributes": {"queue": "orders"}, "ServiceName": service}
    ]

    hist = query_data_dir(
        data,
        "SELECT Count, Sum, BucketCounts, ExplicitBounds, Min, Max, Exemplars.TraceId,"
        " Exemplars.SpanId, Exemplars.Value FROM otel_metrics_histogram",
    )
    assert len(hist) == 1
    sent_hist = points["http.latency"]
    assert (hist[0]["Count"], hist[0]["Sum"], hist[0]["Min"], hist[0]["Max"]) == (1, 12.0, 12.0, 12.0)
    assert hist[0]["BucketCounts"] == list(sent_hist.bucket_counts)
    assert hist[0]["ExplicitBounds"] == list(sent_hist.explicit_bounds)
    assert hist[0]["Exemplars.TraceId"] == [sent["trace_id"]]  # recorded inside the sampled span
    assert hist[0]["Exemplars.SpanId"] == [sent["child_span"]] and hist[0]["Exemplars.Value"] == [12.0]

    exp = query_data_dir(
        data,
        "SELECT Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts,"
        " Min, Max FROM otel_metrics_exp_histogram",
    )
    sent_exp = points["payload.size"]
    assert exp == [
        {
            "Count": 4,
            "Sum": 1111.0,
            "Scale": sent_exp.scale,
            "ZeroCount": 0,
            "PositiveOffset": sent_exp.positive.offset,
            "PositiveBucketCounts": list(sent_exp.positive.bucket_counts),
            "Min": 1.0,
            "Max": 1000.0,
        }
    ]

    summary = query_data_dir(
        data,
        "SELECT MetricName, Count, Sum, ValueAtQuantiles.Quantile AS Q,"
        " ValueAtQuantiles.Value AS V, Attributes FROM otel_metrics_summary",
    )
    assert summary == [
        {
            "MetricName": "rpc.duration.summary",
            "Count": 8,
            "Sum": 4.0,
            "Q": [0.5, 0.99],
            "V": [0.4, 1.9],
            "Attributes": {"method": "Pay"},
        }
    ]


def _spans_request(service: str, n: int, first: int = 1) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    now = time.time_ns()
    for i in range(first, first + n):
        rs.scope_spans.add().spans.add(
            trace_id=i.to_bytes(16, "big"),
            span_id=i.to_bytes(8, "big"),
            name="op",
            start_time_unix_nano=now,
            end_time_unix_nano=now + 1,
        )
    return request.SerializeToString()


def test_data_survives_a_restart(tmp_path):
    data = tmp_path / "data"
    with CollectorProcess(data) as collector:
        assert (
            httpx.post(collector.url + "/v1/traces", content=_spans_request("before", 5), headers=PB).status_code == 200
        )
    with CollectorProcess(data) as collector:
        assert (
            httpx.post(collector.url + "/v1/traces", content=_spans_request("after", 2, 100), headers=PB).status_code
            == 200
        )
    rows = query_data_dir(data, "SELECT ServiceName, count() AS n FROM otel_traces GROUP BY ServiceName ORDER BY 1")
    assert rows == [{"ServiceName": "after", "n": 2}, {"ServiceName": "before", "n": 5}]
    migrations = query_data_dir(data, "SELECT count() AS n FROM hopscope_schema_migrations")
    assert migrations == [{"n": latest_version()}]  # the second start applied nothing again


def test_a_full_write_ahead_log_answers_503_and_shutdown_inserts_what_was_accepted(tmp_path):
    """Nothing moves into ClickHouse for 30 s, and the log may hold 1 MiB: requests are taken until
    it is full, then refused with Retry-After; a graceful stop inserts every accepted record."""
    env = {
        "HOPSCOPE_WAL_MAX_BYTES": str(1024**2),
        "HOPSCOPE_FLUSH_INTERVAL_SECONDS": "30",
        "HOPSCOPE_RETRY_AFTER_SECONDS": "7",
    }
    collector = CollectorProcess(tmp_path / "data", env=env).start()
    try:
        accepted, refused = 0, None
        for i in range(40):
            response = httpx.post(
                collector.url + "/v1/traces", content=_spans_request("queued", 500, 1 + i * 1000), headers=PB
            )
            if response.status_code != 200:
                refused = response
                break
            accepted += 1
        assert refused is not None and refused.status_code == 503 and refused.headers["retry-after"] == "7"
        assert accepted >= 2
        ready = httpx.get(collector.url + "/readyz")
        assert ready.status_code == 503 and ready.json()["wal"]["records"] == accepted
        assert httpx.get(collector.url + "/healthz").status_code == 200
    finally:
        assert collector.stop() == 0  # graceful shutdown inserts what the log holds
    rows = query_data_dir(tmp_path / "data", "SELECT ServiceName, count() AS n FROM otel_traces GROUP BY 1")
    assert rows == [{"ServiceName": "queued", "n": 500 * accepted}]


def _migrate(data_dir) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "hopscope_cli", "migrate", "--data-dir", str(data_dir)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def test_migrate_command_creates_the_schema(tmp_path):
    out = _migrate(tmp_path / "d")
    assert out.returncode == 0, out.stderr
    assert "applied 001_traces" in out.stdout and f"{latest_version()} migrations applied" in out.stdout
    assert "0 migrations applied" in _migrate(tmp_path / "d").stdout


def test_without_migrate_on_start_an_unmigrated_store_stops_the_collector(tmp_path):
    collector = CollectorProcess(tmp_path / "data", env={"HOPSCOPE_MIGRATE_ON_START": "false"})
    with pytest.raises(AssertionError, match="collector exited"):
        collector.start(timeout=60)
    collector.stop()
    assert "run `hopscope migrate` first" in collector.log()
    done = _migrate(tmp_path / "data")
    assert done.returncode == 0, done.stderr
    with CollectorProcess(tmp_path / "data", env={"HOPSCOPE_MIGRATE_ON_START": "false"}) as ready:
        assert httpx.get(ready.url + "/readyz").json()["status"] == "ready"
