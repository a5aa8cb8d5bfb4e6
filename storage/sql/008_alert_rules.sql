-- Alert rules created through the API (rules from the YAML file live in the file). Every change is
-- a new version; the newest version of a name wins; a deleted rule is a version with Deleted = 1.
CREATE TABLE IF NOT EXISTS hopscope_alert_rules (
    Name String,
    Version UInt64,
    Deleted UInt8,
    Body String,
    UpdatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Name;
