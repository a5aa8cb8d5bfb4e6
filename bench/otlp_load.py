"""Realistic OTLP trace requests for benchmarks: five services, traces of ~10 spans with
parent/child ids, ~10 attributes per span, a few percent errors with exception events."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

SERVICES = ("frontend", "checkout", "payment", "ledger", "inventory")
ROUTES = ("/", "/cart", "/checkout", "/pay", "/ledger/entry", "/stock/{sku}", "/orders/{id}")


def _attr(span, key, value):
    kv = span.attributes.add(key=key)
    if isinstance(value, bool):
        kv.value.bool_value = value
    elif isinstance(value, int):
        kv.value.int_value = value
    elif isinstance(value, float):
        kv.value.double_value = value
    else:
        kv.value.string_value = value


def make_request(spans: int, seed: int, error_rate: float = 0.03) -> bytes:
    """One ExportTraceServiceRequest of `spans` spans, serialized."""
    rnd = random.Random(seed)
    request = ExportTraceServiceRequest()
    scopes = {}
    for service in SERVICES:
        rs = request.resource_spans.add()
        for key, value in (
            ("service.name", service),
            ("service.version", "1.8.3"),
            ("host.name", f"{service}-7d9f"),
            ("deployment.environment", "prod"),
            ("telemetry.sdk.language", "python"),
        ):
            rs.resource.attributes.add(key=key, value=AnyValue(string_value=value))
        ss = rs.scope_spans.add()
        ss.scope.name, ss.scope.version = "opentelemetry.instrumentation.fastapi", "0.48b0"
        scopes[service] = ss
    now = time.time_ns()
    made = 0
    while made < spans:
        trace_id = rnd.getrandbits(128).to_bytes(16, "big")
        parent = b""
        start = now - rnd.randint(0, 60) * 10**9
        for depth in range(min(10, spans - made)):
            service = SERVICES[depth % len(SERVICES)]
            span_id = rnd.getrandbits(64).to_bytes(8, "big")
            duration = rnd.randint(100_000, 900_000_000)
            span = scopes[service].spans.add(
                trace_id=trace_id,
                span_id=span_id,
                parent_span_id=parent,
                name=f"GET {rnd.choice(ROUTES)}",
                kind=2 if depth % 2 == 0 else 3,
                start_time_unix_nano=start,
                end_time_unix_nano=start + duration,
            )
            failed = rnd.random() < error_rate
            _attr(span, "http.request.method", "GET")
            _attr(span, "http.route", rnd.choice(ROUTES))
            _attr(span, "http.response.status_code", 500 if failed else 200)
            _attr(span, "server.address", f"{service}.shop.svc")
            _attr(span, "server.port", 8080)
            _attr(span, "url.scheme", "http")
            _attr(span, "user_agent.original", "Mozilla/5.0 (X11; Linux x86_64) hopscope-bench")
            _attr(span, "enduser.id", f"user-{rnd.randint(1, 50_000)}")
            _attr(span, "shop.cart.items", rnd.randint(1, 9))
            _attr(span, "shop.cart.total", round(rnd.uniform(1, 500), 2))
            if failed:
                span.status.code, span.status.message = 2, f"upstream timeout after {rnd.randint(1, 30)}s"
                event = span.events.add(time_unix_nano=start + duration - 1, name="exception")
                for key, value in (
                    ("exception.type", "TimeoutError"),
                    ("exception.message", "read timed out"),
                    ("exception.stacktrace", "Traceback (most recent call last): ..."),
                ):
                    event.attributes.add(key=key, value=AnyValue(string_value=value))
            parent = span_id
            start += duration // 10
            made += 1
    return request.SerializeToString()


def make_logs_request(records: int, seed: int) -> bytes:
    """One ExportLogsServiceRequest of `records` log records (five services, eight attributes each,
    a trace context on most, 3 % errors with exception attributes), serialized."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest

    rnd = random.Random(seed)
    request = ExportLogsServiceRequest()
    scopes = {}
    for service in SERVICES:
        rl = request.resource_logs.add()
        rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
        rl.resource.attributes.add(key="host.name", value=AnyValue(string_value=f"{service}-7d9f"))
        sl = rl.scope_logs.add()
        sl.scope.name = "hopscope.bench"
        scopes[service] = sl
    now = time.time_ns()
    for i in range(records):
        failed = rnd.random() < 0.03
        record = scopes[SERVICES[i % len(SERVICES)]].log_records.add(
            time_unix_nano=now - rnd.randint(0, 60) * 10**9,
            observed_time_unix_nano=now,
            severity_number=17 if failed else 9,
            severity_text="ERROR" if failed else "INFO",
            trace_id=rnd.getrandbits(128).to_bytes(16, "big"),
            span_id=rnd.getrandbits(64).to_bytes(8, "big"),
        )
        record.body.string_value = f"order {rnd.randint(1, 10**6)} {'failed: ledger timed out' if failed else 'placed'}"
        _attr(record, "http.route", rnd.choice(ROUTES))
        _attr(record, "enduser.id", f"user-{rnd.randint(1, 50_000)}")
        _attr(record, "shop.cart.items", rnd.randint(1, 9))
        _attr(record, "shop.cart.total", round(rnd.uniform(1, 500), 2))
        _attr(record, "code.function", "place_order")
        _attr(record, "code.lineno", rnd.randint(10, 400))
        if failed:
            _attr(record, "exception.type", "TimeoutError")
            _attr(record, "exception.message", "read timed out")
    return request.SerializeToString()


def make_metrics_request(points: int, seed: int, per_metric: int = 50, metrics_per_resource: int = 1) -> bytes:
    """One ExportMetricsServiceRequest of about `points` data points spread over the five point types
    (gauge, sum, histogram, exponential histogram, summary), three attributes each, serialized:
    metrics of `per_metric` points, `metrics_per_resource` of them under each resource (an SDK sends
    one resource and dozens of metrics of a few points each)."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    rnd = random.Random(seed)
    request = ExportMetricsServiceRequest()
    now = time.time_ns()
    made = 0
    while made < points:
        metric_number = made // per_metric
        service = SERVICES[metric_number // metrics_per_resource % len(SERVICES)]
        if metric_number % metrics_per_resource == 0:
            rm = request.resource_metrics.add()
            rm.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
            sm = rm.scope_metrics.add()
            sm.scope.name = "hopscope.bench"
        kind = metric_number % 5
        metric = sm.metrics.add(name=f"bench.metric.{kind}", unit="ms", description="bench")
        for _ in range(min(per_metric, points - made)):
            if kind == 0:
                point = metric.gauge.data_points.add(as_double=rnd.random())
            elif kind == 1:
                metric.sum.is_monotonic, metric.sum.aggregation_temporality = True, 2
                point = metric.sum.data_points.add(as_int=rnd.randint(0, 10**6))
            elif kind == 2:
                metric.histogram.aggregation_temporality = 2
                point = metric.histogram.data_points.add(count=10, sum=55.0, bucket_counts=[1, 2, 3, 4],
                                                         explicit_bounds=[1.0, 5.0, 10.0])  # fmt: skip
            elif kind == 3:
                metric.exponential_histogram.aggregation_temporality = 2
                point = metric.exponential_histogram.data_points.add(count=6, sum=12.5, scale=2, zero_count=1)
                point.positive.offset, point.positive.bucket_counts[:] = 1, [2, 3]
            else:
                point = metric.summary.data_points.add(count=4, sum=10.0)
                point.quantile_values.add(quantile=0.5, value=2.0)
                point.quantile_values.add(quantile=0.99, value=4.0)
            point.start_time_unix_nano, point.time_unix_nano = now - 60 * 10**9, now - rnd.randint(0, 30) * 10**9
            for key, value in (("http.route", rnd.choice(ROUTES)), ("host.name", f"{service}-7d9f"),
                               ("status", rnd.choice(("ok", "error")))):  # fmt: skip
                point.attributes.add(key=key, value=AnyValue(string_value=value))
            made += 1
    return request.SerializeToString()


# Each signal's request maker (records, seed) -> body, and the tables its records end in.
MAKERS: dict[str, Callable[[int, int], bytes]] = {
    "traces": make_request,
    "logs": make_logs_request,
    "metrics": make_metrics_request,
}
TABLES = {"traces": ["otel_traces"], "logs": ["otel_logs"],
          "metrics": ["otel_metrics_gauge", "otel_metrics_sum", "otel_metrics_histogram",
                      "otel_metrics_exp_histogram", "otel_metrics_summary"]}  # fmt: skip
