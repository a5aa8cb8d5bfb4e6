-- A trace's logs by id without its bounds. The trace detail read the trace's first and last span
-- from the lookup table, then the logs within them through the TraceId bloom filter of every
-- granule of those days. The same lightweight projection as otel_traces' (migration 022: TraceId
-- and each row's position, sorted by TraceId) names the granules with a binary search per part, so
-- the logs are read at once with the spans, without the bounds query (storage.log_reader). Parts
-- written before are rebuilt by the MATERIALIZE below, in the background.
ALTER TABLE otel_logs ADD PROJECTION IF NOT EXISTS trace_id_order (SELECT _part_offset ORDER BY TraceId);
ALTER TABLE otel_logs MATERIALIZE PROJECTION trace_id_order;
