-- A trace by id without the day's bloom filters. Spans are sorted by service, operation and time
-- (the exporter's key), so one trace's spans lie in a granule here and there: finding them checked
-- the TraceId bloom filter of every granule of the trace's day(s). A lightweight projection keeps
-- only TraceId and each row's position (_part_offset), sorted by TraceId: a binary search per part
-- names the granules to read (storage.trace_reader reads a trace with use_skip_indexes = 0 so that
-- ClickHouse takes it). Built on every insert and merge from now on; parts written before are
-- rebuilt by the MATERIALIZE below, a mutation ClickHouse runs in the background.
ALTER TABLE otel_traces ADD PROJECTION IF NOT EXISTS trace_id_order (SELECT _part_offset ORDER BY TraceId);
ALTER TABLE otel_traces MATERIALIZE PROJECTION trace_id_order;
