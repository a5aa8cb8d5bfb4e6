-- OTLP decoded by ClickHouse itself (storage/inserter.py inserts request bodies as they came, format
-- Protobuf, with the schema of storage/otlp_schema.py). Each signal lands in a Null table whose
-- columns mirror its export request; a materialized view flattens it into the exporter's tables
-- with exactly the rows the Python conversion (storage/model/) writes. What SQL does not reproduce
-- (a value nested deeper than the schema unrolls, a repeated attribute key, a control character in
-- a nested string) stops the insert with HOPSCOPE_PYTHON_PATH: the inserter converts those records
-- in Python instead.

-- Doubles as Python writes them. ClickHouse's toString is the same shortest round trip as repr()
-- for every double from 1e-4 to 1e16 that is not integral; integral ones are written as integers at
-- the top level (storage.model.attributes.format_double) and as `N.0` inside JSON. The rest (below
-- 1e-4, integral from 2^63, exponent forms) take the Python conversion.
CREATE FUNCTION IF NOT EXISTS hopscope_double_text AS (x) ->
    multiIf(isNaN(x), 'NaN', isInfinite(x), if(x > 0, '+Inf', '-Inf'),
            x = trunc(x) AND abs(x) < 9.2e18, toString(toInt64(x)),
            throwIf(x = trunc(x) OR abs(x) < 1e-4, 'HOPSCOPE_PYTHON_PATH: a double SQL does not format') = 0, toString(x),
            '');
CREATE FUNCTION IF NOT EXISTS hopscope_double_json AS (x) ->
    multiIf(isNaN(x), '"NaN"', isInfinite(x), if(x > 0, '"+Inf"', '"-Inf"'),
            x = trunc(x) AND abs(x) < 1e16, toString(toInt64(x)) || '.0',
            throwIf(x = trunc(x) OR abs(x) < 1e-4, 'HOPSCOPE_PYTHON_PATH: a double SQL does not format') = 0, toString(x),
            '');

-- A string as a JSON string, as json.dumps(ensure_ascii=False) writes it. Control characters would
-- need \u escapes: values holding them take the Python conversion.
CREATE FUNCTION IF NOT EXISTS hopscope_json_string AS (s) ->
    if(throwIf(match(s, '[\\x00-\\x1f]'), 'HOPSCOPE_PYTHON_PATH: control character in a nested string') = 0,
       '"' || replaceAll(replaceAll(s, '\\', '\\\\'), '"', '\\"') || '"', '');

-- A scalar AnyValue as json.dumps writes it (unset: null).
CREATE FUNCTION IF NOT EXISTS hopscope_scalar_json AS (v) ->
    multiIf(tupleElement(v, 'k') = 's', hopscope_json_string(tupleElement(v, 's')),
            tupleElement(v, 'k') = 'i', toString(tupleElement(v, 'i')),
            tupleElement(v, 'k') = 'b', if(tupleElement(v, 'b'), 'true', 'false'),
            tupleElement(v, 'k') = 'd', hopscope_double_json(tupleElement(v, 'd')),
            tupleElement(v, 'k') = 'y', '"' || base64Encode(tupleElement(v, 'y')) || '"',
            tupleElement(v, 'k') = 'x', toString(tupleElement(v, 'x')),
            'null');

-- An array or key-value list as JSON from its elements already formatted (`parts`, each element's
-- JSON once: the expression stays linear in the depth), a scalar as hopscope_scalar_json.
CREATE FUNCTION IF NOT EXISTS hopscope_compose_json AS (v, parts, keys) ->
    if(tupleElement(v, 'k') IN ('a', 'l'),
       if(throwIf(arrayUniq(keys) != length(keys), 'HOPSCOPE_PYTHON_PATH: repeated key in a key-value list') = 0,
          if(tupleElement(v, 'k') = 'a', '[', '{')
              || arrayStringConcat(arrayMap((key, part) -> if(tupleElement(v, 'k') = 'l',
                                                            hopscope_json_string(key) || ':', '') || part,
                                            arrayResize(keys, length(parts)), parts), ',')
              || if(tupleElement(v, 'k') = 'a', ']', '}'),
          ''),
       hopscope_scalar_json(v));

-- An AnyValue nested 1 levels deep inside an attribute, as JSON. Deeper values take the Python conversion.
CREATE FUNCTION IF NOT EXISTS hopscope_any_json_1 AS (v) ->
    if(throwIf(tupleElement(v, 'k') IN ('a', 'l'),
               'HOPSCOPE_PYTHON_PATH: value nested deeper than 1 levels') = 0,
       hopscope_scalar_json(v), '');

-- An AnyValue nested 0 level(s) deep inside an attribute, as JSON: arrays and key-value lists format
-- their elements with one call to the next level (an array's values, else the list's values).
CREATE FUNCTION IF NOT EXISTS hopscope_any_json_0 AS (v) ->
    hopscope_compose_json(v, arrayMap(x -> hopscope_any_json_1(x),
        if(tupleElement(v, 'k') = 'a', tupleElement(tupleElement(v, 'a'), 'v'),
           arrayMap(kv -> tupleElement(kv, 'v'), tupleElement(tupleElement(v, 'l'), 'v')))),
        arrayMap(kv -> tupleElement(kv, 'k'), tupleElement(tupleElement(v, 'l'), 'v')));

-- An attribute value as text (storage.model.attributes.any_value_to_str).
CREATE FUNCTION IF NOT EXISTS hopscope_any_text AS (v) ->
    multiIf(tupleElement(v, 'k') = 's', tupleElement(v, 's'),
            tupleElement(v, 'k') = 'i', toString(tupleElement(v, 'i')),
            tupleElement(v, 'k') = 'b', if(tupleElement(v, 'b'), 'true', 'false'),
            tupleElement(v, 'k') = 'd', hopscope_double_text(tupleElement(v, 'd')),
            tupleElement(v, 'k') = 'y', base64Encode(tupleElement(v, 'y')),
            tupleElement(v, 'k') IN ('a', 'l'), hopscope_any_json_0(v),
            tupleElement(v, 'k') = 'x', toString(tupleElement(v, 'x')),
            '');

-- A repeated KeyValue as a map (storage.model.attributes.attributes_to_map).
CREATE FUNCTION IF NOT EXISTS hopscope_attributes AS (attrs) ->
    if(throwIf(arrayUniq(arrayMap(a -> tupleElement(a, 'k'), attrs)) != length(attrs),
               'HOPSCOPE_PYTHON_PATH: repeated attribute key') = 0,
       mapFromArrays(arrayMap(a -> tupleElement(a, 'k'), attrs), arrayMap(a -> hopscope_any_text(tupleElement(a, 'v')), attrs)),
       map());

-- An id as lowercase hex (bytes.hex()).
CREATE FUNCTION IF NOT EXISTS hopscope_hex AS (b) -> lower(hex(b));

CREATE TABLE IF NOT EXISTS otlp_traces_in (
    resource_spans Array(Tuple(
        resource Tuple(attributes {attributes}),
        scope_spans Array(Tuple(
            scope Tuple(name String, version String),
            spans Array(Tuple(
                trace_id String, span_id String, trace_state String, parent_span_id String, name String,
                kind Int32, start_time_unix_nano UInt64, end_time_unix_nano UInt64, attributes {attributes},
                events Array(Tuple(time_unix_nano UInt64, name String, attributes {attributes})),
                links Array(Tuple(trace_id String, span_id String, trace_state String, attributes {attributes})),
                status Tuple(message String, code Int32)))))))
) ENGINE = Null;

-- storage.model.traces.spans_to_batch, in SQL.
CREATE MATERIALIZED VIEW IF NOT EXISTS otlp_traces_in_mv TO otel_traces AS
WITH
    -- A span's attribute lists (its own, its events', its links') converted by one call: the view
    -- is analysed at every insert, and each expansion of hopscope_attributes costs ~25 ms of it.
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
)
ARRAY JOIN scope_spans AS ss
ARRAY JOIN ss.spans AS span;
