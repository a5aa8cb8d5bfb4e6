-- The alert evaluator's state (one versioned JSON row), the notification outbox (a row per
-- notification and channel, versioned as its delivery progresses) and every delivery attempt.
CREATE TABLE IF NOT EXISTS hopscope_alert_state (
    Id UInt8,
    Version UInt64,
    Body String
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Id;

CREATE TABLE IF NOT EXISTS hopscope_alert_outbox (
    Id String,
    Version UInt64,
    NotificationId String,
    Channel String,
    Rule String,
    Kind LowCardinality(String),
    Body String,
    Status LowCardinality(String),
    Attempts UInt32,
    NextAttemptAt DateTime64(3),
    CreatedAt DateTime64(3),
    LastStatus UInt16,
    LastError String
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Id;

CREATE TABLE IF NOT EXISTS hopscope_alert_attempts (
    Id String,
    Attempt UInt32,
    At DateTime64(3),
    HttpStatus UInt16,
    Error String,
    Milliseconds Float64
) ENGINE = MergeTree
ORDER BY (Id, Attempt);
