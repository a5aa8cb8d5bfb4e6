"""ExportTraceServiceRequest -> rows of `otel_traces`."""

from __future__ import annotations

from storage.batch import ColumnBatch
from storage.model.attributes import (
    MAX_NANOS,
    Rejections,
    TimeWindow,
    attributes_to_map,
    span_id_error,
    time_error,
    trace_id_error,
    window_error,
)

_ZERO_TRACE, _ZERO_SPAN = bytes(16), bytes(8)

SPAN_KINDS = ("Unspecified", "Internal", "Server", "Client", "Producer", "Consumer")
STATUS_CODES = ("Unset", "Ok", "Error")

TRACE_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "ParentSpanId",
    "TraceState",
    "SpanName",
    "SpanKind",
    "ServiceName",
    "ResourceAttributes",
    "ScopeName",
    "ScopeVersion",
    "SpanAttributes",
    "Duration",
    "StatusCode",
    "StatusMessage",
    "Events.Timestamp",
    "Events.Name",
    "Events.Attributes",
    "Links.TraceId",
    "Links.SpanId",
    "Links.TraceState",
    "Links.Attributes",
)


def _span_error(span, window: TimeWindow | None) -> str | None:
    error = (
        trace_id_error(span.trace_id, True)
        or span_id_error(span.span_id, True)
        or span_id_error(span.parent_span_id, False)
        or time_error(span.start_time_unix_nano, span.end_time_unix_nano, *(e.time_unix_nano for e in span.events))
        or window_error(window, span.start_time_unix_nano)
    )
    if error:
        return error
    for link in span.links:
        error = trace_id_error(link.trace_id, True) or span_id_error(link.span_id, True)
        if error:
            return "link: " + error
    return None


def spans_to_batch(request, window: TimeWindow | None = None) -> tuple[ColumnBatch, Rejections]:
    """Convert every valid span; spans with invalid ids are counted in the returned Rejections."""
    columns: dict[str, list] = {name: [] for name in TRACE_COLUMNS}
    (
        ts,
        trace_ids,
        span_ids,
        parent_ids,
        states,
        names,
        kinds,
        services,
        res_attrs,
        scope_names,
        scope_versions,
        span_attrs,
        durations,
        status_codes,
        status_messages,
        ev_ts,
        ev_names,
        ev_attrs,
        ln_trace_ids,
        ln_span_ids,
        ln_states,
        ln_attrs,
    ) = columns.values()
    rejected = Rejections()
    for resource_spans in request.resource_spans:
        resource_map = attributes_to_map(resource_spans.resource.attributes)
        service = resource_map.get("service.name", "")
        for scope_spans in resource_spans.scope_spans:
            scope_name = scope_spans.scope.name
            scope_version = scope_spans.scope.version
            for span in scope_spans.spans:
                error = _span_error(span, window)
                if error:
                    rejected.add(error)
                    continue
                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                ts.append(start)
                trace_ids.append(span.trace_id.hex())
                span_ids.append(span.span_id.hex())
                parent_ids.append(span.parent_span_id.hex())
                states.append(span.trace_state)
                names.append(span.name)
                kind = span.kind
                kinds.append(SPAN_KINDS[kind] if 0 <= kind < 6 else "Unspecified")
                services.append(service)
                res_attrs.append(resource_map)
                scope_names.append(scope_name)
                scope_versions.append(scope_version)
                span_attrs.append(attributes_to_map(span.attributes))
                durations.append(end - start if end > start else 0)
                code = span.status.code
                status_codes.append(STATUS_CODES[code] if 0 <= code < 3 else "Unset")
                status_messages.append(span.status.message)
                events = span.events
                if events:
                    ev_ts.append([e.time_unix_nano for e in events])
                    ev_names.append([e.name for e in events])
                    ev_attrs.append([attributes_to_map(e.attributes) for e in events])
                else:
                    ev_ts.append([])
                    ev_names.append([])
                    ev_attrs.append([])
                links = span.links
                if links:
                    ln_trace_ids.append([link.trace_id.hex() for link in links])
                    ln_span_ids.append([link.span_id.hex() for link in links])
                    ln_states.append([link.trace_state for link in links])
                    ln_attrs.append([attributes_to_map(link.attributes) for link in links])
                else:
                    ln_trace_ids.append([])
                    ln_span_ids.append([])
                    ln_states.append([])
                    ln_attrs.append([])
    return ColumnBatch("otel_traces", columns), rejected


def drop_invalid_spans(request, window: TimeWindow | None = None) -> tuple[int, Rejections]:
    """Remove from `request` (in place) the spans spans_to_batch would refuse; returns how many spans
    are left and the refusals. What ClickHouse converts itself (migration 014) is checked here first.

    This runs for every span the collector takes, so the common case is one tight test (well-formed
    ids, start time in the window, no events or links); only a span that fails it goes through the
    full rule (`_span_error`), which decides."""
    earliest, latest = (window.earliest_ns, window.latest_ns) if window is not None else (0, MAX_NANOS)
    kept, rejected = 0, Rejections()
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            spans = scope_spans.spans
            bad = []
            for i, span in enumerate(spans):
                trace_id, span_id, parent = span.trace_id, span.span_id, span.parent_span_id
                if (
                    len(trace_id) == 16 and trace_id != _ZERO_TRACE and len(span_id) == 8 and span_id != _ZERO_SPAN
                    and (not parent or (len(parent) == 8 and parent != _ZERO_SPAN))
                    and earliest <= span.start_time_unix_nano <= latest and span.end_time_unix_nano <= MAX_NANOS
                    and not span.events and not span.links
                ):  # fmt: skip
                    continue
                error = _span_error(span, window)
                if error:
                    rejected.add(error)
                    bad.append(i)
            for i in reversed(bad):
                del spans[i]
            kept += len(spans)
    return kept, rejected
