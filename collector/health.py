"""Liveness and readiness probes."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from collector.dependencies import StoreDep

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", summary="Storage is reachable and its schema is current")
async def readyz(store: StoreDep) -> JSONResponse:
    try:
        current = await run_in_threadpool(store.is_current)
    except Exception as exc:  # any failure to ask the storage means "not ready"
        return JSONResponse({"status": "unavailable", "detail": f"storage unreachable: {exc}"}, status_code=503)
    if not current:
        return JSONResponse({"status": "unavailable", "detail": "schema migrations pending"}, status_code=503)
    return JSONResponse({"status": "ready"})
