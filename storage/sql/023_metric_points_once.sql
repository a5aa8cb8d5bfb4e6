-- Metric points converted once, then sorted into their five tables (replaces the five views of 016).
-- Each view of 016 decoded the whole request again for its own point type: an insert analysed the
-- attribute conversion five times (~0.6 s of fixed cost an insert) and walked every point's nested
-- columns five times (each view alone needed 200-400 MiB for 16 MiB of bodies; the five, ~800 MiB).
-- Now one view converts every point, whatever its type, to a row of the Null table
-- otlp_metric_points_in (the five tables' columns and the point's Kind), and five plain views sort
-- those rows into the tables. The rows are the same (tests/storage/test_clickhouse_conversion.py).
DROP VIEW IF EXISTS otlp_metrics_in_gauge_mv;
DROP VIEW IF EXISTS otlp_metrics_in_sum_mv;
DROP VIEW IF EXISTS otlp_metrics_in_histogram_mv;
DROP VIEW IF EXISTS otlp_metrics_in_exponential_histogram_mv;
DROP VIEW IF EXISTS otlp_metrics_in_summary_mv;

CREATE TABLE IF NOT EXISTS otlp_metric_points_in (
    Kind Enum8('none' = 0, 'gauge' = 5, 'sum' = 7, 'histogram' = 9, 'exponential_histogram' = 10, 'summary' = 11),
    ResourceAttributes Map(LowCardinality(String), String),
    ResourceSchemaUrl String,
    ScopeName String,
    ScopeVersion String,
    ScopeAttributes Map(LowCardinality(String), String),
    ScopeDroppedAttrCount UInt32,
    ScopeSchemaUrl String,
    ServiceName LowCardinality(String),
    MetricName String,
    MetricDescription String,
    MetricUnit String,
    Attributes Map(LowCardinality(String), String),
    StartTimeUnix DateTime64(9),
    TimeUnix DateTime64(9),
    Flags UInt32,
    ExemplarAttributes Array(Map(LowCardinality(String), String)),
    ExemplarTimes Array(DateTime64(9)),
    ExemplarValues Array(Float64),
    ExemplarSpanIds Array(String),
    ExemplarTraceIds Array(String),
    Value Float64,
    Count UInt64,
    Sum Float64,
    BucketCounts Array(UInt64),
    ExplicitBounds Array(Float64),
    Scale Int32,
    ZeroCount UInt64,
    PositiveOffset Int32,
    PositiveBucketCounts Array(UInt64),
    NegativeOffset Int32,
    NegativeBucketCounts Array(UInt64),
    Min Float64,
    Max Float64,
    Quantiles Array(Float64),
    QuantileValues Array(Float64),
    AggregationTemporality Int32,
    IsMonotonic Bool
) ENGINE = Null;

-- One point of any type as one tuple: (attributes, start, time, flags, exemplars, value, count, sum,
-- bucket counts, explicit bounds, scale, zero count, positive offset, positive counts, negative
-- offset, negative counts, min, max, quantiles, quantile values); what a type lacks is its zero.
-- `data_kind` says which of a metric's oneof fields came last (a metric with none has no points).
CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metrics_in_points_mv TO otlp_metric_points_in AS
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
            FROM otlp_metrics_in ARRAY JOIN resource_metrics AS rm
        )
        ARRAY JOIN scope_metrics AS sm
    )
    ARRAY JOIN metrics AS metric
)
ARRAY JOIN points AS point;

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metric_points_in_gauge_mv TO otel_metrics_gauge AS
SELECT ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount,
       ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix,
       Value, Flags,
       ExemplarAttributes AS `Exemplars.FilteredAttributes`, ExemplarTimes AS `Exemplars.TimeUnix`,
       ExemplarValues AS `Exemplars.Value`, ExemplarSpanIds AS `Exemplars.SpanId`, ExemplarTraceIds AS `Exemplars.TraceId`
FROM otlp_metric_points_in
WHERE Kind = 'gauge';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metric_points_in_sum_mv TO otel_metrics_sum AS
SELECT ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount,
       ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix,
       Value, Flags,
       ExemplarAttributes AS `Exemplars.FilteredAttributes`, ExemplarTimes AS `Exemplars.TimeUnix`,
       ExemplarValues AS `Exemplars.Value`, ExemplarSpanIds AS `Exemplars.SpanId`, ExemplarTraceIds AS `Exemplars.TraceId`,
       AggregationTemporality, IsMonotonic
FROM otlp_metric_points_in
WHERE Kind = 'sum';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metric_points_in_histogram_mv TO otel_metrics_histogram AS
SELECT ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount,
       ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix,
       Count, Sum, BucketCounts, ExplicitBounds,
       ExemplarAttributes AS `Exemplars.FilteredAttributes`, ExemplarTimes AS `Exemplars.TimeUnix`,
       ExemplarValues AS `Exemplars.Value`, ExemplarSpanIds AS `Exemplars.SpanId`, ExemplarTraceIds AS `Exemplars.TraceId`,
       Flags, Min, Max, AggregationTemporality
FROM otlp_metric_points_in
WHERE Kind = 'histogram';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metric_points_in_exponential_histogram_mv TO otel_metrics_exp_histogram AS
SELECT ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount,
       ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix,
       Count, Sum, Scale, ZeroCount, PositiveOffset, PositiveBucketCounts, NegativeOffset, NegativeBucketCounts,
       ExemplarAttributes AS `Exemplars.FilteredAttributes`, ExemplarTimes AS `Exemplars.TimeUnix`,
       ExemplarValues AS `Exemplars.Value`, ExemplarSpanIds AS `Exemplars.SpanId`, ExemplarTraceIds AS `Exemplars.TraceId`,
       Flags, Min, Max, AggregationTemporality
FROM otlp_metric_points_in
WHERE Kind = 'exponential_histogram';

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_metric_points_in_summary_mv TO otel_metrics_summary AS
SELECT ResourceAttributes, ResourceSchemaUrl, ScopeName, ScopeVersion, ScopeAttributes, ScopeDroppedAttrCount,
       ScopeSchemaUrl, ServiceName, MetricName, MetricDescription, MetricUnit, Attributes, StartTimeUnix, TimeUnix,
       Count, Sum, Quantiles AS `ValueAtQuantiles.Quantile`, QuantileValues AS `ValueAtQuantiles.Value`, Flags
FROM otlp_metric_points_in
WHERE Kind = 'summary';
