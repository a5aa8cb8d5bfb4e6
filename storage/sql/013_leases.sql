-- Leases for work that must run on exactly one collector at a time (service-map roll-up, alert
-- evaluation and delivery): the newest version of a lease names its holder and until when it holds.
CREATE TABLE IF NOT EXISTS hopscope_leases (
    Name String,
    Version UInt64,
    Holder String,
    ExpiresAt DateTime64(3)
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Name;
