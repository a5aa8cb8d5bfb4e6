"""The ingest pipeline: OTLP request body -> Native blocks ready for the writer.

Decompressing, decoding, converting and encoding are pure CPU work per record. They run in a
pool of worker processes (`ingest_workers`, default one per core) so that they use every core
instead of sharing one interpreter lock with the HTTP server and the writer; with
`ingest_workers=0` they run on the collector's own thread pool instead. Workers never touch
ClickHouse: they get the tables' column types once, at start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.concurrency import run_in_threadpool

from collector import otlp_codec
from collector.errors import OtlpError
from storage.batch import ColumnBatch
from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.attributes import Rejections
from storage.model.metrics import METRIC_COLUMNS
from storage.native import NativeBlock, NativeEncoder, TableSchema

TABLES = ["otel_traces", "otel_logs", *METRIC_COLUMNS]


@dataclass(frozen=True)
class Signal:
    request_cls: type
    response_cls: type
    convert: Callable[[object], tuple[list[ColumnBatch], Rejections]]
    rejected_field: str


def _single(convert):
    def wrapped(message):
        batch, rejected = convert(message)
        return [batch], rejected

    return wrapped


SIGNALS = {
    "traces": Signal(trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse,
                     _single(spans_to_batch), "rejected_spans"),
    "logs": Signal(logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse,
                   _single(logs_to_batch), "rejected_log_records"),
    "metrics": Signal(metrics_service_pb2.ExportMetricsServiceRequest,
                      metrics_service_pb2.ExportMetricsServiceResponse, metrics_to_batches, "rejected_data_points"),
}  # fmt: skip


@dataclass(frozen=True)
class Converted:
    blocks: list[NativeBlock]
    rejected: int
    message: str


_encoder: NativeEncoder | None = None  # one per worker process, set by _init_worker


def _init_worker(schema: TableSchema) -> None:
    global _encoder
    _encoder = NativeEncoder(schema)


def _process(signal_name: str, raw: bytes, encoding: str | None, fmt: str, limit: int) -> Converted:
    """Runs in a worker: raises OtlpError for bodies that cannot be decoded."""
    signal = SIGNALS[signal_name]
    body = otlp_codec.decompress(raw, encoding, limit)
    message = otlp_codec.decode(body, fmt, signal.request_cls)
    batches, rejected = signal.convert(message)
    try:
        blocks = [_encoder.encode(batch) for batch in batches if batch.rows]
    except (ValueError, OverflowError, TypeError) as exc:
        # The converters reject what they know to be unstorable; anything they missed is still the
        # sender's data, so it is a 400 for this request, never a 500 or a crashed worker.
        raise OtlpError(400, f"request holds values ClickHouse cannot store: {exc}") from exc
    return Converted(blocks, rejected.count, rejected.message)


class IngestPipeline:
    """Runs `_process` on worker processes (or threads when `workers` is 0). Thread-safe.

    A worker that dies (killed, out of memory) breaks its pool; the pipeline then starts a new
    pool and the requests that were in the broken one get OtlpError(503) so clients retry.
    """

    def __init__(self, schema: TableSchema, workers: int) -> None:
        self._schema = schema
        self._workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        if workers == 0:
            _init_worker(schema)
        else:
            self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # spawn, not fork: the collector process runs the embedded ClickHouse's threads.
        return ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self._schema,))  # fmt: skip

    async def convert(self, signal_name: str, raw: bytes, encoding: str | None, fmt: str, limit: int) -> Converted:
        if self._pool is None:
            return await run_in_threadpool(_process, signal_name, raw, encoding, fmt, limit)
        pool = self._pool
        try:
            return await asyncio.wrap_future(pool.submit(_process, signal_name, raw, encoding, fmt, limit))
        except BrokenProcessPool as exc:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool()
            pool.shutdown(wait=False, cancel_futures=True)
            raise OtlpError(503, "an ingest worker stopped; retry", retry_after=1) from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
