"""Liveness and readiness probes."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from collector.dependencies import SelfMetricsDep, StoreDep
from collector.selfmetrics import CONTENT_TYPE

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/metrics", summary="The collector's own metrics (Prometheus text format)", include_in_schema=True)
async def metrics(self_metrics: SelfMetricsDep) -> Response:
    return Response(await run_in_threadpool(self_metrics.exposition), media_type=CONTENT_TYPE)


@router.get("/readyz", summary="The collector takes data: its write-ahead log has room")
async def readyz(store: StoreDep) -> JSONResponse:
    """Ready while data can be accepted. ClickHouse being down does not make the collector unready:
    the write-ahead log rides it out (`storage` says so) until the log is at its budget. The
    detail shows what waits in the log and how old it is."""
    wal, inserter = store.wal.stats(), store.inserter.stats
    body: dict = {
        "status": "ready",
        "storage": "reachable",
        "wal": {k: v for k, v in asdict(wal).items() if k not in ("appended", "refused_full")},
        "inserter": {"last_error": inserter.last_error, "quarantined_records": inserter.quarantined_records},
    }
    try:
        if not await run_in_threadpool(store.is_current):
            return JSONResponse({**body, "status": "unavailable", "detail": "schema migrations pending"}, 503)
    except Exception as exc:  # any failure to ask the storage: riding it out in the log
        body["storage"] = f"unreachable: {exc}"[:300]
    if not store.wal.has_room():
        return JSONResponse({**body, "status": "unavailable", "detail": "the write-ahead log is full"}, 503)
    return JSONResponse(body)
