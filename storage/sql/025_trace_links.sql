-- Traces that link to a trace (a consumer's span links to the producer's span that sent the
-- message): the trace detail asks for them on every lookup. Finding them read the Links.TraceId
-- bloom filter of every granule within an hour of the trace, ~14,000 rows and ~4 ms of CPU a lookup
-- at 10 M spans, whether any trace linked to it or not. Here each link is one row, sorted by the
-- trace it links to: a binary search. Written by the view on every insert into otel_traces (both
-- conversions land there); links stored before are copied once below (the view runs first, so a span
-- stored meanwhile is at worst copied twice, and readers take distinct traces).
CREATE TABLE IF NOT EXISTS otel_traces_links (
    LinkedTraceId String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    Timestamp DateTime64(9) CODEC(Delta, ZSTD(1))
) ENGINE = MergeTree
PARTITION BY toDate(Timestamp)
ORDER BY (LinkedTraceId, Timestamp)
TTL toDateTime(Timestamp) + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS otel_traces_links_mv TO otel_traces_links AS
SELECT LinkedTraceId, TraceId, Timestamp
FROM otel_traces ARRAY JOIN Links.TraceId AS LinkedTraceId
WHERE LinkedTraceId != '';

INSERT INTO otel_traces_links (LinkedTraceId, TraceId, Timestamp)
SELECT LinkedTraceId, TraceId, Timestamp
FROM otel_traces ARRAY JOIN Links.TraceId AS LinkedTraceId
WHERE LinkedTraceId != '';

-- Migration 018's bloom filter served only the query this table replaces.
ALTER TABLE otel_traces DROP INDEX IF EXISTS idx_link_trace_id;
