"""OTLP requests for the differential tests of ClickHouse's own conversion (migration 014) against
the Python one (storage.model): the scenario library, the benchmark's traffic, the demo shop's
recorded traffic, requests from the real OpenTelemetry SDKs (Python, and JavaScript under Node.js),
and generated requests covering every AnyValue kind and the awkward corners.

Each corpus entry is (signal, name, request, python_path): `python_path` says the request holds something
SQL does not convert (a value nested deeper than storage.otlp_schema.ANY_VALUE_DEPTH, a repeated
key, a control character inside a nested string, a double outside SQL's exact range): the landing
view must refuse it with HOPSCOPE_PYTHON_PATH, never store it differently.
"""

from __future__ import annotations

import math
import os
import random
import struct
import time

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from bench.otlp_load import make_logs_request, make_metrics_request, make_request
from tests.analysis.scenarios import SCENARIOS, to_request

NOW = time.time_ns()


def _ids(rnd: random.Random) -> tuple[bytes, bytes]:
    return rnd.getrandbits(128).to_bytes(16, "big"), rnd.getrandbits(64).to_bytes(8, "big")


def _value(kind: str, payload) -> AnyValue:
    value = AnyValue()
    if kind == "array":
        value.array_value.values.extend(payload)
    elif kind == "kvlist":
        value.kvlist_value.values.extend(KeyValue(key=k, value=v) for k, v in payload)
    elif kind == "empty":
        pass
    else:
        setattr(value, kind, payload)
    return value


def _nested(depth: int, leaf: AnyValue) -> AnyValue:
    """`leaf` inside `depth` levels of alternating arrays and key-value lists."""
    value = leaf
    for level in range(depth):
        value = _value("array", [value, _value("int_value", level)]) if level % 2 else _value("kvlist", [("k", value)])
    return value


def _double(bits: int) -> float:
    return struct.unpack("<d", bits.to_bytes(8, "little"))[0]


def sql_formats_double(x: float, in_json: bool = False) -> bool:
    """Doubles the SQL conversion writes exactly (migration 014: hopscope_double_text, and
    hopscope_double_json inside arrays and key-value lists)."""
    if math.isnan(x) or math.isinf(x):
        return True
    if x == int(x):
        return abs(x) < (1e16 if in_json else 9.2e18)
    return abs(x) >= 1e-4


def _request(attrs: list[tuple[str, AnyValue]], rnd: random.Random, **span_fields) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="corpus"))
    ss = rs.scope_spans.add()
    trace_id, span_id = _ids(rnd)
    fields = {"trace_id": trace_id, "span_id": span_id, "name": "op", "kind": 2,
              "start_time_unix_nano": NOW - 10**9, "end_time_unix_nano": NOW} | span_fields  # fmt: skip
    span = ss.spans.add(**fields)
    span.attributes.extend(KeyValue(key=k, value=v) for k, v in attrs)
    return request


Entry = tuple[str, str, Message, bool]


def generated(seed: int = 7) -> list[Entry]:
    rnd = random.Random(seed)
    out: list[Entry] = []

    def add(label: str, attrs: list[tuple[str, AnyValue]], python_path: bool = False, **span_fields) -> None:
        out.append(("traces", label, _request(attrs, rnd, **span_fields), python_path))

    scalars = [
        ("s", _value("string_value", "plain")),
        ("s-empty", _value("string_value", "")),
        ("unicode", _value("string_value", 'Grüße 🚀 日本語 \u2028 "quoted" back\\slash')),
        ("control", _value("string_value", "line1\nline2\ttab\x01")),  # top level: stored as it is
        ("t", _value("bool_value", True)),
        ("f", _value("bool_value", False)),
        ("i0", _value("int_value", 0)),
        ("imax", _value("int_value", 2**63 - 1)),
        ("imin", _value("int_value", -(2**63))),
        ("d", _value("double_value", 1.5)),
        ("d0", _value("double_value", 0.0)),
        ("dneg0", _value("double_value", -0.0)),
        ("dint", _value("double_value", 1e15)),
        ("dnan", _value("double_value", math.nan)),
        ("dinf", _value("double_value", math.inf)),
        ("dninf", _value("double_value", -math.inf)),
        ("bytes", _value("bytes_value", bytes(range(256)))),
        ("bytes-empty", _value("bytes_value", b"")),
        ("strindex", _value("string_value_strindex", 42)),
        ("unset", _value("empty", None)),
    ]
    add("every scalar kind", scalars)
    add("no attributes", [])
    add("empty names and missing fields", [("", _value("string_value", ""))], name="", kind=0)
    add("1 MB attribute value", [("big", _value("string_value", "x" * 1_000_000 + "é"))])
    add("zero event timestamp", [], events=[{"time_unix_nano": 0, "name": ""}])
    add("unknown kind and status code", [], kind=9, status={"code": 7, "message": "odd"})
    add("end before start", [], end_time_unix_nano=NOW - 2 * 10**9)
    add("events and links", [("a", _value("int_value", 1))],
        events=[{"time_unix_nano": NOW - 5, "name": "exception",
                 "attributes": [KeyValue(key="exception.type", value=_value("string_value", "E"))]}],
        links=[{"trace_id": os.urandom(16), "span_id": os.urandom(8), "trace_state": "k=v",
                "attributes": [KeyValue(key="l", value=_value("bool_value", True))]}])  # fmt: skip
    flat_array = [_value("string_value", "a\"b\\c/d é"), _value("int_value", -3), _value("bool_value", False),
                  _value("double_value", 2.0), _value("double_value", 0.25), _value("double_value", math.nan),
                  _value("bytes_value", b"\x00\xff"), _value("empty", None), _value("string_value_strindex", 3)]  # fmt: skip
    add("array of scalars", [("arr", _value("array", flat_array)), ("empty-arr", _value("array", []))])
    add("kvlist of scalars", [("kv", _value("kvlist", [("a", flat_array[0]), ("b", flat_array[3]), ("", flat_array[7])])),
                              ("empty-kv", _value("kvlist", []))])  # fmt: skip
    for depth in range(2, 6):
        add(f"nested {depth} deep", [("deep", _nested(depth, _value("string_value", "leaf")))], python_path=True)
    add("repeated attribute key", [("k", _value("int_value", 1)), ("k", _value("int_value", 2))], python_path=True)
    add("repeated key in a kvlist", [("kv", _value("kvlist", [("a", flat_array[1]), ("a", flat_array[2])]))],
        python_path=True)  # fmt: skip
    add("control character in a nested string", [("arr", _value("array", [_value("string_value", "a\nb")]))],
        python_path=True)  # fmt: skip
    # Doubles: edge values and random bit patterns, one request each for those SQL leaves to Python.
    edges = [1e-4, 9.99e-5, 1e16, 1e21, 2.0**60, 2.0**63, 1e-7, 5e-324, 1.7976931348623157e308, 123.456, 0.1 + 0.2]
    doubles = edges + [_double(rnd.getrandbits(64)) for _ in range(300)]
    doubles += [rnd.uniform(-1e6, 1e6) for _ in range(300)] + [10 ** rnd.uniform(-6, 17) for _ in range(300)]
    exact = [x for x in doubles if sql_formats_double(x)]
    add("doubles SQL formats", [(f"d{i}", _value("double_value", x)) for i, x in enumerate(exact)])
    in_json = [x for x in doubles if sql_formats_double(x, in_json=True)]
    add("doubles SQL formats, in an array", [("arr", _value("array", [_value("double_value", x) for x in in_json]))])
    add("double 1e16 in an array", [("arr", _value("array", [_value("double_value", 1e16)]))], python_path=True)
    for x in [x for x in doubles if not sql_formats_double(x)][:20]:
        add(f"double {x!r}", [("d", _value("double_value", x))], python_path=True)
    return out


def scenario_requests() -> list[Entry]:
    return [("traces", s.name, to_request(s.spans, os.urandom(16).hex(), NOW - 60 * 10**9), False) for s in SCENARIOS]


def benchmark_requests() -> list[Entry]:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    return [("traces", f"bench {seed}", ExportTraceServiceRequest.FromString(make_request(500, seed)), False)
            for seed in range(3)] + [
            ("logs", f"bench logs {seed}", ExportLogsServiceRequest.FromString(make_logs_request(500, seed)), False)
            for seed in range(3)] + [
            ("metrics", f"bench metrics {seed}",
             ExportMetricsServiceRequest.FromString(make_metrics_request(500, seed)), False)
            for seed in range(3)]  # fmt: skip


def demo_requests() -> list[Entry]:
    """The demo shop's traces and logs during its ledger timeout, as recorded (tests/demo/recorded.py)."""
    from tests.demo import recorded

    spans, logs = recorded.replay(recorded.load(), "", NOW)
    return [("traces", "demo ledger_timeout spans", spans, False), ("logs", "demo ledger_timeout logs", logs, False)]


def sdk_requests() -> list[Entry]:
    """Spans made by the real OpenTelemetry SDK, encoded by its OTLP exporter's encoder."""
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, SpanKind, Status, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "sdk-corpus", "service.version": "2.4.0"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("corpus.tracer", "1.0")
    with tracer.start_as_current_span("GET /checkout", kind=SpanKind.SERVER) as root:
        root.set_attributes({"http.request.method": "GET", "http.response.status_code": 500, "ratio": 0.75,
                             "flag": True, "tags": ["a", "b"], "counts": [1, 2, 3], "weights": [0.5, 1.0]})  # fmt: skip
        with tracer.start_as_current_span("SELECT ledger", kind=SpanKind.CLIENT,
                                          links=[Link(root.get_span_context(), {"why": "retry"})]) as child:  # fmt: skip
            child.set_attribute("db.system", "postgresql")
            try:
                raise TimeoutError("ledger timed out")
            except TimeoutError as exc:
                child.record_exception(exc)
                child.set_status(Status(StatusCode.ERROR, "timeout"))
        root.add_event("retrying", {"attempt": 2})
    provider.shutdown()
    return [("traces", "opentelemetry-sdk spans", encode_spans(exporter.get_finished_spans()), False),
            ("logs", "opentelemetry-sdk logs", _sdk_logs(), False),
            ("metrics", "opentelemetry-sdk metrics", _sdk_metrics(), False)]  # fmt: skip


def node_sdk_requests() -> list[Entry]:
    """Spans, logs and metrics made by the OpenTelemetry JavaScript SDK, as its OTLP exporters sent
    them (tests/storage/node_corpus.py); none where Node.js or the SDK is not installed."""
    from tests.storage import node_corpus

    names = {"traces": "spans", "logs": "logs", "metrics": "metrics"}
    return [(signal, f"opentelemetry-js {names[signal]} {n}", request, False)
            for n, (signal, request) in enumerate(node_corpus.requests())]  # fmt: skip


def _sdk_logs() -> Message:
    """Log records emitted through the real OpenTelemetry SDK, encoded by its exporter's encoder."""
    from opentelemetry._logs import LogRecord, SeverityNumber
    from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
    from opentelemetry.sdk.resources import Resource

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "sdk-corpus"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("corpus.sdk", "1.0")
    logger.emit(
        LogRecord(
            timestamp=NOW - 5,
            body="cart 42 is large",
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            attributes={"cart.items": 42, "ratio": 0.5, "tags": ["a", "b"]},
        )
    )
    logger.emit(LogRecord(timestamp=NOW - 4, body={"event": "booking failed", "order": 7},
                          severity_number=SeverityNumber.ERROR, severity_text="ERROR",
                          attributes={"exception.type": "KeyError", "exception.message": "'ledger'"}))  # fmt: skip
    provider.shutdown()
    return encode_logs(exporter.get_finished_logs())


def generated_logs(seed: int = 11) -> list[Entry]:
    """Log records with every body kind and the fields' corners."""
    rnd = random.Random(seed)
    out: list[Entry] = []

    def add(label: str, body: AnyValue | None, python_path: bool = False, **fields) -> None:
        request = ExportLogsServiceRequest()
        rl = request.resource_logs.add(schema_url="https://opentelemetry.io/schemas/1.26.0")
        rl.resource.attributes.add(key="service.name", value=AnyValue(string_value="corpus-logs"))
        sl = rl.scope_logs.add(schema_url="scope-schema")
        sl.scope.name, sl.scope.version = "corpus", "1.0"
        sl.scope.attributes.add(key="scope.attr", value=AnyValue(int_value=3))
        trace_id, span_id = _ids(rnd)
        record = sl.log_records.add(**({"time_unix_nano": NOW - 10**9, "observed_time_unix_nano": NOW,
                                        "trace_id": trace_id, "span_id": span_id, "severity_number": 9,
                                        "severity_text": "INFO"} | fields))  # fmt: skip
        if body is not None:
            record.body.CopyFrom(body)
        record.attributes.add(key="exception.message", value=AnyValue(string_value="database is locked"))
        out.append(("logs", label, request, python_path))

    add("string body", _value("string_value", "order placed ✓"))
    add("no body", None)
    add("int body", _value("int_value", -7))
    add("double body", _value("double_value", 0.125))
    add("bool body", _value("bool_value", False))
    add("bytes body", _value("bytes_value", b"\x00\x01"))
    add("array body", _value("array", [_value("string_value", "a"), _value("int_value", 1)]))
    add(
        "kvlist body",
        _value("kvlist", [("event", _value("string_value", "login")), ("ok", _value("bool_value", True))]),
    )
    add("nested body", _nested(3, _value("string_value", "x")), python_path=True)
    add("no time: the observed time", _value("string_value", "late"), time_unix_nano=0)
    add("no trace context", _value("string_value", "boot"), trace_id=b"", span_id=b"")
    add("severity out of range", _value("string_value", "odd"), severity_number=300, severity_text="")
    add("flags above a byte", _value("string_value", "flags"), flags=0x1FF)
    return out


def _sdk_metrics() -> Message:
    """Points recorded through the real OpenTelemetry SDK (every instrument kind), encoded by its
    exporter's encoder."""
    from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
    from opentelemetry.metrics import Observation
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource

    reader = InMemoryMetricReader()
    provider = MeterProvider(resource=Resource.create({"service.name": "sdk-corpus"}), metric_readers=[reader],
                             views=[View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())])  # fmt: skip
    meter = provider.get_meter("corpus.meter", "1.0")
    meter.create_counter("orders", unit="1").add(3, {"route": "/checkout"})
    meter.create_up_down_counter("queue.depth").add(-2)
    meter.create_histogram("latency", unit="ms").record(12.5, {"route": "/pay"})
    meter.create_histogram("latency.exp", unit="ms").record(3.25)
    meter.create_gauge("temperature").set(21.5, {"room": "a"})
    meter.create_observable_gauge("cpu", callbacks=[lambda _options: [Observation(0.75)]])
    data = reader.get_metrics_data()
    provider.shutdown()
    return encode_metrics(data)


def generated_metrics(seed: int = 13) -> list[Entry]:
    """Every point type with the fields' corners."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    rnd = random.Random(seed)
    out: list[Entry] = []
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add(schema_url="res-schema")
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value="corpus-metrics"))
    sm = rm.scope_metrics.add(schema_url="scope-schema")
    sm.scope.name, sm.scope.version, sm.scope.dropped_attributes_count = "corpus", "1.0", 2
    sm.scope.attributes.add(key="scope.attr", value=AnyValue(bool_value=True))
    start, now = NOW - 60 * 10**9, NOW - 10**9
    gauge = sm.metrics.add(name="g", description="a gauge", unit="1")
    gauge.gauge.data_points.add(as_double=1.5, start_time_unix_nano=start, time_unix_nano=now, flags=1)
    gauge.gauge.data_points.add(as_int=-42, time_unix_nano=now)
    gauge.gauge.data_points.add(time_unix_nano=now)  # no value at all
    point = gauge.gauge.data_points.add(as_double=2.0, time_unix_nano=now)
    trace_id, span_id = _ids(rnd)
    point.exemplars.add(as_int=7, time_unix_nano=now - 5, trace_id=trace_id, span_id=span_id)
    point.exemplars.add(as_double=0.5, time_unix_nano=now - 6).filtered_attributes.add(
        key="user", value=AnyValue(string_value="u1"))  # fmt: skip
    point.attributes.add(key="tags", value=_value("array", [_value("string_value", "a"), _value("int_value", 2)]))
    total = sm.metrics.add(name="s", unit="By")
    total.sum.is_monotonic, total.sum.aggregation_temporality = True, 1
    total.sum.data_points.add(as_int=10**12, start_time_unix_nano=start, time_unix_nano=now)
    histogram = sm.metrics.add(name="h")
    histogram.histogram.aggregation_temporality = 2
    histogram.histogram.data_points.add(count=6, sum=21.0, bucket_counts=[1, 2, 3], explicit_bounds=[1.0, 10.0],
                                        min=0.5, max=9.0, time_unix_nano=now, flags=1)  # fmt: skip
    histogram.histogram.data_points.add(count=0, time_unix_nano=now)  # no sum, min or max
    exp = sm.metrics.add(name="e")
    point = exp.exponential_histogram.data_points.add(count=5, sum=-3.5, scale=-3, zero_count=1, time_unix_nano=now,
                                                      min=-2.0, max=1.0)  # fmt: skip
    point.positive.offset, point.positive.bucket_counts[:] = -2, [1, 1]
    point.negative.offset, point.negative.bucket_counts[:] = 5, [2]
    summary = sm.metrics.add(name="q")
    point = summary.summary.data_points.add(count=4, sum=10.0, time_unix_nano=now)
    point.quantile_values.add(quantile=0.5, value=2.0)
    point.quantile_values.add(quantile=1.0, value=4.0)
    sm.metrics.add(name="no data")  # skipped, as in Python
    out.append(("metrics", "every point type", request, False))

    deep = ExportMetricsServiceRequest()
    deep.CopyFrom(request)
    attrs = deep.resource_metrics[0].scope_metrics[0].metrics[0].gauge.data_points[0].attributes
    attrs.add(key="deep", value=_nested(2, _value("int_value", 1)))
    out.append(("metrics", "nested attribute", deep, True))
    return out


def corpus() -> list[Entry]:
    return (scenario_requests() + benchmark_requests() + demo_requests() + sdk_requests() + node_sdk_requests() + generated()
            + generated_logs() + generated_metrics())  # fmt: skip
