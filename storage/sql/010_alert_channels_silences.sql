-- Notification channels and silences created through the API, versioned like alert rules.
CREATE TABLE IF NOT EXISTS hopscope_alert_channels (
    Name String,
    Version UInt64,
    Deleted UInt8,
    Body String,
    UpdatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Name;

CREATE TABLE IF NOT EXISTS hopscope_alert_silences (
    Name String,
    Version UInt64,
    Deleted UInt8,
    Body String,
    UpdatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Name;
