"""ExportMetricsServiceRequest -> rows of the five `otel_metrics_*` tables."""

from __future__ import annotations

from storage.batch import ColumnBatch
from storage.model.attributes import (
    Rejections,
    TimeWindow,
    attributes_to_map,
    span_id_error,
    time_error,
    trace_id_error,
    window_error,
)

_COMMON = (
    "ResourceAttributes",
    "ResourceSchemaUrl",
    "ScopeName",
    "ScopeVersion",
    "ScopeAttributes",
    "ScopeDroppedAttrCount",
    "ScopeSchemaUrl",
    "ServiceName",
    "MetricName",
    "MetricDescription",
    "MetricUnit",
    "Attributes",
    "StartTimeUnix",
    "TimeUnix",
)
_EXEMPLARS = (
    "Exemplars.FilteredAttributes",
    "Exemplars.TimeUnix",
    "Exemplars.Value",
    "Exemplars.SpanId",
    "Exemplars.TraceId",
)

METRIC_COLUMNS = {
    "otel_metrics_gauge": _COMMON + ("Value", "Flags") + _EXEMPLARS,
    "otel_metrics_sum": _COMMON + ("Value", "Flags") + _EXEMPLARS + ("AggregationTemporality", "IsMonotonic"),
    "otel_metrics_histogram": _COMMON
    + ("Count", "Sum", "BucketCounts", "ExplicitBounds")
    + _EXEMPLARS
    + ("Flags", "Min", "Max", "AggregationTemporality"),
    "otel_metrics_exp_histogram": _COMMON
    + (
        "Count",
        "Sum",
        "Scale",
        "ZeroCount",
        "PositiveOffset",
        "PositiveBucketCounts",
        "NegativeOffset",
        "NegativeBucketCounts",
    )
    + _EXEMPLARS
    + ("Flags", "Min", "Max", "AggregationTemporality"),
    "otel_metrics_summary": _COMMON + ("Count", "Sum", "ValueAtQuantiles.Quantile", "ValueAtQuantiles.Value", "Flags"),
}

_TABLE_OF = {
    "gauge": "otel_metrics_gauge",
    "sum": "otel_metrics_sum",
    "histogram": "otel_metrics_histogram",
    "exponential_histogram": "otel_metrics_exp_histogram",
    "summary": "otel_metrics_summary",
}


def _number(point) -> float:
    return point.as_double if point.WhichOneof("value") == "as_double" else float(point.as_int)


def _exemplars(point) -> tuple[list, list, list, list, list] | str:
    attrs, times, values, span_ids, trace_ids = [], [], [], [], []
    for ex in point.exemplars:
        error = trace_id_error(ex.trace_id, False) or span_id_error(ex.span_id, False) or time_error(ex.time_unix_nano)
        if error:
            return "exemplar: " + error
        attrs.append(attributes_to_map(ex.filtered_attributes))
        times.append(ex.time_unix_nano)
        values.append(_number(ex))
        span_ids.append(ex.span_id.hex())
        trace_ids.append(ex.trace_id.hex())
    return attrs, times, values, span_ids, trace_ids


def _point_error(point, window: TimeWindow | None) -> str | None:
    return time_error(point.start_time_unix_nano, point.time_unix_nano) or window_error(window, point.time_unix_nano)


def _specific(kind: str, data, point) -> tuple:
    """The type-specific columns of one point, in METRIC_COLUMNS order (exemplars excluded)."""
    if kind in ("gauge", "sum"):
        return (_number(point), point.flags)
    if kind == "histogram":
        return (point.count, point.sum, list(point.bucket_counts), list(point.explicit_bounds))
    if kind == "exponential_histogram":
        return (
            point.count,
            point.sum,
            point.scale,
            point.zero_count,
            point.positive.offset,
            list(point.positive.bucket_counts),
            point.negative.offset,
            list(point.negative.bucket_counts),
        )
    return (
        point.count,
        point.sum,
        [q.quantile for q in point.quantile_values],
        [q.value for q in point.quantile_values],
        point.flags,
    )


def _trailing(kind: str, data, point) -> tuple:
    """The columns after the exemplars (sum, histograms)."""
    if kind == "sum":
        return (int(data.aggregation_temporality), data.is_monotonic)
    if kind in ("histogram", "exponential_histogram"):
        return (point.flags, point.min, point.max, int(data.aggregation_temporality))
    return ()


def metrics_to_batches(request, window: TimeWindow | None = None) -> tuple[list[ColumnBatch], Rejections]:
    """One batch per metric type present. Points with out-of-range times or exemplars carrying
    malformed ids are rejected one by one."""
    rows: dict[str, list[tuple]] = {}
    rejected = Rejections()
    for resource_metrics in request.resource_metrics:
        resource_map = attributes_to_map(resource_metrics.resource.attributes)
        service = resource_map.get("service.name", "")
        res_url = resource_metrics.schema_url
        for scope_metrics in resource_metrics.scope_metrics:
            scope = scope_metrics.scope
            scope_head = (
                resource_map,
                res_url,
                scope.name,
                scope.version,
                attributes_to_map(scope.attributes),
                scope.dropped_attributes_count,
                scope_metrics.schema_url,
                service,
            )
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                data = getattr(metric, kind)
                table_rows = rows.setdefault(_TABLE_OF[kind], [])
                head = scope_head + (metric.name, metric.description, metric.unit)
                for point in data.data_points:
                    error = _point_error(point, window)
                    exemplars = error or (() if kind == "summary" else _exemplars(point))
                    if isinstance(exemplars, str):
                        rejected.add(exemplars)
                        continue
                    table_rows.append(
                        head
                        + (attributes_to_map(point.attributes), point.start_time_unix_nano, point.time_unix_nano)
                        + _specific(kind, data, point)
                        + exemplars
                        + _trailing(kind, data, point)
                    )
    batches = []
    for table, table_rows in rows.items():
        names = METRIC_COLUMNS[table]
        if table_rows:
            batches.append(
                ColumnBatch(
                    table, {name: list(col) for name, col in zip(names, zip(*table_rows, strict=True), strict=True)}
                )
            )
    return batches, rejected


def drop_invalid_points(request, window: TimeWindow | None = None) -> tuple[int, Rejections]:
    """Remove from `request` (in place) the points metrics_to_batches would refuse; returns how many
    points are left (of metrics with data) and the refusals (for what ClickHouse converts itself,
    migration 016)."""
    kept, rejected = 0, Rejections()
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                kind = metric.WhichOneof("data")
                if kind is None:
                    continue
                points = getattr(metric, kind).data_points
                bad = []
                for i, point in enumerate(points):
                    error = _point_error(point, window)
                    if error is None and kind != "summary":
                        exemplars = _exemplars(point)
                        error = exemplars if isinstance(exemplars, str) else None
                    if error:
                        rejected.add(error)
                        bad.append(i)
                for i in reversed(bad):
                    del points[i]
                kept += len(points)
    return kept, rejected
