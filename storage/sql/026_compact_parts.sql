-- Span parts up to 128 MiB (uncompressed) written in the compact format: all columns in one file
-- instead of two files per column stream. A span's wide part has ~150 files (each map, nested array
-- and LowCardinality column is several streams), so one insert created ~200 files with its side
-- tables' parts, and creating files was a fifth of an insert's CPU on a busy file system
-- (docs/benchmarks.md). Inserts (24 MiB of OTLP is ~30 MiB of columns) and the first merges stay
-- compact; larger merged parts are wide as before. A trace lookup reads whole granules of every
-- column, which a compact part keeps together. Not the log records: their compact parts made a log
-- search 16 % slower (a scan of one column) for ~5 % more records a second; nor the metric tables:
-- theirs raised a burst's peak memory by ~150 MiB (over 1 GiB). Applies to parts written from now on.
ALTER TABLE otel_traces MODIFY SETTING min_bytes_for_wide_part = 134217728;
