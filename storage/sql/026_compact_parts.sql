-- Span parts written by an insert in the compact format: all columns in one file instead of two
-- files per column stream. A span's wide part has ~150 files (each map, nested array and
-- LowCardinality column is several streams), so one insert created ~200 files with its side tables'
-- parts, and creating files was a fifth of an insert's CPU on ext4 without a journal
-- (docs/benchmarks.md). Parts made by merges (level 1 and up) are wide from 10 MiB as before:
-- reading a few columns of many rows (a service's rate, errors and durations; a search) took up to
-- half as long again from compact parts. Applies to parts written from now on.
ALTER TABLE otel_traces MODIFY SETTING min_level_for_wide_part = 1;
