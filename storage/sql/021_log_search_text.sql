-- What log search looks in: the body and the values of the record's attributes (an exception's
-- message is often only in `exception.message`), not its stack trace. Token-indexed like the body.
ALTER TABLE otel_logs ADD COLUMN IF NOT EXISTS HopscopeText String MATERIALIZED
    concat(Body, '\n', arrayStringConcat(mapValues(mapFilter((k, v) -> k != 'exception.stacktrace', LogAttributes)), '\n'))
    CODEC(ZSTD(1));

ALTER TABLE otel_logs ADD INDEX IF NOT EXISTS idx_text HopscopeText TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8;
