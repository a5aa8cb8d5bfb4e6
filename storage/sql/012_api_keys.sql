-- API keys created at run time (`hopscope keys create`, POST /api/v1/keys), versioned like alert
-- rules: the body holds the key's id, name, scopes, SHA-256 hash (never the key), creation,
-- revocation and last-use times.
CREATE TABLE IF NOT EXISTS hopscope_api_keys (
    Name String,
    Version UInt64,
    Deleted UInt8,
    Body String,
    UpdatedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree(Version)
ORDER BY Name;
