"""The OTLP protobuf schema ClickHouse decodes requests with, made from the installed
opentelemetry-proto package (Apache-2.0; its message descriptors, not copied text).

An inline schema (`format_schema_source = 'string'`) cannot import other files and ClickHouse has no
recursive column types, so the schema is one self-contained file in which:
- every message reachable from the export request is defined at top level under a flat name;
- enums are their wire type (int32); field numbers and wire types are the originals, so every OTLP
  body parses unchanged;
- `AnyValue` is unrolled `ANY_VALUE_DEPTH` levels deep (`AnyValue0` … `AnyValueN`): the deepest level
  keeps arrays and key-value lists as raw `bytes`, which says "nested deeper than SQL converts" (those
  records take the Python conversion, storage/ingest.py);

The write-ahead log keeps each request body length-delimited (`delimited`), so the bodies of many
requests concatenated are one input in ClickHouse's `Protobuf` format: one landing-table row each.
"""

from __future__ import annotations

from functools import cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.internal.decoder import _DecodeVarint  # type: ignore[attr-defined]
from google.protobuf.internal.encoder import _VarintBytes  # type: ignore[attr-defined]
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

# How deep SQL converts AnyValues: 1 = arrays and key-value lists of scalars inside an attribute.
# Each level makes the landing view's expression (analysed at every insert) larger: the traces
# view cost ~0.1 s per insert at depth 0, ~0.3 s at 1, ~0.5 s at 2, ~1.4 s at 3 when measured.
ANY_VALUE_DEPTH = 1

REQUEST_CLASSES: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
REQUESTS: dict[str, Descriptor] = {signal: cls.DESCRIPTOR for signal, cls in REQUEST_CLASSES.items()}

# The Null tables ClickHouse decodes each signal's requests into (migration 014).
LANDING_TABLES = {"traces": "otlp_traces_in", "logs": "otlp_logs_in", "metrics": "otlp_metrics_in"}
SIGNAL_OF_LANDING = {table: signal for signal, table in LANDING_TABLES.items()}

# An insert into a landing table costs a fixed ~0.1 s (traces, logs; ~0.15 s before migration 030
# halved the views' stored queries) or ~0.23 s (metrics: the conversion and the five views sorting
# its rows into their tables, migration 023; ~0.75 s with the five converting views of 016) whatever
# it holds; Python converts ~30 µs a record, SQL ~9 µs.
# Below these many records in one insert, the inserter converts in Python (docs/benchmarks.md).
PYTHON_BELOW_RECORDS = {"otlp_traces_in": 5_000, "otlp_logs_in": 5_000, "otlp_metrics_in": 15_000}


def delimited(body: bytes) -> bytes:
    """One request body as a length-delimited message (varint length, then the body)."""
    return _VarintBytes(len(body)) + body


def undelimited(data: bytes) -> bytes:
    """The body of one length-delimited message."""
    length, at = _DecodeVarint(data, 0)
    return data[at : at + length]


def insert_settings(table: str) -> dict[str, str | int]:
    """The settings an INSERT of request bodies into landing `table` needs: the schema, inline, and
    how many rows each step of the view's conversion works on at a time."""
    signal = SIGNAL_OF_LANDING[table]
    return {
        "format_schema_source": "string",
        "format_schema": schema_text(signal),
        "format_schema_message_name": message_name(signal),
        "input_format_protobuf_oneof_presence": 1,
        "max_block_size": METRIC_ROWS_PER_BLOCK if signal == "metrics" else RECORDS_PER_BLOCK,
    }


# Traces and logs: the view's ARRAY JOIN emits the records of whole requests, about this many at a
# time (migration 029: one step, never splitting a request), and every chunk pays a fixed cost for
# the view's large expression (~2.5 ms of spans). A bound in bodies instead (~8 MiB of them, until
# 2026-11-24) made each chunk a single scope's records: spans of 500-span requests cost ~39.5 µs a
# span instead of ~14.5. Views that stepped through resources and scopes (027) needed a bound of
# their own for resources and converted requests of a few records a resource 16 resources at a time
# (docs/benchmarks.md).
RECORDS_PER_BLOCK = 8192

# Metrics: the conversion (migration 023) walks resources, scopes, metrics and points with ARRAY
# JOINs, and every chunk of them pays a fixed cost (~13 ms through the view's steps). The view's
# first step takes whole requests ~16,000 points at a time (its own bound, migration 028); this
# bounds the steps after it, so their points are converted ~8,000 at a time. At 512 rows for every
# step (until 2026-11-25) an SDK's requests (one resource, dozens of metrics of a few points) went
# ~500 points a chunk, at 1.6-1.8 times the CPU a point; a bound in resources or metrics instead
# built every point of an INSERT of dense metrics at once (the collector's peak RSS 1.22-1.25 GiB;
# docs/benchmarks.md). Far smaller is ruinous (with 016's views, 20,000 points took 11 s at 2 rows
# instead of 0.8).
METRIC_ROWS_PER_BLOCK = 8192


_SCALARS = {
    FieldDescriptor.TYPE_DOUBLE: "double",
    FieldDescriptor.TYPE_FLOAT: "float",
    FieldDescriptor.TYPE_INT64: "int64",
    FieldDescriptor.TYPE_UINT64: "uint64",
    FieldDescriptor.TYPE_INT32: "int32",
    FieldDescriptor.TYPE_FIXED64: "fixed64",
    FieldDescriptor.TYPE_FIXED32: "fixed32",
    FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_STRING: "string",
    FieldDescriptor.TYPE_BYTES: "bytes",
    FieldDescriptor.TYPE_UINT32: "uint32",
    FieldDescriptor.TYPE_ENUM: "int32",
    FieldDescriptor.TYPE_SFIXED32: "sfixed32",
    FieldDescriptor.TYPE_SFIXED64: "sfixed64",
    FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SINT64: "sint64",
}

_VALUE_FAMILY = {"AnyValue", "ArrayValue", "KeyValueList", "KeyValue"}
# Attribute values appear in every landing table many times over, and ClickHouse spends the time
# to analyse a landing view (at every insert) on its column types' names: the value messages'
# fields take one-letter names in the schema and the columns (the wire knows only the numbers).
SHORT_NAMES = {
    "AnyValue": {"string_value": "s", "bool_value": "b", "int_value": "i", "double_value": "d", "array_value": "a",
                 "kvlist_value": "l", "bytes_value": "y", "string_value_strindex": "x", "value": "k"},
    "ArrayValue": {"values": "v"},
    "KeyValueList": {"values": "v"},
    "KeyValue": {"key": "k", "value": "v", "key_strindex": "ks"},
}  # fmt: skip


def message_name(signal: str) -> str:
    return REQUESTS[signal].name


@cache
def schema_text(signal: str) -> str:
    """The self-contained proto3 schema for `signal`'s export request."""
    out: dict[str, str] = {}
    _emit(REQUESTS[signal], 0, out)
    return 'syntax = "proto3";\n\n' + "\n".join(out.values())


def _name(descriptor: Descriptor, depth: int) -> str:
    if descriptor.name in _VALUE_FAMILY:
        return f"{descriptor.name}{depth}"
    if descriptor.containing_type is not None:  # Span.Event -> Span_Event
        return f"{_name(descriptor.containing_type, depth)}_{descriptor.name}"
    return descriptor.name


def _emit(descriptor: Descriptor, depth: int, out: dict[str, str]) -> str:
    name = _name(descriptor, depth)
    if name in out:
        return name
    out[name] = ""  # reserve: a message may (indirectly) refer to itself
    lines = []
    oneofs: dict[str, list[str]] = {}
    for field in descriptor.fields:
        label = "repeated " if field.is_repeated else ""
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            child = field.message_type
            child_depth = depth + 1 if descriptor.name in ("ArrayValue", "KeyValueList") else depth
            if descriptor.name == "AnyValue" and depth >= ANY_VALUE_DEPTH:
                type_name = "bytes"  # deeper than SQL converts: kept raw
            else:
                type_name = _emit(child, child_depth, out)
        else:
            type_name = _SCALARS[field.type]
        oneof = field.containing_oneof
        if oneof is not None and len(oneof.fields) == 1:  # proto3 `optional`: keeps its presence
            label = "optional "
        names = SHORT_NAMES.get(descriptor.name, {}) if descriptor.name in _VALUE_FAMILY else {}
        line = f"{label}{type_name} {names.get(field.name, field.name)} = {field.number};"
        if oneof is not None and len(oneof.fields) > 1:
            oneofs.setdefault(oneof.name, []).append(line)
        else:
            lines.append(line)
    for oneof_name, members in oneofs.items():
        # A oneof's column says which member came (input_format_protobuf_oneof_presence): named
        # `<name>_kind` (AnyValue's: `k`), apart from the fields.
        label = "k" if descriptor.name == "AnyValue" else f"{oneof_name}_kind"
        lines.append(f"oneof {label} {{ " + " ".join(members) + " }")
    out[name] = f"message {name} {{\n" + "\n".join("  " + line for line in lines) + "\n}\n"
    return name


# -- the landing tables' column types (migration 014 fills them in) ---------------------------------


def _any_value_type(depth: int) -> str:
    """One AnyValue `depth` levels inside an attribute, with SHORT_NAMES: k (which kind), s, b, i, d,
    y (bytes), x (string index), a (array: v = values), l (key-value list: v = KeyValues k, v)."""
    kinds = "Enum8('n' = 0, 's' = 1, 'b' = 2, 'i' = 3, 'd' = 4, 'a' = 5, 'l' = 6, 'y' = 7, 'x' = 8)"
    scalars = f"k {kinds}, s String, b Bool, i Int64, d Float64, y String, x Int32"
    if depth >= ANY_VALUE_DEPTH:
        return f"Tuple({scalars}, a String, l String)"
    inner = _any_value_type(depth + 1)
    return f"Tuple({scalars}, a Tuple(v Array({inner})), l Tuple(v Array(Tuple(k String, v {inner}))))"


def attributes_type() -> str:
    """A repeated KeyValue, as ClickHouse reads it with the schema above."""
    return f"Array(Tuple(k String, v {_any_value_type(0)}))"


def landing_types() -> dict[str, str]:
    """The placeholders of the landing tables' migrations: `{attributes}` (a repeated KeyValue) and
    `{any_value}` (one AnyValue)."""
    return {"attributes": attributes_type(), "any_value": _any_value_type(0)}
