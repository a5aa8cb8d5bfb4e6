-- The landing views take the resources 16 at a time, and the records of as many resources as that
-- make in one go (up to storage.otlp_schema.RECORDS_PER_BLOCK, ~8,000, set on the insert).
-- ClickHouse's max_block_size bounds the rows each ARRAY JOIN emits, and never splits one array:
-- the resources' step emits a chunk of resources, the records' step all their records. Every chunk
-- of records pays a fixed cost for the view's large expression (~2.5 ms of spans), and every chunk
-- of resources holds a copy of its resources' records. One bound for both steps cannot serve both:
-- at 4 rows (a bound in bodies, before) a chunk was one scope's records (100 spans of a 500-span
-- request: 39.8 µs a span); at ~8,000 rows the resources' step copied every body of the insert at
-- once (14.3 µs a span, +60 MiB a lane at the peak). 16 resources a chunk: an SDK's requests (one
-- resource, up to 512 spans) are converted ~8,000 spans at a time, and 16 MiB of the benchmark's
-- (five resources of 1,000 spans) for +30 MiB a lane (docs/benchmarks.md). The queries are 014's
-- and 015's otherwise: the rows are the same (tests/storage/test_clickhouse_conversion.py).
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
    ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'][if(span.kind BETWEEN 0 AND 5, span.kind + 1, 1)]
        AS SpanKind,
    resource['service.name'] AS ServiceName,
    resource AS ResourceAttributes,
    ss.scope.name AS ScopeName,
    ss.scope.version AS ScopeVersion,
    attribute_maps[1] AS SpanAttributes,
    if(span.end_time_unix_nano > span.start_time_unix_nano, span.end_time_unix_nano - span.start_time_unix_nano, 0)
        AS Duration,
    ['Unset', 'Ok', 'Error'][if(span.status.code BETWEEN 0 AND 2, span.status.code + 1, 1)] AS StatusCode,
    span.status.message AS StatusMessage,
    arrayMap(e -> fromUnixTimestamp64Nano(toInt64(e.time_unix_nano)), span.events) AS `Events.Timestamp`,
    arrayMap(e -> e.name, span.events) AS `Events.Name`,
    arraySlice(attribute_maps, 2, length(span.events)) AS `Events.Attributes`,
    arrayMap(l -> hopscope_hex(l.trace_id), span.links) AS `Links.TraceId`,
    arrayMap(l -> hopscope_hex(l.span_id), span.links) AS `Links.SpanId`,
    arrayMap(l -> l.trace_state, span.links) AS `Links.TraceState`,
    arraySlice(attribute_maps, 2 + length(span.events), length(span.links)) AS `Links.Attributes`
FROM (
    SELECT hopscope_attributes(rs.resource.attributes) AS resource, rs.scope_spans AS scope_spans
    FROM otlp_traces_in ARRAY JOIN resource_spans AS rs
    SETTINGS max_block_size = 16
)
ARRAY JOIN scope_spans AS ss
ARRAY JOIN ss.spans AS span;

ALTER TABLE otlp_logs_in_mv MODIFY QUERY
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
    SETTINGS max_block_size = 16
)
ARRAY JOIN scope_logs AS sl
ARRAY JOIN sl.log_records AS record;
