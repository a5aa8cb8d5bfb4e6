"""Ingest: a decoded OTLP export request becomes rows ready for the write-ahead log.

The collector hands over a decoded `Export…ServiceRequest` and a signal name (`traces`, `logs`,
`metrics`) and gets back `Rows`: the records refused one by one (partial success) and encoded
blocks for `Store.accept`. Which tables, columns and encodings those are is storage's
business alone.

`RowEncoder` needs no connection, only the tables' column types read once at start, so it runs
wherever the CPU is free: in the collector's worker processes (it pickles small) or its threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from storage.batch import ColumnBatch
from storage.errors import RejectedData
from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.attributes import Rejections, TimeWindow
from storage.model.metrics import METRIC_COLUMNS
from storage.native import NativeBlock, NativeEncoder, TableSchema, read_schema

SIGNALS = ("traces", "logs", "metrics")
_TABLES = ["otel_traces", "otel_logs", *METRIC_COLUMNS]


Converter = Callable[[object, TimeWindow | None], tuple[list[ColumnBatch], Rejections]]


def _single(convert: Callable[[object, TimeWindow | None], tuple[ColumnBatch, Rejections]]) -> Converter:
    def wrapped(message, window: TimeWindow | None) -> tuple[list[ColumnBatch], Rejections]:
        batch, rejected = convert(message, window)
        return [batch], rejected

    return wrapped


_CONVERTERS: dict[str, Converter] = {
    "traces": _single(spans_to_batch),
    "logs": _single(logs_to_batch),
    "metrics": metrics_to_batches,
}


@dataclass(frozen=True)
class Rows:
    """What one export request becomes: blocks for `Store.accept`, and how many records
    were refused one by one (with the first reasons) for the response's partial success."""

    blocks: list[NativeBlock]
    rejected: int
    message: str

    @property
    def count(self) -> int:
        return sum(block.rows for block in self.blocks)


class RowEncoder:
    """Converts decoded export requests to Rows. Thread-safe; pickles as its tables' column types
    and the retention (records older than it, or more than a day ahead, are refused one by one)."""

    def __init__(self, schema: TableSchema, retention_days: int = 7) -> None:
        self._schema = schema
        self._retention_days = retention_days
        self._encoder = NativeEncoder(schema)

    def __reduce__(self):
        return (RowEncoder, (self._schema, self._retention_days))

    def rows(self, signal: str, message, now_ns: int | None = None) -> Rows:
        """RejectedData when the request holds values the tables cannot store."""
        window = TimeWindow.around(now_ns or time.time_ns(), self._retention_days)
        batches, rejected = _CONVERTERS[signal](message, window)
        try:
            blocks = [self._encoder.encode(batch) for batch in batches if batch.rows]
        except (ValueError, OverflowError, TypeError) as exc:
            # The converters refuse what they know to be unstorable; anything they missed is still
            # the sender's data: refused for this request, never an error of the collector.
            raise RejectedData(f"request holds values ClickHouse cannot store: {exc}") from exc
        return Rows(blocks, rejected.count, rejected.message)


def row_encoder(client: Client, retention_days: int) -> RowEncoder:
    """An encoder for the telemetry tables as they are in the store (after migrations)."""
    return RowEncoder(read_schema(client, _TABLES), retention_days)
