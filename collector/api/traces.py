"""GET /api/v1/traces/{trace_id}: every span, the trace's logs and its failure chains."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter

from analysis.chains import failure_chains, is_failed
from analysis.types import FailureChain, Span
from collector.api import params
from collector.api.errors import ApiError
from collector.dependencies import LogReaderDep, TraceReaderDep
from storage.log_reader import LogRecord
from storage.trace_reader import TRACE_MARGIN_NS

router = APIRouter(prefix="/api/v1", tags=["traces"])


@dataclass(frozen=True)
class TraceSpan:
    span: Span
    failed: bool


@dataclass(frozen=True)
class TraceDetail:
    trace_id: str
    spans: list[TraceSpan]
    logs: list[LogRecord]
    failure_chains: list[FailureChain]


@router.get("/traces/{trace_id}", response_model=TraceDetail, summary="One trace: spans, logs, failure chains")
def get_trace(trace_id: str, traces: TraceReaderDep, logs: LogReaderDep) -> TraceDetail:
    """Spans keep nanosecond timestamps (`start_ns`, `duration_ns`). 404 for an unknown trace."""
    trace_id = params.trace_id(trace_id)
    spans = traces.get_trace(trace_id)
    if not spans:
        raise ApiError(404, "trace not found", f"no spans stored for trace {trace_id}")
    since = min(s.start_ns for s in spans) - TRACE_MARGIN_NS
    until = max(s.start_ns + s.duration_ns for s in spans) + TRACE_MARGIN_NS
    spans.sort(key=lambda s: (s.start_ns, s.span_id))
    return TraceDetail(
        trace_id=trace_id,
        spans=[TraceSpan(s, is_failed(s)) for s in spans],
        logs=logs.for_trace(trace_id, since, until),
        failure_chains=failure_chains(spans),
    )
