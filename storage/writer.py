"""The batch writer: group commit of encoded rows into ClickHouse.

Callers (the OTLP receivers) hand over Native-format blocks with `submit()` and wait on the
returned future; a single background thread gathers everything submitted within
`flush_interval` seconds (or until `max_batch_rows` rows are waiting) and writes it with one
insert per table (the blocks of a table are concatenated into one Native stream). A caller's future
completes only after all of its rows are in ClickHouse, so acknowledging on it is acknowledging
durable data, and thousands of rows share each insert however small the requests are.

Memory is bounded: rows waiting or being written count against `max_queued_rows`, and a
submit that does not fit raises QueueFull at once instead of waiting.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

from clickhouse_connect.driver.client import Client

from core.periodic import PeriodicThread
from storage.errors import QueueFull, StorageUnavailable, WriterClosed
from storage.native import NativeBlock

log = logging.getLogger(__name__)


@dataclass
class WriterStats:
    """Counters since start; read them through `BatchWriter.stats()` (a consistent copy)."""

    flushes: int = 0
    inserts: int = 0
    rows_written: int = 0
    failed_inserts: int = 0
    rows_failed: int = 0
    rejected_queue_full: int = 0
    queued_rows: int = 0


@dataclass
class _Pending:
    """The blocks waiting for one INSERT: one table, one column list."""

    blocks: list[bytes] = field(default_factory=list)
    rows: int = 0


@dataclass
class _Cycle:
    inserts: dict[tuple[str, tuple[str, ...]], _Pending] = field(default_factory=dict)
    waiters: list[tuple[Future, frozenset[str]]] = field(default_factory=list)
    rows: int = 0
    started: float = 0.0


class BatchWriter:
    """Thread-safe group-commit writer. Use `start()` once, `submit()` from any thread, `close()` once.

    `submit()` never waits for ClickHouse. Its future resolves to None when the rows are written,
    or fails with StorageUnavailable (nothing of that table's rows was written by this flush; the
    caller should answer "retry").
    """

    def __init__(
        self,
        client: Client,
        *,
        flush_interval: float = 1.0,
        max_batch_rows: int = 20_000,
        max_queued_rows: int = 500_000,
    ) -> None:
        self._client = client
        self._flush_interval = flush_interval
        self._max_batch_rows = max_batch_rows
        self._max_queued_rows = max_queued_rows
        self._lock = threading.Lock()
        self._pending = _Cycle()
        self._closing = False
        self._draining = False
        self._stats = WriterStats()
        self._thread = PeriodicThread("hopscope-writer", self._tick, flush_interval)

    def start(self) -> None:
        self._thread.start()

    def stats(self) -> WriterStats:
        with self._lock:
            return WriterStats(**vars(self._stats))

    def submit(self, blocks: Iterable[NativeBlock]) -> Future:
        """Queue the rows of `blocks` (any tables) as one unit; see the class docstring."""
        blocks = [b for b in blocks if b.rows]
        future: Future = Future()
        if not blocks:
            future.set_result(None)
            return future
        count = sum(b.rows for b in blocks)
        with self._lock:
            if self._closing:
                raise WriterClosed("the writer is shutting down")
            queued = self._stats.queued_rows
            # A request larger than the whole queue is still taken when the queue is empty;
            # otherwise it could never be stored. The body size limit bounds it.
            if queued and queued + count > self._max_queued_rows:
                self._stats.rejected_queue_full += 1
                raise QueueFull(f"{queued} rows are waiting to be written; limit {self._max_queued_rows}")
            cycle = self._pending
            if not cycle.waiters:
                cycle.started = time.monotonic()
                self._thread.wake()  # a new batch: its flush is due in flush_interval
            for block in blocks:
                pending = cycle.inserts.setdefault((block.table, block.columns), _Pending())
                pending.blocks.append(block.data)
                pending.rows += block.rows
            cycle.waiters.append((future, frozenset(b.table for b in blocks)))
            cycle.rows += count
            self._stats.queued_rows += count
            if cycle.rows >= self._max_batch_rows or self._draining:
                self._thread.wake()
        return future

    def drain(self) -> None:
        """Stop lingering: write what waits now, and every later submit at once, until close().

        Called when shutdown begins, so requests still waiting for their flush are answered
        before the server stops waiting for them."""
        with self._lock:
            self._draining = True
        self._thread.wake()

    def close(self, timeout: float = 60.0) -> None:
        """Write everything already submitted, then stop. Later submits raise WriterClosed."""
        with self._lock:
            self._closing = True
        self._thread.stop(timeout)
        while self._tick() == 0:  # what the loop did not reach, on the caller's thread
            pass

    def _tick(self) -> float:
        """Flush the waiting batch if it is due; returns the seconds until the next one may be."""
        with self._lock:
            cycle = self._pending
            if not cycle.waiters:
                return self._flush_interval
            if not (self._closing or self._draining or cycle.rows >= self._max_batch_rows):
                remaining = cycle.started + self._flush_interval - time.monotonic()
                if remaining > 0:
                    return remaining
            self._pending = _Cycle()
        try:
            self._flush(cycle)
        finally:
            with self._lock:
                self._stats.queued_rows -= cycle.rows
        return 0

    def _flush(self, cycle: _Cycle) -> None:
        failed: dict[str, Exception] = {}
        written = 0
        for (table, columns), pending in cycle.inserts.items():
            try:
                self._client.raw_insert(table, columns, insert_block=b"".join(pending.blocks), fmt="Native")
                written += pending.rows
            except Exception as exc:  # any driver or engine error means "not written"
                log.error("insert of %d rows into %s failed: %s", pending.rows, table, exc)
                failed[table] = exc
        with self._lock:
            self._stats.flushes += 1
            self._stats.inserts += len(cycle.inserts) - len(failed)
            self._stats.failed_inserts += len(failed)
            self._stats.rows_written += written
            self._stats.rows_failed += cycle.rows - written
        for future, tables in cycle.waiters:
            bad = sorted(tables & failed.keys())
            if bad:
                future.set_exception(StorageUnavailable(f"ClickHouse did not accept the write to {', '.join(bad)}"))
            else:
                future.set_result(None)
