"""Ingest: a decoded OTLP export request becomes rows ready for the write-ahead log.

The collector hands over a decoded `Export…ServiceRequest` and a signal name (`traces`, `logs`,
`metrics`) and gets back `Rows`: the records refused one by one (partial success) and encoded
blocks for `Store.accept`. Which tables, columns and encodings those are is storage's
business alone.

Two ways to rows. For the signals ClickHouse converts itself (those with a check), the request
is only checked (records refused one by one are taken out of it) and kept as its protobuf body, for
a landing table whose materialized view writes the rows (migration 014): a few microseconds of
Python per record. The others, and the few requests SQL does not reproduce exactly (the inserter
sends those back here, `python_blocks`), are converted in Python (storage.model) and Native-encoded.

`RowEncoder` needs no connection, only the tables' column types read once at start, so it runs
wherever the CPU is free: in the collector's worker processes (it pickles small) or its threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from storage.batch import Block, ColumnBatch
from storage.errors import RejectedData
from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.attributes import Rejections, TimeWindow
from storage.model.logs import drop_invalid_records
from storage.model.metrics import METRIC_COLUMNS, drop_invalid_points
from storage.model.traces import drop_invalid_spans
from storage.native import NativeEncoder, TableSchema, read_schema
from storage.otlp_schema import LANDING_TABLES, REQUEST_CLASSES, SIGNAL_OF_LANDING, delimited, undelimited

SIGNALS = ("traces", "logs", "metrics")
_TABLES = ["otel_traces", "otel_logs", *METRIC_COLUMNS]


Converter = Callable[[object, TimeWindow | None], tuple[list[ColumnBatch], Rejections]]


def _single(convert: Callable[[object, TimeWindow | None], tuple[ColumnBatch, Rejections]]) -> Converter:
    def wrapped(message, window: TimeWindow | None) -> tuple[list[ColumnBatch], Rejections]:
        batch, rejected = convert(message, window)
        return [batch], rejected

    return wrapped


# Signal -> the check that takes refused records out of a request (in place) and counts what is left.
_CHECKS: dict[str, Callable[[object, TimeWindow | None], tuple[int, Rejections]]] = {
    "traces": drop_invalid_spans,
    "logs": drop_invalid_records,
    "metrics": drop_invalid_points,
}

_CONVERTERS: dict[str, Converter] = {
    "traces": _single(spans_to_batch),
    "logs": _single(logs_to_batch),
    "metrics": metrics_to_batches,
}


@dataclass(frozen=True)
class Rows:
    """What one export request becomes: blocks for `Store.accept`, and how many records
    were refused one by one (with the first reasons) for the response's partial success."""

    blocks: list[Block]
    rejected: int
    message: str

    @property
    def count(self) -> int:
        return sum(block.rows for block in self.blocks)


class RowEncoder:
    """Turns decoded export requests into Rows. Thread-safe; pickles as its tables' column types,
    the retention (records older than it, or more than a day ahead, are refused one by one) and
    whether ClickHouse converts the signals it can (`clickhouse_converts`; False: Python does all)."""

    def __init__(self, schema: TableSchema, retention_days: int = 7, clickhouse_converts: bool = True) -> None:
        self._schema = schema
        self._retention_days = retention_days
        self._clickhouse_converts = clickhouse_converts
        self._encoder = NativeEncoder(schema)

    def __reduce__(self):
        return (RowEncoder, (self._schema, self._retention_days, self._clickhouse_converts))

    def rows(self, signal: str, message, now_ns: int | None = None, body: bytes | None = None) -> Rows:
        """`body`, when given, is `message` as it came on the wire (it is stored as it is unless
        records had to be taken out). RejectedData when the request holds values the tables cannot
        store."""
        window = TimeWindow.around(now_ns or time.time_ns(), self._retention_days)
        if self._clickhouse_converts and signal in _CHECKS:
            kept, rejected = _CHECKS[signal](message, window)
            if not kept:
                return Rows([], rejected.count, rejected.message)
            if rejected.count or body is None:
                body = message.SerializeToString()
            block = Block(LANDING_TABLES[signal], (), kept, delimited(body), "Protobuf")
            return Rows([block], rejected.count, rejected.message)
        return self._python_rows(signal, message, window)

    def python_blocks(self, block: Block) -> list[Block]:
        """The Native blocks for a landing-table block (one request's body), converted in Python: for
        what SQL does not reproduce. Its records were checked when it was accepted."""
        signal = SIGNAL_OF_LANDING[block.table]
        message = REQUEST_CLASSES[signal].FromString(undelimited(block.data))
        return self._python_rows(signal, message, None).blocks

    def _python_rows(self, signal: str, message, window: TimeWindow | None) -> Rows:
        batches, rejected = _CONVERTERS[signal](message, window)
        try:
            blocks = [self._encoder.encode(batch) for batch in batches if batch.rows]
        except (ValueError, OverflowError, TypeError) as exc:
            # The converters refuse what they know to be unstorable; anything they missed is still
            # the sender's data: refused for this request, never an error of the collector.
            raise RejectedData(f"request holds values ClickHouse cannot store: {exc}") from exc
        return Rows(blocks, rejected.count, rejected.message)


def row_encoder(client: Client, retention_days: int, clickhouse_converts: bool = True) -> RowEncoder:
    """An encoder for the telemetry tables as they are in the store (after migrations)."""
    return RowEncoder(read_schema(client, _TABLES), retention_days, clickhouse_converts)
