-- The landing views' queries as ClickHouse analyses them at every insert, made smaller. A view stores
-- its query with the SQL functions written out, each argument copied wherever the function's body
-- names it: hopscope_attributes named an attribute's value (`tupleElement(a, 'v')`) in some forty
-- places, its formatting of arrays and key-value lists twice more, and the stored traces view ran to
-- 15,779 characters, a query tree of 7,323 lines, analysed and planned in ~100 ms before the first
-- span was converted (logs ~100 ms, metric points ~200 ms): on a 16 MiB insert of ~41,000 spans
-- ~2.4 µs a span, and most of the cost of a small insert. The stored query plans slower than the
-- same query written with the functions' names (traces ~100 ms against ~70: each copy is analysed).
--
-- Now the conversion passes an attribute value's fields to a lambda as arrays of their own
-- (`arrayMap((k, s, b, i, d, y, x, a, l) -> …, attrs.v.k, attrs.v.s, …)`), so the functions' bodies
-- name plain lambda arguments, and an array's elements are formatted by one expression. Span kinds
-- and status codes are named with `transform` (an array literal indexed by an `if` took ~6 ms of
-- analysis each). The stored traces view: 8,812 characters, 4,013 lines, ~58 ms; logs ~75 ms;
-- metric points ~190 ms (docs/benchmarks.md). The same rows (tests/storage/test_clickhouse_conversion.py):
-- what SQL does not convert still raises HOPSCOPE_PYTHON_PATH. The views are changed in place with
-- their queries of 029 and 028 (a view keeps the functions' bodies of when its query was set).

-- A scalar AnyValue's fields as json.dumps writes the value (unset: null).
CREATE OR REPLACE FUNCTION hopscope_scalar_json_fields AS (k, s, b, i, d, y, x) ->
    multiIf(k = 's', hopscope_json_string(s), k = 'i', toString(i), k = 'b', if(b, 'true', 'false'),
            k = 'd', hopscope_double_json(d), k = 'y', '"' || base64Encode(y) || '"', k = 'x', toString(x), 'null');

-- An array (k = 'a') or key-value list (k = 'l') as JSON: `vals` its values, `keys` a list's keys
-- (empty for an array). Values nested deeper, and repeated keys, take the Python conversion.
CREATE OR REPLACE FUNCTION hopscope_list_json AS (k, vals, keys) ->
    if(throwIf(arrayExists(e -> e IN ('a', 'l'), tupleElement(vals, 'k')),
               'HOPSCOPE_PYTHON_PATH: value nested deeper than 1 levels') = 0
       AND throwIf(arrayUniq(keys) != length(keys), 'HOPSCOPE_PYTHON_PATH: repeated key in a key-value list') = 0,
       if(k = 'a', '[', '{')
           || arrayStringConcat(arrayMap((key, ek, es, eb, ei, ed, ey, ex) ->
                                             if(k = 'l', hopscope_json_string(key) || ':', '')
                                                 || hopscope_scalar_json_fields(ek, es, eb, ei, ed, ey, ex),
                                         arrayResize(keys, length(vals)), tupleElement(vals, 'k'),
                                         tupleElement(vals, 's'), tupleElement(vals, 'b'), tupleElement(vals, 'i'),
                                         tupleElement(vals, 'd'), tupleElement(vals, 'y'), tupleElement(vals, 'x')), ',')
           || if(k = 'a', ']', '}'),
       '');

-- An AnyValue's fields as text (storage.model.attributes.any_value_to_str).
CREATE OR REPLACE FUNCTION hopscope_value_text AS (k, s, b, i, d, y, x, a, l) ->
    multiIf(k = 's', s, k = 'i', toString(i), k = 'b', if(b, 'true', 'false'), k = 'd', hopscope_double_text(d),
            k = 'y', base64Encode(y),
            k IN ('a', 'l'), hopscope_list_json(k, if(k = 'a', tupleElement(a, 'v'), tupleElement(tupleElement(l, 'v'), 'v')),
                                                tupleElement(tupleElement(l, 'v'), 'k')),
            k = 'x', toString(x),
            '');

-- An attribute value as text (a log record's body).
CREATE OR REPLACE FUNCTION hopscope_any_text AS (v) ->
    hopscope_value_text(tupleElement(v, 'k'), tupleElement(v, 's'), tupleElement(v, 'b'), tupleElement(v, 'i'),
                        tupleElement(v, 'd'), tupleElement(v, 'y'), tupleElement(v, 'x'), tupleElement(v, 'a'),
                        tupleElement(v, 'l'));

-- A repeated KeyValue as a map (storage.model.attributes.attributes_to_map).
CREATE OR REPLACE FUNCTION hopscope_attributes AS (attrs) ->
    if(throwIf(arrayUniq(tupleElement(attrs, 'k')) != length(attrs), 'HOPSCOPE_PYTHON_PATH: repeated attribute key') = 0,
       mapFromArrays(tupleElement(attrs, 'k'),
                     arrayMap((k, s, b, i, d, y, x, a, l) -> hopscope_value_text(k, s, b, i, d, y, x, a, l),
                              tupleElement(tupleElement(attrs, 'v'), 'k'), tupleElement(tupleElement(attrs, 'v'), 's'),
                              tupleElement(tupleElement(attrs, 'v'), 'b'), tupleElement(tupleElement(attrs, 'v'), 'i'),
                              tupleElement(tupleElement(attrs, 'v'), 'd'), tupleElement(tupleElement(attrs, 'v'), 'y'),
                              tupleElement(tupleElement(attrs, 'v'), 'x'), tupleElement(tupleElement(attrs, 'v'), 'a'),
                              tupleElement(tupleElement(attrs, 'v'), 'l'))),
       map());

-- 014's formatting of nested values, which nothing uses any more.
DROP FUNCTION IF EXISTS hopscope_any_json_0;
DROP FUNCTION IF EXISTS hopscope_any_json_1;
DROP FUNCTION IF EXISTS hopscope_compose_json;
DROP FUNCTION IF EXISTS hopscope_scalar_json;

ALTER TABLE otlp_traces_in_mv MODIFY QUERY
WITH
    arrayMap(list -> hopscope_attributes(list),
             arrayConcat([span.attributes], arrayMap(e -> e.attributes, span.events),
                         arrayMap(l -> l.attributes, span.links))) AS attribute_maps
SELECT
    fromUnixTimestamp64Nano(toInt64(span.start_time_unix_nano)) AS Timestamp,
    hopscope_hex(span.trace_id) AS TraceId,
    hopscope_hex(span.span_id) AS SpanId,
    hopscope_hex(span.parent_span_id) AS ParentSpanId,
    span.trace_state AS TraceState,
    span.name AS SpanName,
    transform(span.kind, [1, 2, 3, 4, 5], ['Internal', 'Server', 'Client', 'Producer', 'Consumer'], 'Unspecified')
        AS SpanKind,
    resource_maps[resource_index]['service.name'] AS ServiceName,
    resource_maps[resource_index] AS ResourceAttributes,
    scope_names[scope_index] AS ScopeName,
    scope_versions[scope_index] AS ScopeVersion,
    attribute_maps[1] AS SpanAttributes,
    if(span.end_time_unix_nano > span.start_time_unix_nano, span.end_time_unix_nano - span.start_time_unix_nano, 0)
        AS Duration,
    transform(span.status.code, [1, 2], ['Ok', 'Error'], 'Unset') AS StatusCode,
    span.status.message AS StatusMessage,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), span.events) AS `Events.Timestamp`,
    arrayMap(e -> e.name, span.events) AS `Events.Name`,
    arraySlice(attribute_maps, 2, length(span.events)) AS `Events.Attributes`,
    arrayMap(l -> hopscope_hex(l.trace_id), span.links) AS `Links.TraceId`,
    arrayMap(l -> hopscope_hex(l.span_id), span.links) AS `Links.SpanId`,
    arrayMap(l -> l.trace_state, span.links) AS `Links.TraceState`,
    arraySlice(attribute_maps, 2 + length(span.events), length(span.links)) AS `Links.Attributes`
FROM (
    SELECT
        arrayMap(rs -> hopscope_attributes(rs.resource.attributes), resource_spans) AS resource_maps,
        arrayFlatten(resource_spans.scope_spans) AS scopes,
        arrayFlatten(scopes.spans) AS spans,
        scopes.scope.name AS scope_names,
        scopes.scope.version AS scope_versions,
        arrayFlatten(arrayMap((rs, i) -> arrayWithConstant(arraySum(arrayMap(ss -> length(ss.spans), rs.scope_spans)), i),
                              resource_spans, arrayEnumerate(resource_spans))) AS span_resources,
        arrayFlatten(arrayMap((ss, i) -> arrayWithConstant(length(ss.spans), i), scopes, arrayEnumerate(scopes))) AS span_scopes
    FROM otlp_traces_in
)
ARRAY JOIN spans AS span, span_resources AS resource_index, span_scopes AS scope_index;

ALTER TABLE otlp_logs_in_mv MODIFY QUERY
SELECT
    fromUnixTimestamp64Nano(toInt64(if(record.time_unix_nano != 0, record.time_unix_nano, record.observed_time_unix_nano)))
        AS Timestamp,
    hopscope_hex(record.trace_id) AS TraceId,
    hopscope_hex(record.span_id) AS SpanId,
    toUInt8(bitAnd(record.flags, 255)) AS TraceFlags,
    record.severity_text AS SeverityText,
    toUInt8(if(record.severity_number BETWEEN 0 AND 255, record.severity_number, 0)) AS SeverityNumber,
    attribute_maps[resource_index]['service.name'] AS ServiceName,
    hopscope_any_text(record.body) AS Body,
    resource_schema_urls[resource_index] AS ResourceSchemaUrl,
    attribute_maps[resource_index] AS ResourceAttributes,
    scope_schema_urls[scope_index] AS ScopeSchemaUrl,
    scope_names[scope_index] AS ScopeName,
    scope_versions[scope_index] AS ScopeVersion,
    attribute_maps[length(resource_schema_urls) + scope_index] AS ScopeAttributes,
    hopscope_attributes(record.attributes) AS LogAttributes
FROM (
    SELECT
        arrayFlatten(resource_logs.scope_logs) AS scopes,
        arrayFlatten(scopes.log_records) AS records,
        arrayMap(list -> hopscope_attributes(list), arrayConcat(resource_logs.resource.attributes, scopes.scope.attributes))
            AS attribute_maps,
        resource_logs.schema_url AS resource_schema_urls,
        scopes.schema_url AS scope_schema_urls,
        scopes.scope.name AS scope_names,
        scopes.scope.version AS scope_versions,
        arrayFlatten(arrayMap((rl, i) -> arrayWithConstant(arraySum(arrayMap(sl -> length(sl.log_records), rl.scope_logs)), i),
                              resource_logs, arrayEnumerate(resource_logs))) AS record_resources,
        arrayFlatten(arrayMap((sl, i) -> arrayWithConstant(length(sl.log_records), i), scopes, arrayEnumerate(scopes)))
            AS record_scopes
    FROM otlp_logs_in
)
ARRAY JOIN records AS record, record_resources AS resource_index, record_scopes AS scope_index;

ALTER TABLE otlp_metrics_in_points_mv MODIFY QUERY
WITH arrayMap(list -> hopscope_attributes(list),
              arrayConcat([scope.attributes, point.1], arrayMap(e -> e.filtered_attributes, point.5))) AS attribute_maps  -- one expansion (see 014)
SELECT
    kind AS Kind,
    resource AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    scope.name AS ScopeName,
    scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    scope_schema_url AS ScopeSchemaUrl,
    resource['service.name'] AS ServiceName,
    metric_name AS MetricName,
    metric_description AS MetricDescription,
    metric_unit AS MetricUnit,
    attribute_maps[2] AS Attributes,
    fromUnixTimestamp64Nano(toInt64(point.2)) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(point.3)) AS TimeUnix,
    point.4 AS Flags,
    arraySlice(attribute_maps, 3) AS ExemplarAttributes,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), point.5) AS ExemplarTimes,
    arrayMap(e -> if(e.value_kind = 'as_double', e.as_double, toFloat64(e.as_int)), point.5) AS ExemplarValues,
    arrayMap(e -> hopscope_hex(e.span_id), point.5) AS ExemplarSpanIds,
    arrayMap(e -> hopscope_hex(e.trace_id), point.5) AS ExemplarTraceIds,
    point.6 AS Value,
    point.7 AS Count,
    point.8 AS Sum,
    point.9 AS BucketCounts,
    point.10 AS ExplicitBounds,
    point.11 AS Scale,
    point.12 AS ZeroCount,
    point.13 AS PositiveOffset,
    point.14 AS PositiveBucketCounts,
    point.15 AS NegativeOffset,
    point.16 AS NegativeBucketCounts,
    point.17 AS Min,
    point.18 AS Max,
    point.19 AS Quantiles,
    point.20 AS QuantileValues,
    aggregation_temporality AS AggregationTemporality,
    is_monotonic AS IsMonotonic
FROM (
    SELECT
        resource, resource_schema_url, scope, scope_schema_url,
        metric.name AS metric_name, metric.description AS metric_description, metric.unit AS metric_unit,
        metric.data_kind AS kind,
        multiIf(kind = 'sum', metric.sum.aggregation_temporality,
                kind = 'histogram', metric.histogram.aggregation_temporality,
                kind = 'exponential_histogram', metric.exponential_histogram.aggregation_temporality, 0)
            AS aggregation_temporality,
        kind = 'sum' AND metric.sum.is_monotonic AS is_monotonic,
        CAST([] AS Array(Tuple(filtered_attributes {attributes}, time_unix_nano UInt64,
                               value_kind Enum8('none' = 0, 'as_double' = 3, 'as_int' = 6), as_double Float64,
                               as_int Int64, span_id String, trace_id String))) AS no_exemplars,
        arrayConcat(
            arrayMap(p -> (p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags, p.exemplars,
                           if(p.value_kind = 'as_double', p.as_double, toFloat64(p.as_int)), toUInt64(0), toFloat64(0),
                           CAST([] AS Array(UInt64)), CAST([] AS Array(Float64)), toInt32(0), toUInt64(0),
                           toInt32(0), CAST([] AS Array(UInt64)), toInt32(0), CAST([] AS Array(UInt64)),
                           toFloat64(0), toFloat64(0), CAST([] AS Array(Float64)), CAST([] AS Array(Float64))),
                     if(kind = 'gauge', metric.gauge.data_points, [])),
            arrayMap(p -> (p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags, p.exemplars,
                           if(p.value_kind = 'as_double', p.as_double, toFloat64(p.as_int)), toUInt64(0), toFloat64(0),
                           CAST([] AS Array(UInt64)), CAST([] AS Array(Float64)), toInt32(0), toUInt64(0),
                           toInt32(0), CAST([] AS Array(UInt64)), toInt32(0), CAST([] AS Array(UInt64)),
                           toFloat64(0), toFloat64(0), CAST([] AS Array(Float64)), CAST([] AS Array(Float64))),
                     if(kind = 'sum', metric.sum.data_points, [])),
            arrayMap(p -> (p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags, p.exemplars,
                           toFloat64(0), p.count, p.sum, p.bucket_counts, p.explicit_bounds, toInt32(0), toUInt64(0),
                           toInt32(0), CAST([] AS Array(UInt64)), toInt32(0), CAST([] AS Array(UInt64)),
                           p.min, p.max, CAST([] AS Array(Float64)), CAST([] AS Array(Float64))),
                     if(kind = 'histogram', metric.histogram.data_points, [])),
            arrayMap(p -> (p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags, p.exemplars,
                           toFloat64(0), p.count, p.sum, CAST([] AS Array(UInt64)), CAST([] AS Array(Float64)),
                           p.scale, p.zero_count, p.positive.offset, p.positive.bucket_counts,
                           p.negative.offset, p.negative.bucket_counts,
                           p.min, p.max, CAST([] AS Array(Float64)), CAST([] AS Array(Float64))),
                     if(kind = 'exponential_histogram', metric.exponential_histogram.data_points, [])),
            arrayMap(p -> (p.attributes, p.start_time_unix_nano, p.time_unix_nano, p.flags, no_exemplars,
                           toFloat64(0), p.count, p.sum, CAST([] AS Array(UInt64)), CAST([] AS Array(Float64)),
                           toInt32(0), toUInt64(0), toInt32(0), CAST([] AS Array(UInt64)), toInt32(0),
                           CAST([] AS Array(UInt64)), toFloat64(0), toFloat64(0),
                           arrayMap(q -> q.quantile, p.quantile_values), arrayMap(q -> q.value, p.quantile_values)),
                     if(kind = 'summary', metric.summary.data_points, []))
        ) AS points
    FROM (
        SELECT resource, resource_schema_url, sm.scope AS scope, sm.schema_url AS scope_schema_url,
               sm.metrics AS metrics
        FROM (
            SELECT hopscope_attributes(rm.resource.attributes) AS resource, rm.schema_url AS resource_schema_url,
                   rm.scope_metrics AS scope_metrics
            FROM (
                SELECT resource_metrics
                FROM otlp_metrics_in
                ARRAY JOIN arrayEnumerate(arrayWithConstant(
                    length(arrayFlatten(resource_metrics.scope_metrics.metrics.gauge.data_points)) +
                    length(arrayFlatten(resource_metrics.scope_metrics.metrics.sum.data_points)) +
                    length(arrayFlatten(resource_metrics.scope_metrics.metrics.histogram.data_points)) +
                    length(arrayFlatten(resource_metrics.scope_metrics.metrics.exponential_histogram.data_points)) +
                    length(arrayFlatten(resource_metrics.scope_metrics.metrics.summary.data_points)), 0)) AS point_number
                WHERE point_number = 1
                SETTINGS max_block_size = 16384
            )
            ARRAY JOIN resource_metrics AS rm
        )
        ARRAY JOIN scope_metrics AS sm
    )
    ARRAY JOIN metrics AS metric
)
ARRAY JOIN points AS point;
