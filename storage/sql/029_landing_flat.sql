-- The landing views flatten a request's spans or log records in one step, a chunk of whole requests
-- up to storage.otlp_schema.RECORDS_PER_BLOCK (~8,000) records at a time, whatever their resources.
-- Until now they took resources, then scopes, then records, each with an ARRAY JOIN, and ClickHouse
-- bounds the rows each ARRAY JOIN emits, never splitting one row's array: the resources' step needed a
-- bound of its own (16, migration 027) lest it copy every resource of an INSERT at once, and requests
-- of a few records a resource were then converted 16 resources at a time (50-span requests of five
-- resources: 150 spans a chunk, 40 µs a span against 15-17 now; 50-record log requests 28 µs against
-- 10). Now the resources' attribute maps, the scopes' fields and each record's resource and scope
-- (an index into those) are computed once a request, the records are taken with arrayFlatten (which
-- shares the decoded data, no copy) and one ARRAY JOIN emits them: the only copy is a chunk's own.
-- Scope attributes are converted once a scope rather than once a record. The rows are the same
-- (tests/storage/test_clickhouse_conversion.py; docs/benchmarks.md).
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
    resource_maps[resource_index]['service.name'] AS ServiceName,
    resource_maps[resource_index] AS ResourceAttributes,
    scope_names[scope_index] AS ScopeName,
    scope_versions[scope_index] AS ScopeVersion,
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
