-- The points' view takes whole requests about 16,000 points at a time, and converts their points
-- ~8,000 at a time (storage.otlp_schema.METRIC_ROWS_PER_BLOCK, set on the insert). ClickHouse's
-- max_block_size bounds the rows each ARRAY JOIN emits, never splitting one row's array, and every
-- chunk pays a fixed cost through the view's steps (~13 ms for metric points: far more than for
-- spans). At 512 rows for every step (before) an SDK's requests (one resource, dozens of metrics of
-- a few points) were converted ~500 points a chunk, at 1.6-1.8 times the CPU a point of now. A
-- bound in resources or in metrics cannot suit both those and requests of dense metrics (50 points
-- a metric: at 512 resources and 8,192 metrics a chunk the collector peaked at 1.22-1.25 GiB). So
-- the first step counts a request's points: an ARRAY JOIN over one row a point (the request's
-- columns replicated lazily, kept for its first point only) emits whole requests until ~16,000
-- points, and the later steps work within those. The query is 023's otherwise: the rows are the
-- same (tests/storage/test_clickhouse_conversion.py; docs/benchmarks.md).
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
