"""The hopscope collector: OTLP receivers over HTTP, wired to the ClickHouse storage."""
