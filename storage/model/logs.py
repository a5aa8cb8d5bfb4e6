"""ExportLogsServiceRequest -> rows of `otel_logs`."""

from __future__ import annotations

from storage.batch import ColumnBatch
from storage.model.attributes import (
    MAX_NANOS,
    Rejections,
    TimeWindow,
    any_value_to_str,
    attributes_to_map,
    span_id_error,
    time_error,
    trace_id_error,
    window_error,
)

_ZERO_TRACE, _ZERO_SPAN = bytes(16), bytes(8)

LOG_COLUMNS = (
    "Timestamp",
    "TraceId",
    "SpanId",
    "TraceFlags",
    "SeverityText",
    "SeverityNumber",
    "ServiceName",
    "Body",
    "ResourceSchemaUrl",
    "ResourceAttributes",
    "ScopeSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "LogAttributes",
)


def logs_to_batch(request, window: TimeWindow | None = None) -> tuple[ColumnBatch, Rejections]:
    """Convert every valid log record; records with malformed trace/span ids are rejected.

    A record without a timestamp takes its observed timestamp, as the exporter does. String bodies
    are stored as they are, structured bodies as compact JSON.
    """
    columns: dict[str, list] = {name: [] for name in LOG_COLUMNS}
    (
        ts,
        trace_ids,
        span_ids,
        flags,
        sev_texts,
        sev_numbers,
        services,
        bodies,
        res_urls,
        res_attrs,
        scope_urls,
        scope_names,
        scope_versions,
        scope_attrs,
        log_attrs,
    ) = columns.values()
    rejected = Rejections()
    for resource_logs in request.resource_logs:
        resource_map = attributes_to_map(resource_logs.resource.attributes)
        service = resource_map.get("service.name", "")
        res_url = resource_logs.schema_url
        for scope_logs in resource_logs.scope_logs:
            scope = scope_logs.scope
            scope_map = attributes_to_map(scope.attributes)
            for record in scope_logs.log_records:
                error = _record_error(record, window)
                if error:
                    rejected.add(error)
                    continue
                ts.append(record.time_unix_nano or record.observed_time_unix_nano)
                trace_ids.append(record.trace_id.hex())
                span_ids.append(record.span_id.hex())
                flags.append(record.flags & 0xFF)
                sev_texts.append(record.severity_text)
                number = record.severity_number
                sev_numbers.append(number if 0 <= number <= 255 else 0)
                services.append(service)
                bodies.append(any_value_to_str(record.body))
                res_urls.append(res_url)
                res_attrs.append(resource_map)
                scope_urls.append(scope_logs.schema_url)
                scope_names.append(scope.name)
                scope_versions.append(scope.version)
                scope_attrs.append(scope_map)
                log_attrs.append(attributes_to_map(record.attributes))
    return ColumnBatch("otel_logs", columns), rejected


def drop_invalid_records(request, window: TimeWindow | None = None) -> tuple[int, Rejections]:
    """Remove from `request` (in place) the records logs_to_batch would refuse; returns how many are
    left and the refusals (for what ClickHouse converts itself, migration 015). A tight test passes
    the common record; any other goes through the full rule (`_record_error`), which decides."""
    earliest, latest = (window.earliest_ns, window.latest_ns) if window is not None else (0, MAX_NANOS)
    kept, rejected = 0, Rejections()
    for resource_logs in request.resource_logs:
        for scope_logs in resource_logs.scope_logs:
            records = scope_logs.log_records
            bad = []
            for i, record in enumerate(records):
                trace_id, span_id, time = record.trace_id, record.span_id, record.time_unix_nano
                if (
                    (not trace_id or (len(trace_id) == 16 and trace_id != _ZERO_TRACE))
                    and (not span_id or (len(span_id) == 8 and span_id != _ZERO_SPAN))
                    and time and earliest <= time <= latest and record.observed_time_unix_nano <= MAX_NANOS
                ):  # fmt: skip
                    continue
                error = _record_error(record, window)
                if error:
                    rejected.add(error)
                    bad.append(i)
            for i in reversed(bad):
                del records[i]
            kept += len(records)
    return kept, rejected


def _record_error(record, window: TimeWindow | None) -> str | None:
    return (
        trace_id_error(record.trace_id, False)
        or span_id_error(record.span_id, False)
        or time_error(record.time_unix_nano, record.observed_time_unix_nano)
        or window_error(window, record.time_unix_nano or record.observed_time_unix_nano)
    )
