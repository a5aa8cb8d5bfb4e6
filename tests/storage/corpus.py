"""OTLP requests for the differential tests of ClickHouse's own conversion (migration 014) against
the Python one (storage.model): the scenario library, the benchmark's traffic, spans from the real
OpenTelemetry SDK, and generated requests covering every AnyValue kind and the awkward corners.

Each corpus entry is (name, request, python_path): `python_path` says the request holds something
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

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from bench.otlp_load import make_request
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


def generated(seed: int = 7) -> list[tuple[str, ExportTraceServiceRequest, bool]]:
    rnd = random.Random(seed)
    out: list[tuple[str, ExportTraceServiceRequest, bool]] = []

    def add(label: str, attrs: list[tuple[str, AnyValue]], python_path: bool = False, **span_fields) -> None:
        out.append((label, _request(attrs, rnd, **span_fields), python_path))

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


def scenario_requests() -> list[tuple[str, ExportTraceServiceRequest, bool]]:
    return [(s.name, to_request(s.spans, os.urandom(16).hex(), NOW - 60 * 10**9), False) for s in SCENARIOS]


def benchmark_requests() -> list[tuple[str, ExportTraceServiceRequest, bool]]:
    return [(f"bench {seed}", ExportTraceServiceRequest.FromString(make_request(500, seed)), False)
            for seed in range(3)]  # fmt: skip


def sdk_requests() -> list[tuple[str, ExportTraceServiceRequest, bool]]:
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
    return [("opentelemetry-sdk spans", encode_spans(exporter.get_finished_spans()), False)]


def corpus() -> list[tuple[str, ExportTraceServiceRequest, bool]]:
    return scenario_requests() + benchmark_requests() + sdk_requests() + generated()
