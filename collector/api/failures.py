"""GET /api/v1/failures: failure chains of a time range, grouped by signature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Query

from collector.api import params
from collector.dependencies import ChainStoreDep, CompareReaderDep, ServiceReaderDep, TraceReaderDep
from core.types import FailureGroup
from diagnosis.report import failure_report

router = APIRouter(prefix="/api/v1", tags=["failures"])
MAX_TRACES = 20_000


@dataclass(frozen=True)
class Failures:
    since_ns: int
    until_ns: int
    traces_analyzed: int
    truncated: bool  # more not-yet-analysed failing traces existed than were analysed live (the newest were)
    groups: list[FailureGroup]


@router.get("/failures", response_model=Failures, summary="Failure chains grouped by signature, by impact")
def get_failures(
    traces: TraceReaderDep,
    services: ServiceReaderDep,
    compare: CompareReaderDep,
    chains: ChainStoreDep,
    since: str | None = None,
    until: str | None = None,
    service: str | None = Query(None, description="only chains that pass through this service"),
    kind: Literal["propagated", "absorbed"] | None = Query(None, description="only propagated or absorbed chains"),
    max_traces: int = Query(
        5_000,
        description="failing traces the background analysis has not reached yet that are analysed for this "
        f"answer, newest first (at most {MAX_TRACES}); traces it has analysed are all counted",
    ),
    deltas: bool = Query(True, description="attribute values the failing origin spans have in common (top groups)"),
) -> Failures:
    window = params.time_range(since, until)
    limit = params.limit(max_traces, MAX_TRACES)
    report = failure_report(
        traces, services, compare if deltas else None, window, limit, service,
        None if kind is None else kind == "propagated", chains,
    )  # fmt: skip
    return Failures(window.since_ns, window.until_ns, report.traces_analyzed, report.truncated, report.groups)
