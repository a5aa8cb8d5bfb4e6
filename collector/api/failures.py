"""GET /api/v1/failures: failure chains of a time range, grouped by signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Query

from analysis.deploys import with_deploys
from analysis.grouping import failure_groups
from collector.api import params
from collector.dependencies import ServiceReaderDep, TraceReaderDep
from core.types import FailureGroup

router = APIRouter(prefix="/api/v1", tags=["failures"])
MAX_TRACES = 20_000


@dataclass(frozen=True)
class Failures:
    since_ns: int
    until_ns: int
    traces_analyzed: int
    truncated: bool  # more failing traces existed than were analysed (the newest were kept)
    groups: list[FailureGroup]


@router.get("/failures", response_model=Failures, summary="Failure chains grouped by signature, by impact")
def get_failures(
    traces: TraceReaderDep,
    services: ServiceReaderDep,
    since: str | None = None,
    until: str | None = None,
    service: str | None = Query(None, description="only chains that pass through this service"),
    kind: Literal["propagated", "absorbed"] | None = Query(None, description="only propagated or absorbed chains"),
    max_traces: int = Query(5_000, description=f"failing traces analysed, newest first (at most {MAX_TRACES})"),
) -> Failures:
    window = params.time_range(since, until)
    limit = params.limit(max_traces, MAX_TRACES)
    failing = traces.failing_traces(window, limit)
    groups = failure_groups(failing.values(), service, None if kind is None else kind == "propagated")
    groups = with_deploys(groups, services.version_first_seen(tuple({g.origin.service for g in groups})))
    return Failures(window.since_ns, window.until_ns, len(failing), len(failing) >= limit, groups)
