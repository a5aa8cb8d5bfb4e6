-- Metric points decoded by ClickHouse itself (see migration 014): storage.model.metrics.metrics_to_batches,
-- in SQL, one view per point type. `data_kind` says which of a metric's oneof fields came last
-- (a metric with none is skipped, as in Python). Migration 023 replaces these five views by one conversion.
CREATE TABLE IF NOT EXISTS otlp_metrics_in (
    resource_metrics Array(Tuple(
        resource Tuple(attributes {attributes}),
        schema_url String,
        scope_metrics Array(Tuple(
            scope Tuple(name String, version String, attributes {attributes}, dropped_attributes_count UInt32),
            schema_url String,
            metrics Array(Tuple(
                name String, description String, unit String,
                data_kind Enum8('none' = 0, 'gauge' = 5, 'sum' = 7, 'histogram' = 9, 'exponential_histogram' = 10,
                                'summary' = 11),
                gauge Tuple(data_points Array(Tuple(attributes {attributes}, start_time_unix_nano UInt64, time_unix_nano UInt64, value_kind Enum8('none' = 0, 'as_double' = 4, 'as_int' = 6), as_double Float64, as_int Int64,
                    exemplars Array(Tuple(filtered_attributes {attributes}, time_unix_nano UInt64, value_kind Enum8('none' = 0, 'as_double' = 3, 'as_int' = 6), as_double Float64, as_int Int64, span_id String, trace_id String)), flags UInt32))),
                sum Tuple(data_points Array(Tuple(attributes {attributes}, start_time_unix_nano UInt64, time_unix_nano UInt64, value_kind Enum8('none' = 0, 'as_double' = 4, 'as_int' = 6), as_double Float64, as_int Int64,
                    exemplars Array(Tuple(filtered_attributes {attributes}, time_unix_nano UInt64, value_kind Enum8('none' = 0, 'as_double' = 3, 'as_int' = 6), as_double Float64, as_int Int64, span_id String, trace_id String)), flags UInt32)), aggregation_temporality Int32, is_monotonic Bool),
                histogram Tuple(data_points Array(Tuple(attributes {attributes}, start_time_unix_nano UInt64, time_unix_nano UInt64, count UInt64, sum Float64, bucket_counts Array(UInt64),
                    explicit_bounds Array(Float64), exemplars Array(Tuple(filtered_attributes {attributes}, time_unix_nano UInt64, value_kind Enum8('none' = 0, 'as_double' = 3, 'as_int' = 6), as_double Float64, as_int Int64, span_id String, trace_id String)), flags UInt32, min Float64, max Float64)),
                    aggregation_temporality Int32),
                exponential_histogram Tuple(data_points Array(Tuple(attributes {attributes}, start_time_unix_nano UInt64, time_unix_nano UInt64, count UInt64, sum Float64, scale Int32,
                    zero_count UInt64, positive Tuple(offset Int32, bucket_counts Array(UInt64)),
                    negative Tuple(offset Int32, bucket_counts Array(UInt64)), flags UInt32, exemplars Array(Tuple(filtered_attributes {attributes}, time_unix_nano UInt64, value_kind Enum8('none' = 0, 'as_double' = 3, 'as_int' = 6), as_double Float64, as_int Int64, span_id String, trace_id String)),
                    min Float64, max Float64)),
                    aggregation_temporality Int32),
                summary Tuple(data_points Array(Tuple(attributes {attributes}, start_time_unix_nano UInt64, time_unix_nano UInt64, count UInt64, sum Float64,
                    quantile_values Array(Tuple(quantile Float64, value Float64)), flags UInt32)))))))))
) ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metrics_in_gauge_mv TO otel_metrics_gauge AS
WITH arrayMap(list -> hopscope_attributes(list), arrayConcat([sm.scope.attributes, point.attributes], arrayMap(e -> e.filtered_attributes, point.exemplars))) AS attribute_maps  -- one expansion (see 014)
SELECT
    resource AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    sm.scope.name AS ScopeName,
    sm.scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    sm.scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    sm.schema_url AS ScopeSchemaUrl,
    resource['service.name'] AS ServiceName,
    metric.name AS MetricName,
    metric.description AS MetricDescription,
    metric.unit AS MetricUnit,
    attribute_maps[2] AS Attributes,
    fromUnixTimestamp64Nano(toInt64(point.start_time_unix_nano)) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(point.time_unix_nano)) AS TimeUnix,
    if(point.value_kind = 'as_double', point.as_double, toFloat64(point.as_int)) AS Value,
    point.flags AS Flags,
    arraySlice(attribute_maps, 3) AS `Exemplars.FilteredAttributes`,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), point.exemplars) AS `Exemplars.TimeUnix`,
    arrayMap(e -> if(e.value_kind = 'as_double', e.as_double, toFloat64(e.as_int)), point.exemplars) AS `Exemplars.Value`,
    arrayMap(e -> hopscope_hex(e.span_id), point.exemplars) AS `Exemplars.SpanId`,
    arrayMap(e -> hopscope_hex(e.trace_id), point.exemplars) AS `Exemplars.TraceId`
FROM (
    SELECT hopscope_attributes(rm.resource.attributes) AS resource, rm.schema_url AS resource_schema_url,
           rm.scope_metrics AS scope_metrics
    FROM otlp_metrics_in ARRAY JOIN resource_metrics AS rm
)
ARRAY JOIN scope_metrics AS sm
ARRAY JOIN sm.metrics AS metric
ARRAY JOIN metric.gauge.data_points AS point
WHERE metric.data_kind = 'gauge';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metrics_in_sum_mv TO otel_metrics_sum AS
WITH arrayMap(list -> hopscope_attributes(list), arrayConcat([sm.scope.attributes, point.attributes], arrayMap(e -> e.filtered_attributes, point.exemplars))) AS attribute_maps  -- one expansion (see 014)
SELECT
    resource AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    sm.scope.name AS ScopeName,
    sm.scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    sm.scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    sm.schema_url AS ScopeSchemaUrl,
    resource['service.name'] AS ServiceName,
    metric.name AS MetricName,
    metric.description AS MetricDescription,
    metric.unit AS MetricUnit,
    attribute_maps[2] AS Attributes,
    fromUnixTimestamp64Nano(toInt64(point.start_time_unix_nano)) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(point.time_unix_nano)) AS TimeUnix,
    if(point.value_kind = 'as_double', point.as_double, toFloat64(point.as_int)) AS Value,
    point.flags AS Flags,
    arraySlice(attribute_maps, 3) AS `Exemplars.FilteredAttributes`,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), point.exemplars) AS `Exemplars.TimeUnix`,
    arrayMap(e -> if(e.value_kind = 'as_double', e.as_double, toFloat64(e.as_int)), point.exemplars) AS `Exemplars.Value`,
    arrayMap(e -> hopscope_hex(e.span_id), point.exemplars) AS `Exemplars.SpanId`,
    arrayMap(e -> hopscope_hex(e.trace_id), point.exemplars) AS `Exemplars.TraceId`,
    metric.sum.aggregation_temporality AS AggregationTemporality,
    metric.sum.is_monotonic AS IsMonotonic
FROM (
    SELECT hopscope_attributes(rm.resource.attributes) AS resource, rm.schema_url AS resource_schema_url,
           rm.scope_metrics AS scope_metrics
    FROM otlp_metrics_in ARRAY JOIN resource_metrics AS rm
)
ARRAY JOIN scope_metrics AS sm
ARRAY JOIN sm.metrics AS metric
ARRAY JOIN metric.sum.data_points AS point
WHERE metric.data_kind = 'sum';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metrics_in_histogram_mv TO otel_metrics_histogram AS
WITH arrayMap(list -> hopscope_attributes(list), arrayConcat([sm.scope.attributes, point.attributes], arrayMap(e -> e.filtered_attributes, point.exemplars))) AS attribute_maps  -- one expansion (see 014)
SELECT
    resource AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    sm.scope.name AS ScopeName,
    sm.scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    sm.scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    sm.schema_url AS ScopeSchemaUrl,
    resource['service.name'] AS ServiceName,
    metric.name AS MetricName,
    metric.description AS MetricDescription,
    metric.unit AS MetricUnit,
    attribute_maps[2] AS Attributes,
    fromUnixTimestamp64Nano(toInt64(point.start_time_unix_nano)) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(point.time_unix_nano)) AS TimeUnix,
    point.count AS Count,
    point.sum AS Sum,
    point.bucket_counts AS BucketCounts,
    point.explicit_bounds AS ExplicitBounds,
    arraySlice(attribute_maps, 3) AS `Exemplars.FilteredAttributes`,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), point.exemplars) AS `Exemplars.TimeUnix`,
    arrayMap(e -> if(e.value_kind = 'as_double', e.as_double, toFloat64(e.as_int)), point.exemplars) AS `Exemplars.Value`,
    arrayMap(e -> hopscope_hex(e.span_id), point.exemplars) AS `Exemplars.SpanId`,
    arrayMap(e -> hopscope_hex(e.trace_id), point.exemplars) AS `Exemplars.TraceId`,
    point.flags AS Flags,
    point.min AS Min,
    point.max AS Max,
    metric.histogram.aggregation_temporality AS AggregationTemporality
FROM (
    SELECT hopscope_attributes(rm.resource.attributes) AS resource, rm.schema_url AS resource_schema_url,
           rm.scope_metrics AS scope_metrics
    FROM otlp_metrics_in ARRAY JOIN resource_metrics AS rm
)
ARRAY JOIN scope_metrics AS sm
ARRAY JOIN sm.metrics AS metric
ARRAY JOIN metric.histogram.data_points AS point
WHERE metric.data_kind = 'histogram';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metrics_in_exponential_histogram_mv TO otel_metrics_exp_histogram AS
WITH arrayMap(list -> hopscope_attributes(list), arrayConcat([sm.scope.attributes, point.attributes], arrayMap(e -> e.filtered_attributes, point.exemplars))) AS attribute_maps  -- one expansion (see 014)
SELECT
    resource AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    sm.scope.name AS ScopeName,
    sm.scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    sm.scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    sm.schema_url AS ScopeSchemaUrl,
    resource['service.name'] AS ServiceName,
    metric.name AS MetricName,
    metric.description AS MetricDescription,
    metric.unit AS MetricUnit,
    attribute_maps[2] AS Attributes,
    fromUnixTimestamp64Nano(toInt64(point.start_time_unix_nano)) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(point.time_unix_nano)) AS TimeUnix,
    point.count AS Count,
    point.sum AS Sum,
    point.scale AS Scale,
    point.zero_count AS ZeroCount,
    point.positive.offset AS PositiveOffset,
    point.positive.bucket_counts AS PositiveBucketCounts,
    point.negative.offset AS NegativeOffset,
    point.negative.bucket_counts AS NegativeBucketCounts,
    arraySlice(attribute_maps, 3) AS `Exemplars.FilteredAttributes`,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), point.exemplars) AS `Exemplars.TimeUnix`,
    arrayMap(e -> if(e.value_kind = 'as_double', e.as_double, toFloat64(e.as_int)), point.exemplars) AS `Exemplars.Value`,
    arrayMap(e -> hopscope_hex(e.span_id), point.exemplars) AS `Exemplars.SpanId`,
    arrayMap(e -> hopscope_hex(e.trace_id), point.exemplars) AS `Exemplars.TraceId`,
    point.flags AS Flags,
    point.min AS Min,
    point.max AS Max,
    metric.exponential_histogram.aggregation_temporality AS AggregationTemporality
FROM (
    SELECT hopscope_attributes(rm.resource.attributes) AS resource, rm.schema_url AS resource_schema_url,
           rm.scope_metrics AS scope_metrics
    FROM otlp_metrics_in ARRAY JOIN resource_metrics AS rm
)
ARRAY JOIN scope_metrics AS sm
ARRAY JOIN sm.metrics AS metric
ARRAY JOIN metric.exponential_histogram.data_points AS point
WHERE metric.data_kind = 'exponential_histogram';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metrics_in_summary_mv TO otel_metrics_summary AS
WITH arrayMap(list -> hopscope_attributes(list), [sm.scope.attributes, point.attributes]) AS attribute_maps  -- one expansion (see 014)
SELECT
    resource AS ResourceAttributes,
    resource_schema_url AS ResourceSchemaUrl,
    sm.scope.name AS ScopeName,
    sm.scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    sm.scope.dropped_attributes_count AS ScopeDroppedAttrCount,
    sm.schema_url AS ScopeSchemaUrl,
    resource['service.name'] AS ServiceName,
    metric.name AS MetricName,
    metric.description AS MetricDescription,
    metric.unit AS MetricUnit,
    attribute_maps[2] AS Attributes,
    fromUnixTimestamp64Nano(toInt64(point.start_time_unix_nano)) AS StartTimeUnix,
    fromUnixTimestamp64Nano(toInt64(point.time_unix_nano)) AS TimeUnix,
    point.count AS Count,
    point.sum AS Sum,
    arrayMap(q -> q.quantile, point.quantile_values) AS `ValueAtQuantiles.Quantile`,
    arrayMap(q -> q.value, point.quantile_values) AS `ValueAtQuantiles.Value`,
    point.flags AS Flags
FROM (
    SELECT hopscope_attributes(rm.resource.attributes) AS resource, rm.schema_url AS resource_schema_url,
           rm.scope_metrics AS scope_metrics
    FROM otlp_metrics_in ARRAY JOIN resource_metrics AS rm
)
ARRAY JOIN scope_metrics AS sm
ARRAY JOIN sm.metrics AS metric
ARRAY JOIN metric.summary.data_points AS point
WHERE metric.data_kind = 'summary';
