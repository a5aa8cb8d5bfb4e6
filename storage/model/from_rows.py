"""Rows of `otel_traces` back to domain objects (the other direction of storage.model)."""

from __future__ import annotations

from core.types import Span, SpanEvent

# Both SELECT lists start with the same columns, read by _common.
_HEAD = """TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration, StatusCode, StatusMessage,
    arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventNs, Events.Name, Events.Attributes,
    Links.TraceId, Links.SpanId, HopscopeVersion"""
_HEAD_WIDTH = 16

# Everything a span shows (trace detail).
SPAN_COLUMNS = _HEAD + ", SpanAttributes, ScopeName"

# For failure analysis: the derived columns (migrations 004, 007, 017, 018) instead of the attribute maps.
ANALYSIS_COLUMNS = _HEAD + ", HopscopeFailed, HopscopePeer, HopscopeHttpStatus, HopscopeGrpcStatus, HopscopeEndpoints"


def _common(row) -> dict:
    (
        trace_id,
        span_id,
        parent,
        name,
        kind,
        service,
        start,
        duration,
        status,
        message,
        event_ns,
        event_names,
        event_attrs,
        link_traces,
        link_spans,
        version,
    ) = row[:_HEAD_WIDTH]
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": name,
        "kind": kind,
        "service": service,
        "start_ns": start,
        "duration_ns": duration,
        "status_code": status,
        "status_message": message,
        "events": tuple(SpanEvent(t, n, a) for t, n, a in zip(event_ns, event_names, event_attrs, strict=False)),
        "links": tuple(zip(link_traces, link_spans, strict=False)),
        "version": version,
    }


def span_from_row(row) -> Span:
    attributes, scope = row[_HEAD_WIDTH:]
    return Span(**_common(row), attributes=attributes, scope=scope)


def analysis_span_from_row(row) -> Span:
    failed, peer, http_status, grpc_status, endpoints = row[_HEAD_WIDTH:]
    return Span(
        **_common(row),
        failed=bool(failed),
        peer=peer,
        http_status=http_status,
        grpc_status=grpc_status,
        endpoints=tuple(endpoints),
    )
