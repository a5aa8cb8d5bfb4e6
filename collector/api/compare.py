"""GET /api/v1/compare: what the failing spans of a selection have in common."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Query

from collector.api import params
from collector.dependencies import CompareReaderDep
from core.types import AttributeDelta
from storage.trace_reader import TraceQuery

router = APIRouter(prefix="/api/v1", tags=["failures"])
MAX_LIMIT = 50


@dataclass(frozen=True)
class Comparison:
    since_ns: int
    until_ns: int
    failing_spans: int  # spans of the selection that failed in the range
    healthy_spans: int
    sampled_failing: int  # compared (a sample when there are more than `per_side`)
    sampled_healthy: int
    deltas: list[AttributeDelta]  # over-represented among failing spans, largest difference first


@router.get("/compare", response_model=Comparison, summary="Attribute values over-represented among failing spans")
def compare(
    reader: CompareReaderDep,
    since: str | None = None,
    until: str | None = None,
    service: str | None = None,
    operation: str | None = None,
    min_duration: str | None = Query(None, description="span duration at least, e.g. 250ms"),
    max_duration: str | None = Query(None, description="span duration at most"),
    attr: list[str] | None = Query(None, description="span or resource attribute key=value; repeat for several"),
    limit: int = Query(10, description=f"deltas returned (at most {MAX_LIMIT})"),
) -> Comparison:
    """Failing spans of the selection against its healthy spans in the same range: for each span or
    resource attribute value, the share of failing and of healthy spans carrying it, ranked by the
    difference (`user.tier=free` on 92% of failures and 10% of successes). Up to 20,000 spans per
    side are compared, sampled by span id; attributes that restate the failure (status codes,
    exception fields) are left out."""
    window = params.time_range(since, until)
    query = TraceQuery(
        service,
        operation,
        None,
        params.duration_ns(min_duration, "min_duration"),
        params.duration_ns(max_duration, "max_duration"),
        params.attributes(attr),
    )
    result = reader.compare(query, window, params.limit(limit, MAX_LIMIT))
    return Comparison(
        window.since_ns,
        window.until_ns,
        result.failing_spans,
        result.healthy_spans,
        result.sampled_failing,
        result.sampled_healthy,
        result.deltas,
    )
