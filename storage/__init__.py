"""ClickHouse storage for hopscope: connection, schema migrations, OTLP-to-row conversion and the
write-ahead log and its inserter. Every line of SQL in the project lives in this package."""
