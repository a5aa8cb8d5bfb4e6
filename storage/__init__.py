"""ClickHouse storage for hopscope: connection, schema migrations, OTLP-to-row conversion and the
batch writer. Every line of SQL in the project lives in this package."""
