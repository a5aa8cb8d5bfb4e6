"""Rows of `otel_traces` / `otel_logs` back to domain objects (the other direction of storage.model)."""

from __future__ import annotations

from analysis.types import Span, SpanEvent

# The SELECT list every span query uses, in the order span_from_row reads it.
SPAN_COLUMNS = """TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration, StatusCode, StatusMessage, SpanAttributes,
    arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventNs, Events.Name, Events.Attributes,
    Links.TraceId, Links.SpanId, ScopeName"""


def span_from_row(row) -> Span:
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
        attrs,
        event_ns,
        event_names,
        event_attrs,
        link_traces,
        link_spans,
        scope,
    ) = row
    events = tuple(SpanEvent(t, n, a) for t, n, a in zip(event_ns, event_names, event_attrs, strict=False))
    links = tuple(zip(link_traces, link_spans, strict=False))
    return Span(
        trace_id, span_id, parent, name, kind, service, start, duration, status, message, attrs, events, links, scope
    )


# For failure analysis: the derived columns (migrations 004, 007) instead of the attribute maps.
ANALYSIS_COLUMNS = """TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    toUnixTimestamp64Nano(Timestamp) AS StartNs, Duration, StatusCode, StatusMessage,
    arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp) AS EventNs, Events.Name, Events.Attributes,
    Links.TraceId, Links.SpanId, HopscopeFailed, HopscopePeer, HopscopeHttpStatus"""


def analysis_span_from_row(row) -> Span:
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
        failed,
        peer,
        http_status,
    ) = row
    events = tuple(SpanEvent(t, n, a) for t, n, a in zip(event_ns, event_names, event_attrs, strict=False))
    links = tuple(zip(link_traces, link_spans, strict=False))
    return Span(
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
        {},
        events,
        links,
        failed=bool(failed),
        peer=peer,
        http_status=http_status,
    )
