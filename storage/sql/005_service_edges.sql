-- The service map, rolled up per minute by the collector (storage.service_reader.rollup_edges):
-- a 24-hour map then reads ~1,440 small rows per edge instead of joining millions of spans.
CREATE TABLE IF NOT EXISTS hopscope_service_edges (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    Caller LowCardinality(String),
    Callee LowCardinality(String),
    CalleeType LowCardinality(String),
    Calls SimpleAggregateFunction(sum, UInt64),
    Errors SimpleAggregateFunction(sum, UInt64),
    Latency AggregateFunction(quantiles(0.5, 0.95), UInt64)
) ENGINE = AggregatingMergeTree
PARTITION BY toDate(Minute)
ORDER BY (Minute, Caller, Callee, CalleeType)
TTL Minute + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1;
