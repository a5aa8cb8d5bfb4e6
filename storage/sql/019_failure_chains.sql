-- Failure chains as analysed, one row per chain (a row with an empty Signature: the trace had none),
-- every row of one analysis of a trace sharing its AnalyzedAt. A trace is analysed once it looks
-- complete, and again when more of its spans arrive (Spans changed); readers take each trace's
-- latest analysis. /failures and alerting aggregate these rows: exact counts for any number of
-- failing traces (diagnosis.analyzer writes them).
CREATE TABLE IF NOT EXISTS hopscope_failure_chains (
    TraceId String CODEC(ZSTD(1)),
    AnalyzedAt DateTime64(3) CODEC(Delta, ZSTD(1)),
    Spans UInt32,
    LastSpan DateTime64(9) CODEC(Delta, ZSTD(1)),
    Signature String CODEC(ZSTD(1)),
    EntryStart DateTime64(9) CODEC(Delta, ZSTD(1)),
    Propagated UInt8,
    Attempts UInt16,
    EntryService LowCardinality(String),
    EntryOperation LowCardinality(String),
    Services Array(LowCardinality(String)),
    Version LowCardinality(String),
    CauseService LowCardinality(String),
    CauseOperation LowCardinality(String),
    CauseSelfNs UInt64,
    CauseShare Float32,
    Chain String CODEC(ZSTD(3))
) ENGINE = MergeTree
PARTITION BY toDate(LastSpan)
ORDER BY (LastSpan, TraceId)
TTL toDateTime(LastSpan) + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1;

-- Analyses replaced by a newer one of the same trace (few: only traces whose late spans changed
-- them); readers leave their rows out.
CREATE TABLE IF NOT EXISTS hopscope_failure_chains_superseded (
    TraceId String CODEC(ZSTD(1)),
    AnalyzedAt DateTime64(3),
    LastSpan DateTime64(9)
) ENGINE = MergeTree
PARTITION BY toDate(LastSpan)
ORDER BY (LastSpan, TraceId)
TTL toDateTime(LastSpan) + toIntervalDay({ttl_days})
SETTINGS ttl_only_drop_parts = 1;
