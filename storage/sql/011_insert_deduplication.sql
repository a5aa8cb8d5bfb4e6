-- The inserter moves the write-ahead log into these tables with insert deduplication tokens
-- (storage/inserter.py): inserting a segment again after a crash must store nothing twice.
-- Non-replicated MergeTree deduplicates only within this window of recent inserts; replicated
-- tables do it by default. The trace-id lookup table is deduplicated with the view's insert.
ALTER TABLE otel_traces MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_traces_trace_id_ts MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_logs MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_gauge MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_sum MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_histogram MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_exp_histogram MODIFY SETTING non_replicated_deduplication_window = 10000;
ALTER TABLE otel_metrics_summary MODIFY SETTING non_replicated_deduplication_window = 10000;
