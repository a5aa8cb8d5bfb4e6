-- Log records decoded by ClickHouse itself (see migration 014): storage.model.logs.logs_to_batch, in SQL.
CREATE TABLE IF NOT EXISTS otlp_logs_in (
    resource_logs Array(Tuple(
        resource Tuple(attributes {attributes}),
        schema_url String,
        scope_logs Array(Tuple(
            scope Tuple(name String, version String, attributes {attributes}),
            schema_url String,
            log_records Array(Tuple(
                time_unix_nano UInt64, observed_time_unix_nano UInt64, severity_number Int32, severity_text String,
                body {any_value}, attributes {attributes}, flags UInt32, trace_id String, span_id String))))))
) ENGINE = Null;

CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_logs_in_mv TO otel_logs AS
WITH arrayMap(list -> hopscope_attributes(list), [sl.scope.attributes, record.attributes]) AS attribute_maps
SELECT
    fromUnixTimestamp64Nano(toInt64(if(record.time_unix_nano != 0, record.time_unix_nano, record.observed_time_unix_nano)))
        AS Timestamp,
    hopscope_hex(record.trace_id) AS TraceId,
    hopscope_hex(record.span_id) AS SpanId,
    toUInt8(bitAnd(record.flags, 255)) AS TraceFlags,
    record.severity_text AS SeverityText,
    toUInt8(if(record.severity_number BETWEEN 0 AND 255, record.severity_number, 0)) AS SeverityNumber,
    resource['service.name'] AS ServiceName,
    hopscope_any_text(record.body) AS Body,
    resource_schema_url AS ResourceSchemaUrl,
    resource AS ResourceAttributes,
    sl.schema_url AS ScopeSchemaUrl,
    sl.scope.name AS ScopeName,
    sl.scope.version AS ScopeVersion,
    attribute_maps[1] AS ScopeAttributes,
    attribute_maps[2] AS LogAttributes
FROM (
    SELECT hopscope_attributes(rl.resource.attributes) AS resource, rl.schema_url AS resource_schema_url,
           rl.scope_logs AS scope_logs
    FROM otlp_logs_in ARRAY JOIN resource_logs AS rl
)
ARRAY JOIN scope_logs AS sl
ARRAY JOIN sl.log_records AS record;
