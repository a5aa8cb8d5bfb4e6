"""OTLP/HTTP receivers: POST /v1/traces, /v1/logs, /v1/metrics.

A request is answered 200 only after its rows are in ClickHouse (the writer's group commit);
records rejected one by one are reported in `partial_success`. Errors follow the OTLP/HTTP
specification: 400 undecodable, 413 too large (after decompression), 415 unsupported media type or
encoding, 503 with Retry-After when the queue is full or ClickHouse does not take the write.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from collector import otlp_codec
from collector.dependencies import PipelineDep, SettingsDep, WriterDep
from collector.errors import OtlpError
from collector.pipeline import SIGNALS, IngestPipeline
from collector.settings import Settings
from storage.errors import QueueFull, StorageUnavailable, WriterClosed
from storage.writer import BatchWriter

router = APIRouter(prefix="/v1", tags=["otlp"])


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


async def _export(
    request: Request, signal_name: str, settings: Settings, writer: BatchWriter, pipeline: IngestPipeline
) -> Response:
    fmt = otlp_codec.media_format(request.headers.get("content-type"))
    raw = await _read_body(request, settings.max_body_bytes)
    encoding = request.headers.get("content-encoding")
    converted = await pipeline.convert(signal_name, raw, encoding, fmt, settings.max_body_bytes)
    retry = settings.retry_after_seconds
    try:
        durable = writer.submit(converted.blocks)
    except QueueFull as exc:
        raise OtlpError(503, f"collector is overloaded, retry later: {exc}", retry) from exc
    except WriterClosed as exc:
        raise OtlpError(503, "collector is shutting down, retry later", retry) from exc
    try:
        await asyncio.wrap_future(durable)
    except StorageUnavailable as exc:
        raise OtlpError(503, f"storage unavailable, retry later: {exc}", retry) from exc
    signal = SIGNALS[signal_name]
    response = signal.response_cls()
    if converted.rejected:
        setattr(response.partial_success, signal.rejected_field, converted.rejected)
        response.partial_success.error_message = converted.message
    return Response(otlp_codec.encode(response, fmt), media_type=fmt)


_BODY_DOC = {"requestBody": {"content": {otlp_codec.PROTOBUF: {}, otlp_codec.JSON: {}}, "required": False}}


@router.post("/traces", summary="Export spans (OTLP/HTTP)", openapi_extra=_BODY_DOC)
async def export_traces(request: Request, settings: SettingsDep, writer: WriterDep, pipeline: PipelineDep) -> Response:
    return await _export(request, "traces", settings, writer, pipeline)


@router.post("/logs", summary="Export log records (OTLP/HTTP)", openapi_extra=_BODY_DOC)
async def export_logs(request: Request, settings: SettingsDep, writer: WriterDep, pipeline: PipelineDep) -> Response:
    return await _export(request, "logs", settings, writer, pipeline)


@router.post("/metrics", summary="Export metric points (OTLP/HTTP)", openapi_extra=_BODY_DOC)
async def export_metrics(request: Request, settings: SettingsDep, writer: WriterDep, pipeline: PipelineDep) -> Response:
    return await _export(request, "metrics", settings, writer, pipeline)
