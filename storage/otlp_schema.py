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
# Each level makes the landing view's expression (analysed at every insert) several times larger:
# ~0.1 s per insert at 0, ~0.3 s at 1, ~0.5 s at 2, ~1.4 s at 3 (docs/benchmarks.md).
ANY_VALUE_DEPTH = 1

REQUEST_CLASSES: dict[str, type[Message]] = {
    "traces": trace_service_pb2.ExportTraceServiceRequest,
    "logs": logs_service_pb2.ExportLogsServiceRequest,
    "metrics": metrics_service_pb2.ExportMetricsServiceRequest,
}
REQUESTS: dict[str, Descriptor] = {signal: cls.DESCRIPTOR for signal, cls in REQUEST_CLASSES.items()}

# The Null tables ClickHouse decodes each signal's requests into (migration 014).
LANDING_TABLES = {"traces": "otlp_traces_in"}


def delimited(body: bytes) -> bytes:
    """One request body as a length-delimited message (varint length, then the body)."""
    return _VarintBytes(len(body)) + body


def undelimited(data: bytes) -> bytes:
    """The body of one length-delimited message."""
    length, at = _DecodeVarint(data, 0)
    return data[at : at + length]


def insert_settings(table: str) -> dict[str, str | int]:
    """The settings an INSERT of request bodies into landing `table` needs: the schema, inline."""
    signal = next(name for name, landing in LANDING_TABLES.items() if landing == table)
    return {
        "format_schema_source": "string",
        "format_schema": schema_text(signal),
        "format_schema_message_name": message_name(signal),
        "input_format_protobuf_oneof_presence": 1,
    }


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
        line = f"{label}{type_name} {field.name} = {field.number};"
        if oneof is not None and len(oneof.fields) > 1:
            oneofs.setdefault(oneof.name, []).append(line)
        else:
            lines.append(line)
    for oneof_name, members in oneofs.items():
        # Renamed `<name>_kind`: AnyValue's oneof `value` would clash with KeyValue's field `value`.
        lines.append(f"oneof {oneof_name}_kind {{ " + " ".join(members) + " }")
    out[name] = f"message {name} {{\n" + "\n".join("  " + line for line in lines) + "\n}\n"
    return name


# -- the landing tables' column types (migration 014 fills them in) ---------------------------------


def _any_value_type(depth: int) -> str:
    kinds = ", ".join(
        f"'{name}' = {number}"
        for name, number in (("none", 0), ("string_value", 1), ("bool_value", 2), ("int_value", 3),
                             ("double_value", 4), ("array_value", 5), ("kvlist_value", 6), ("bytes_value", 7),
                             ("string_value_strindex", 8))
    )  # fmt: skip
    scalars = (
        f"value_kind Enum8({kinds}), string_value String, bool_value Bool, int_value Int64, "
        "double_value Float64, bytes_value String, string_value_strindex Int32"
    )
    if depth >= ANY_VALUE_DEPTH:
        return f"Tuple({scalars}, array_value String, kvlist_value String)"
    inner = _any_value_type(depth + 1)
    return (
        f"Tuple({scalars}, array_value Tuple(values Array({inner})), "
        f"kvlist_value Tuple(values Array(Tuple(key String, value {inner}))))"
    )


def attributes_type() -> str:
    """A repeated KeyValue, as ClickHouse reads it with the schema above."""
    return f"Array(Tuple(key String, value {_any_value_type(0)}))"


def landing_types() -> dict[str, str]:
    """The placeholders of migration 014: `{attributes}` (a repeated KeyValue)."""
    return {"attributes": attributes_type()}
