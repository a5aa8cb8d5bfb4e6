"""OTLP/HTTP receivers: POST /v1/traces, /v1/logs, /v1/metrics.

A request is answered 200 only after its rows are in ClickHouse (the writer's group commit);
records rejected one by one are reported in `partial_success`. Errors follow the OTLP/HTTP
specification: 400 undecodable, 413 too large (after decompression), 415 unsupported media type or
encoding, 503 with Retry-After when the queue is full or ClickHouse does not take the write.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import APIRouter, Request, Response
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from starlette.concurrency import run_in_threadpool

from collector import otlp_codec
from collector.dependencies import SettingsDep, WriterDep
from collector.errors import OtlpError
from collector.settings import Settings
from storage.batch import ColumnBatch
from storage.errors import QueueFull, StorageUnavailable, WriterClosed
from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.attributes import Rejections
from storage.writer import BatchWriter

router = APIRouter(prefix="/v1", tags=["otlp"])


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


TRACES = Signal(
    trace_service_pb2.ExportTraceServiceRequest,
    trace_service_pb2.ExportTraceServiceResponse,
    _single(spans_to_batch),
    "rejected_spans",
)
LOGS = Signal(
    logs_service_pb2.ExportLogsServiceRequest,
    logs_service_pb2.ExportLogsServiceResponse,
    _single(logs_to_batch),
    "rejected_log_records",
)
METRICS = Signal(
    metrics_service_pb2.ExportMetricsServiceRequest,
    metrics_service_pb2.ExportMetricsServiceResponse,
    metrics_to_batches,
    "rejected_data_points",
)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise OtlpError(413, f"request body of {declared} bytes exceeds the limit of {limit} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise OtlpError(413, f"request body exceeds the limit of {limit} bytes")
    return bytes(body)


def _decode_and_convert(raw: bytes, request: Request, fmt: str, signal: Signal, limit: int):
    body = otlp_codec.decompress(raw, request.headers.get("content-encoding"), limit)
    message = otlp_codec.decode(body, fmt, signal.request_cls)
    return signal.convert(message)


async def _export(request: Request, signal: Signal, settings: Settings, writer: BatchWriter) -> Response:
    fmt = otlp_codec.media_format(request.headers.get("content-type"))
    raw = await _read_body(request, settings.max_body_bytes)
    # Decoding is CPU work: keep it off the event loop so health checks and other requests flow.
    batches, rejected = await run_in_threadpool(_decode_and_convert, raw, request, fmt, signal, settings.max_body_bytes)
    retry = settings.retry_after_seconds
    try:
        durable = writer.submit(batches)
    except QueueFull as exc:
        raise OtlpError(503, f"collector is overloaded, retry later: {exc}", retry) from exc
    except WriterClosed as exc:
        raise OtlpError(503, "collector is shutting down, retry later", retry) from exc
    try:
        await asyncio.wrap_future(durable)
    except StorageUnavailable as exc:
        raise OtlpError(503, f"storage unavailable, retry later: {exc}", retry) from exc
    response = signal.response_cls()
    if rejected.count:
        setattr(response.partial_success, signal.rejected_field, rejected.count)
        response.partial_success.error_message = rejected.message
    return Response(otlp_codec.encode(response, fmt), media_type=fmt)


_BODY_DOC = {"requestBody": {"content": {otlp_codec.PROTOBUF: {}, otlp_codec.JSON: {}}, "required": False}}


@router.post("/traces", summary="Export spans (OTLP/HTTP)", openapi_extra=_BODY_DOC)
async def export_traces(request: Request, settings: SettingsDep, writer: WriterDep) -> Response:
    return await _export(request, TRACES, settings, writer)


@router.post("/logs", summary="Export log records (OTLP/HTTP)", openapi_extra=_BODY_DOC)
async def export_logs(request: Request, settings: SettingsDep, writer: WriterDep) -> Response:
    return await _export(request, LOGS, settings, writer)


@router.post("/metrics", summary="Export metric points (OTLP/HTTP)", openapi_extra=_BODY_DOC)
async def export_metrics(request: Request, settings: SettingsDep, writer: WriterDep) -> Response:
    return await _export(request, METRICS, settings, writer)
