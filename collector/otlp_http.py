"""OTLP/HTTP receivers: POST /v1/traces, /v1/logs, /v1/metrics.

A request is answered 200 once its rows are durable in the write-ahead log (fsynced; milliseconds),
never before; the inserter moves them into ClickHouse behind the answer. Records refused one by
one are reported in `partial_success`. Errors follow the OTLP/HTTP specification: 400 undecodable,
413 too large (after decompression), 415 unsupported media type or encoding, 503 with Retry-After
when the collector sheds load (checked before the body is read) or the log is at its budget.
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request, Response

from collector import otlp_codec
from collector.dependencies import InflightDep, PipelineDep, SelfMetricsDep, SettingsDep, StoreDep
from collector.errors import OtlpError
from collector.pipeline import IngestPipeline
from collector.receiving import receive, response_for
from collector.selfmetrics import SelfMetrics
from collector.settings import Settings
from collector.shedding import InflightBudget
from storage.ingest import Rows
from storage.store import Store

router = APIRouter(prefix="/v1", tags=["otlp"])
_UNDECLARED = 64 * 1024  # taken up front for a body without Content-Length; more as it arrives


async def _read_body(request: Request, limit: int, budget: InflightBudget, taken: list[int], retry: int) -> bytes:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise OtlpError(413, f"request body exceeds the limit of {limit} bytes")
        if len(body) > taken[0]:
            more = len(body) - taken[0]
            if not budget.try_take(more):
                raise OtlpError(503, "collector is overloaded, retry later", retry)
            taken[0] += more
    return bytes(body)


async def _export(
    request: Request,
    signal_name: str,
    settings: Settings,
    store: Store,
    pipeline: IngestPipeline,
    budget: InflightBudget,
    metrics: SelfMetrics,
) -> Response:
    started = time.monotonic()
    declared = request.headers.get("content-length")
    size = int(declared) if declared and declared.isdigit() else None
    try:
        fmt = otlp_codec.media_format(request.headers.get("content-type"))
        rows = await _accept(request, signal_name, fmt, size, settings, store, pipeline, budget)
    except OtlpError as exc:
        metrics.exported(signal_name, "http", started, size or 0, None, exc)
        raise
    metrics.exported(signal_name, "http", started, size or 0, rows, None)
    return Response(otlp_codec.encode(response_for(signal_name, rows), fmt), media_type=fmt)


async def _accept(
    request: Request,
    signal_name: str,
    fmt: str,
    size: int | None,
    settings: Settings,
    store: Store,
    pipeline: IngestPipeline,
    budget: InflightBudget,
) -> Rows:
    limit, retry = settings.max_body_bytes, settings.retry_after_seconds
    if size is not None and size > limit:
        raise OtlpError(413, f"request body of {size} bytes exceeds the limit of {limit} bytes")
    taken = [size if size is not None else _UNDECLARED]
    if not budget.try_take(taken[0]):  # before reading a byte of the body
        raise OtlpError(503, "collector is overloaded, retry later", retry)
    finished = False
    try:
        raw = await _read_body(request, limit, budget, taken, retry)
        encoding = request.headers.get("content-encoding")
        rows = await receive(signal_name, raw, encoding, fmt, settings, store, pipeline, request.is_disconnected)
        finished = True
    finally:
        budget.release(taken[0], finished)
    return rows


_BODY_DOC = {"requestBody": {"content": {otlp_codec.PROTOBUF: {}, otlp_codec.JSON: {}}, "required": False}}


def _endpoint(signal_name: str):
    async def export(
        request: Request,
        settings: SettingsDep,
        store: StoreDep,
        pipeline: PipelineDep,
        budget: InflightDep,
        metrics: SelfMetricsDep,
    ) -> Response:
        return await _export(request, signal_name, settings, store, pipeline, budget, metrics)

    export.__name__ = f"export_{signal_name}"
    return export


for _signal, _what in (("traces", "spans"), ("logs", "log records"), ("metrics", "metric points")):
    router.add_api_route(f"/{_signal}", _endpoint(_signal), methods=["POST"], summary=f"Export {_what} (OTLP/HTTP)",
                         openapi_extra=_BODY_DOC)  # fmt: skip
