"""OTLP protobuf messages to columnar rows of the `otel_*` tables, written the way the
OpenTelemetry Collector ClickHouse exporter writes them (hex ids, kind and status names, every
attribute value as a string). Conversion in both directions lives here and nowhere else."""

from storage.model.logs import logs_to_batch
from storage.model.metrics import metrics_to_batches
from storage.model.traces import spans_to_batch

__all__ = ["logs_to_batch", "metrics_to_batches", "spans_to_batch"]
