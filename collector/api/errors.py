"""Query API errors: `ApiError(status, error, detail)` is answered as `{"error": ..., "detail": ...}`."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail


async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
    return JSONResponse({"error": exc.error, "detail": exc.detail}, status_code=exc.status)


async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    problems = []
    for err in exc.errors():
        where = ".".join(str(part) for part in err.get("loc", ()) if part not in ("query", "path"))
        problems.append(f"{where}: {err.get('msg', 'invalid')}")
    return JSONResponse({"error": "invalid parameter", "detail": "; ".join(problems)}, status_code=400)
