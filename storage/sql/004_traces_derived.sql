-- Derived columns hopscope's queries read instead of the attribute maps. MATERIALIZED: computed by
-- ClickHouse on every insert, whoever writes (hopscope or the OpenTelemetry Collector's exporter),
-- computed on the fly for parts written before this migration, and left out of SELECT *.

-- A span failed (analysis.chains.is_failed states the same rule): status Error; or, unless the
-- status says Ok, a server span with HTTP status >= 500 or a recorded exception event.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS HopscopeFailed UInt8 MATERIALIZED
    StatusCode = 'Error' OR (StatusCode != 'Ok' AND (
        (SpanKind = 'Server' AND greatest(toUInt16OrZero(SpanAttributes['http.response.status_code']),
                                          toUInt16OrZero(SpanAttributes['http.status_code'])) >= 500)
        OR has(Events.Name, 'exception')));

-- What a client or producer span called, when no instrumented service answered it.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS HopscopePeer LowCardinality(String) MATERIALIZED
    if(SpanKind NOT IN ('Client', 'Producer'), '', multiIf(
        SpanAttributes['db.system'] != '', SpanAttributes['db.system'],
        SpanAttributes['messaging.destination.name'] != '', SpanAttributes['messaging.destination.name'],
        SpanAttributes['peer.service'] != '', SpanAttributes['peer.service'],
        SpanAttributes['server.address'] != '', SpanAttributes['server.address'],
        SpanAttributes['net.peer.name'] != '', SpanAttributes['net.peer.name'],
        SpanAttributes['url.full'] != '', netloc(SpanAttributes['url.full']),
        SpanAttributes['http.url'] != '', netloc(SpanAttributes['http.url']), 'unknown'));

ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS HopscopePeerType LowCardinality(String) MATERIALIZED
    multiIf(SpanKind NOT IN ('Client', 'Producer'), '', SpanAttributes['db.system'] != '', 'database',
            SpanAttributes['messaging.destination.name'] != '' OR SpanKind = 'Producer', 'queue', 'external');
