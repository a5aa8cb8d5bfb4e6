"""Realistic OTLP trace requests for benchmarks: five services, traces of ~10 spans with
parent/child ids, ~10 attributes per span, a few percent errors with exception events."""

from __future__ import annotations

import random
import time

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
