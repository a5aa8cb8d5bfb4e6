"""Ingest: a decoded OTLP export request becomes rows ready for the writer.

The collector hands over a decoded `Export…ServiceRequest` and a signal name (`traces`, `logs`,
`metrics`) and gets back `Rows`: the records refused one by one (partial success) and encoded
blocks for `BatchWriter.submit`. Which tables, columns and encodings those are is storage's
business alone.

`RowEncoder` needs no connection, only the tables' column types read once at start, so it runs
wherever the CPU is free: in the collector's worker processes (it pickles small) or its threads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from storage.batch import ColumnBatch
from storage.errors import RejectedData
from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.attributes import Rejections
from storage.model.metrics import METRIC_COLUMNS
from storage.native import NativeBlock, NativeEncoder, TableSchema, read_schema

SIGNALS = ("traces", "logs", "metrics")
_TABLES = ["otel_traces", "otel_logs", *METRIC_COLUMNS]


def _single(convert: Callable[[object], tuple[ColumnBatch, Rejections]]):
    def wrapped(message) -> tuple[list[ColumnBatch], Rejections]:
        batch, rejected = convert(message)
        return [batch], rejected

    return wrapped


_CONVERTERS: dict[str, Callable[[object], tuple[list[ColumnBatch], Rejections]]] = {
    "traces": _single(spans_to_batch),
    "logs": _single(logs_to_batch),
    "metrics": metrics_to_batches,
}


@dataclass(frozen=True)
class Rows:
    """What one export request becomes: blocks for `BatchWriter.submit`, and how many records
    were refused one by one (with the first reasons) for the response's partial success."""

    blocks: list[NativeBlock]
    rejected: int
    message: str

    @property
    def count(self) -> int:
        return sum(block.rows for block in self.blocks)


class RowEncoder:
    """Converts decoded export requests to Rows. Thread-safe; pickles as its tables' column types."""

    def __init__(self, schema: TableSchema) -> None:
        self._schema = schema
        self._encoder = NativeEncoder(schema)

    def __reduce__(self):
        return (RowEncoder, (self._schema,))

    def rows(self, signal: str, message) -> Rows:
        """RejectedData when the request holds values the tables cannot store."""
        batches, rejected = _CONVERTERS[signal](message)
        try:
            blocks = [self._encoder.encode(batch) for batch in batches if batch.rows]
        except (ValueError, OverflowError, TypeError) as exc:
            # The converters refuse what they know to be unstorable; anything they missed is still
            # the sender's data: refused for this request, never an error of the collector.
            raise RejectedData(f"request holds values ClickHouse cannot store: {exc}") from exc
        return Rows(blocks, rejected.count, rejected.message)


def row_encoder(client: Client) -> RowEncoder:
    """An encoder for the telemetry tables as they are in the store (after migrations)."""
    return RowEncoder(read_schema(client, _TABLES))
