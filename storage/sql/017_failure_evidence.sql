-- Failure evidence beyond the span status (analysis.chains states the same rules).

-- The gRPC status code of a span (-1: none), so failure analysis reads no attribute map.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS HopscopeGrpcStatus Int16 MATERIALIZED
    if(match(SpanAttributes['rpc.grpc.status_code'], '^[0-9]{1,4}$'), toInt16OrZero(SpanAttributes['rpc.grpc.status_code']), -1);

-- A span failed: status Error; or, unless the status says Ok, a server span with HTTP status >= 500
-- or a gRPC code the conventions count as a server error, a client span with HTTP status >= 400 or
-- any gRPC code but OK, or a recorded exception event. Parts written before this migration keep the
-- values computed by migration 004's rule; new parts get this one.
ALTER TABLE otel_traces MODIFY COLUMN HopscopeFailed UInt8 MATERIALIZED
    StatusCode = 'Error' OR (StatusCode != 'Ok' AND (
        (SpanKind = 'Server' AND (
            greatest(toUInt16OrZero(SpanAttributes['http.response.status_code']), toUInt16OrZero(SpanAttributes['http.status_code'])) >= 500
            OR (match(SpanAttributes['rpc.grpc.status_code'], '^[0-9]{1,4}$')
                AND toInt16OrZero(SpanAttributes['rpc.grpc.status_code']) IN (2, 4, 12, 13, 14, 15))))
        OR (SpanKind = 'Client' AND (
            greatest(toUInt16OrZero(SpanAttributes['http.response.status_code']), toUInt16OrZero(SpanAttributes['http.status_code'])) >= 400
            OR (match(SpanAttributes['rpc.grpc.status_code'], '^[0-9]{1,4}$')
                AND toInt16OrZero(SpanAttributes['rpc.grpc.status_code']) > 0)))
        OR has(Events.Name, 'exception')));

-- When each version of each service was first and last seen (deploy onset): a handful of rows,
-- kept up by a view on every span insert, whoever writes. Versions are known from this migration on.
CREATE TABLE IF NOT EXISTS hopscope_service_versions (
    ServiceName LowCardinality(String),
    Version String,
    Environment LowCardinality(String),
    FirstSeen SimpleAggregateFunction(min, DateTime64(9)),
    LastSeen SimpleAggregateFunction(max, DateTime64(9)),
    Spans SimpleAggregateFunction(sum, UInt64)
) ENGINE = AggregatingMergeTree
ORDER BY (ServiceName, Version, Environment);

CREATE MATERIALIZED VIEW IF NOT EXISTS hopscope_service_versions_mv
TO hopscope_service_versions
AS SELECT
    ServiceName,
    ResourceAttributes['service.version'] AS Version,
    if(ResourceAttributes['deployment.environment.name'] != '', ResourceAttributes['deployment.environment.name'],
       ResourceAttributes['deployment.environment']) AS Environment,
    min(Timestamp) AS FirstSeen,
    max(Timestamp) AS LastSeen,
    count() AS Spans
FROM otel_traces
GROUP BY ServiceName, Version, Environment;
