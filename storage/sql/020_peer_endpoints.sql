-- Naming the service behind an address: a client span that says only "127.0.0.1:42707" was calling
-- whichever service serves that address (analysis.chains states the same rules).

-- What a client or producer span called: as migration 004, but an address keeps its port
-- (server.address with server.port, net.peer.name with net.peer.port), so it can be matched.
ALTER TABLE otel_traces MODIFY COLUMN HopscopePeer LowCardinality(String) MATERIALIZED
    if(SpanKind NOT IN ('Client', 'Producer'), '', multiIf(
        SpanAttributes['db.system'] != '', SpanAttributes['db.system'],
        SpanAttributes['messaging.destination.name'] != '', SpanAttributes['messaging.destination.name'],
        SpanAttributes['peer.service'] != '', SpanAttributes['peer.service'],
        SpanAttributes['server.address'] != '',
            concat(SpanAttributes['server.address'], if(SpanAttributes['server.port'] != '', concat(':', SpanAttributes['server.port']), '')),
        SpanAttributes['net.peer.name'] != '',
            concat(SpanAttributes['net.peer.name'], if(SpanAttributes['net.peer.port'] != '', concat(':', SpanAttributes['net.peer.port']), '')),
        SpanAttributes['url.full'] != '', netloc(SpanAttributes['url.full']),
        SpanAttributes['http.url'] != '', netloc(SpanAttributes['http.url']), 'unknown'));

-- The addresses a server span was reached at (host:port as its clients name it): the Host header
-- (http.host), server.address with server.port, net.host.name with net.host.port, the URL's netloc.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS HopscopeEndpoints Array(String) MATERIALIZED
    if(SpanKind != 'Server', [], arrayDistinct(arrayFilter(x -> x != '' AND x != ':', [
        SpanAttributes['http.host'],
        if(SpanAttributes['server.address'] != '',
           concat(SpanAttributes['server.address'], if(SpanAttributes['server.port'] != '', concat(':', SpanAttributes['server.port']), '')), ''),
        if(SpanAttributes['net.host.name'] != '',
           concat(SpanAttributes['net.host.name'], if(SpanAttributes['net.host.port'] != '', concat(':', SpanAttributes['net.host.port']), '')), ''),
        netloc(SpanAttributes['url.full']),
        netloc(SpanAttributes['http.url'])])));

-- Which service answered at each address, and when last: a handful of rows kept up by a view on
-- every span insert, whoever writes.
CREATE TABLE IF NOT EXISTS hopscope_endpoints (
    Endpoint String,
    ServiceName LowCardinality(String),
    LastSeen SimpleAggregateFunction(max, DateTime)
) ENGINE = AggregatingMergeTree
ORDER BY (Endpoint, ServiceName)
TTL LastSeen + toIntervalDay({ttl_days});

CREATE MATERIALIZED VIEW IF NOT EXISTS hopscope_endpoints_mv
TO hopscope_endpoints
AS SELECT
    arrayJoin(HopscopeEndpoints) AS Endpoint,
    ServiceName,
    max(toDateTime(Timestamp)) AS LastSeen
FROM otel_traces
WHERE SpanKind = 'Server'
GROUP BY Endpoint, ServiceName;

-- A chain that is a symptom of another chain of the same trace (a client that lost its connection
-- to the service where that other chain starts): the signature of that chain, else empty.
ALTER TABLE hopscope_failure_chains ADD COLUMN IF NOT EXISTS SymptomOf String DEFAULT '' CODEC(ZSTD(1));
