-- The HTTP status of a span as a number, so failure analysis reads neither attribute map.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS HopscopeHttpStatus UInt16 MATERIALIZED
    greatest(toUInt16OrZero(SpanAttributes['http.response.status_code']), toUInt16OrZero(SpanAttributes['http.status_code']));
