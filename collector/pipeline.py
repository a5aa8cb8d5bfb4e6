"""The ingest pipeline: OTLP request body -> `storage.ingest.Rows` ready for the write-ahead log.

Decompressing, decoding and converting are pure CPU work per record. By default
(`ingest_workers=0`) they run on the collector's own thread pool: with ClickHouse converting the
bodies only a parse and per-record checks remain, cheaper than shipping the body to another process
and back. With `ingest_workers=N` they run in a pool of worker processes, which use every core
instead of sharing one interpreter lock with the HTTP server and the write-ahead log (worth it for
OTLP/JSON and the Python conversion). Workers never touch ClickHouse: storage gives them a
`RowEncoder` once, at start.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.concurrency import run_in_threadpool

from collector import otlp_codec
from collector.errors import OtlpError
from storage.errors import RejectedData
from storage.ingest import RowEncoder, Rows


@dataclass(frozen=True)
class Signal:
    """An OTLP signal's request and response messages, and where a response counts refusals."""

    request_cls: type[Message]
    response_cls: type[Message]
    rejected_field: str


SIGNALS = {
    "traces": Signal(trace_service_pb2.ExportTraceServiceRequest, trace_service_pb2.ExportTraceServiceResponse,
                     "rejected_spans"),
    "logs": Signal(logs_service_pb2.ExportLogsServiceRequest, logs_service_pb2.ExportLogsServiceResponse,
                   "rejected_log_records"),
    "metrics": Signal(metrics_service_pb2.ExportMetricsServiceRequest,
                      metrics_service_pb2.ExportMetricsServiceResponse, "rejected_data_points"),
}  # fmt: skip

_encoder: RowEncoder | None = None  # one per worker process, set by _init_worker


def _init_worker(encoder: RowEncoder) -> None:
    global _encoder
    _encoder = encoder
    parent = multiprocessing.parent_process()
    if parent is not None:  # a worker process, not the collector in thread mode
        threading.Thread(target=_exit_with, args=(parent,), name="hopscope-orphan-guard", daemon=True).start()


def _exit_with(parent) -> None:
    """End this worker as soon as the collector is gone, however it died (kill -9, the OOM killer):
    a worker must never outlive it. The parent's sentinel becomes ready when it exits."""
    multiprocessing.connection.wait([parent.sentinel])
    os._exit(0)


def _ready() -> bool:
    return _encoder is not None


def _process(signal_name: str, raw: bytes, encoding: str | None, fmt: str, limit: int) -> Rows:
    """Runs in a worker: raises OtlpError for bodies that cannot be decoded or stored."""
    assert _encoder is not None, "the worker was started without an encoder"
    body = otlp_codec.decompress(raw, encoding, limit)
    message = otlp_codec.decode(body, fmt, SIGNALS[signal_name].request_cls)
    try:
        return _encoder.rows(signal_name, message, body=body if fmt == otlp_codec.PROTOBUF else None)
    except RejectedData as exc:
        raise OtlpError(400, str(exc)) from exc


class IngestPipeline:
    """Runs `_process` on worker processes (or threads when `workers` is 0). Thread-safe.

    A worker that dies (killed, out of memory) breaks its pool; the pipeline then starts a new
    pool and the requests that were in the broken one get OtlpError(503) so clients retry.
    """

    def __init__(self, encoder: RowEncoder, workers: int) -> None:
        self._encoder = encoder
        self._workers = workers
        self._lock = threading.Lock()
        self._pool: ProcessPoolExecutor | None = None
        if workers == 0:
            _init_worker(encoder)
        else:
            self._pool = self._new_pool()

    def _new_pool(self, warm: bool = True) -> ProcessPoolExecutor:
        # spawn, not fork: the collector process runs the embedded ClickHouse's threads.
        pool = ProcessPoolExecutor(self._workers, mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(self._encoder,))  # fmt: skip
        # At start-up, start every worker before the first request: spawning one takes a second
        # or two, and an SDK would drop what piles up while its first export waits. (A pool rebuilt
        # after a crash starts lazily: that happens on the event loop, which must not wait.)
        futures = [pool.submit(_ready) for _ in range(self._workers)]
        if warm:
            for future in futures:
                future.result()
        return pool

    async def convert(self, signal_name: str, raw: bytes, encoding: str | None, fmt: str, limit: int) -> Rows:
        if self._pool is None:
            return await run_in_threadpool(_process, signal_name, raw, encoding, fmt, limit)
        pool = self._pool
        try:
            return await asyncio.wrap_future(pool.submit(_process, signal_name, raw, encoding, fmt, limit))
        except BrokenProcessPool as exc:
            with self._lock:
                if self._pool is pool:
                    self._pool = self._new_pool(warm=False)
            pool.shutdown(wait=False, cancel_futures=True)
            raise OtlpError(503, "an ingest worker stopped; retry", retry_after=1) from exc

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
