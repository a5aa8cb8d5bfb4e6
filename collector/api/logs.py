"""GET /api/v1/logs: full-text and attribute search, newest first, paged by an opaque cursor."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Query

from collector.api import params
from collector.api.errors import ApiError
from collector.dependencies import LogReaderDep
from storage.log_reader import SEVERITY_FLOOR, LogCursor, LogQuery, LogRecord, search_terms

router = APIRouter(prefix="/api/v1", tags=["logs"])
MAX_LIMIT = 1000


@dataclass(frozen=True)
class LogPage:
    since_ns: int
    until_ns: int
    records: list[LogRecord]  # newest first
    next_cursor: str | None  # pass as ?cursor= for the next page; null on the last page


def _encode(cursor: LogCursor | None) -> str | None:
    if cursor is None:
        return None
    return base64.urlsafe_b64encode(f"{cursor.time_ns}:{cursor.tiebreak}".encode()).decode().rstrip("=")


def _decode(text: str) -> LogCursor:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        time_ns, tiebreak = (int(part) for part in raw.split(":"))
        if time_ns < 0 or not 0 <= tiebreak < 2**64:
            raise ValueError
        return LogCursor(time_ns, tiebreak)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "invalid cursor", "use the next_cursor of a previous page unchanged") from None


@router.get("/logs", response_model=LogPage, summary="Search log records")
def search_logs(
    logs: LogReaderDep,
    since: str | None = None,
    until: str | None = None,
    q: str | None = Query(None, description="words that must all appear in the body (whole words, any case)"),
    severity: Literal["trace", "debug", "info", "warn", "error", "fatal"] | None = Query(
        None, description="this severity or worse"
    ),
    service: str | None = None,
    trace_id: str | None = None,
    attr: list[str] | None = Query(None, description="log or resource attribute key=value; repeat for several"),
    limit: int = Query(100, description=f"at most {MAX_LIMIT}"),
    cursor: str | None = None,
) -> LogPage:
    window = params.time_range(since, until)
    words: tuple[str, ...] = ()
    if q is not None:
        try:
            words = search_terms(q)
        except ValueError as exc:
            raise ApiError(400, "invalid search", f"q: {exc}") from None
    query = LogQuery(
        words,
        SEVERITY_FLOOR[severity] if severity else None,
        service,
        params.trace_id(trace_id) if trace_id else None,
        params.attributes(attr),
    )
    page, after = logs.search(query, window, params.limit(limit, MAX_LIMIT), _decode(cursor) if cursor else None)
    return LogPage(window.since_ns, window.until_ns, page, _encode(after))
