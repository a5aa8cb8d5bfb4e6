"""GET /api/v1/traces/{trace_id}: every span, the trace's logs and its failure chains."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Literal

from fastapi import APIRouter, Query, Response
from pydantic import TypeAdapter
from starlette.concurrency import run_in_threadpool

from analysis.chains import failure_chains, is_failed, resolve_peer
from analysis.critical_path import trace_critical_path
from collector.api import params
from collector.api.errors import ApiError
from collector.dependencies import LogReaderDep, ServiceReaderDep, TraceReaderDep
from core.gcpause import gc_paused
from core.types import CriticalStep, FailureChain, Span
from diagnosis.async_hops import LinkedTraces, continued, downstream_failures, linked_traces
from diagnosis.report import services_behind
from storage.log_reader import LogRecord
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceQuery, TraceSummary, span_bounds, with_log_evidence

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
    failure_chains: list[FailureChain]  # continued up through producer traces (hops via "async")
    critical_path: list[CriticalStep]  # from the longest root: the spans that decided when it ended
    async_failure_chains: list[FailureChain]  # failures of consumer traces linked to this trace's spans
    async_cut: bool  # linked traces were left unread (at most 50, 3 broker hops)


MAX_LIMIT = 1000


@dataclass(frozen=True)
class TraceList:
    since_ns: int
    until_ns: int
    traces: list[TraceSummary]  # newest first


@router.get("/traces", response_model=TraceList, summary="Search traces")
def search_traces(
    traces: TraceReaderDep,
    since: str | None = None,
    until: str | None = None,
    service: str | None = None,
    operation: str | None = None,
    status: Literal["error", "ok"] | None = Query(
        None, description="traces with a failed span, or a span that did not fail"
    ),
    min_duration: str | None = Query(None, description="span duration at least, e.g. 250ms, 1.5s"),
    max_duration: str | None = Query(None, description="span duration at most"),
    attr: list[str] | None = Query(None, description="span or resource attribute key=value; repeat for several"),
    limit: int = Query(20, description=f"at most {MAX_LIMIT}"),
) -> TraceList:
    """A trace matches when one of its spans matches every filter. Newest first."""
    window = params.time_range(since, until)
    query = TraceQuery(
        service,
        operation,
        status,
        params.duration_ns(min_duration, "min_duration"),
        params.duration_ns(max_duration, "max_duration"),
        params.attributes(attr),
    )
    return TraceList(window.since_ns, window.until_ns, traces.search(query, window, params.limit(limit, MAX_LIMIT)))


@router.get("/traces/{trace_id}", response_model=TraceDetail, summary="One trace: spans, logs, failure chains")
async def get_trace(trace_id: str, traces: TraceReaderDep, logs: LogReaderDep, services: ServiceReaderDep) -> Response:
    """Spans keep nanosecond timestamps (`start_ns`, `duration_ns`). 404 for an unknown trace."""
    trace_id = params.trace_id(trace_id)
    # Spans and logs are read at once, on separate engine sessions, each by the trace id alone; the
    # logs near the spans are kept, and each span's evidence of failure taken from them.
    spans, trace_logs = await asyncio.gather(
        run_in_threadpool(traces.spans, trace_id), run_in_threadpool(logs.of_trace, trace_id)
    )
    if not spans:
        raise ApiError(404, "trace not found", f"no spans stored for trace {trace_id}")
    bounds = span_bounds(spans)
    evidence = await run_in_threadpool(logs.evidence, trace_id, trace_logs, bounds)
    spans, records = with_log_evidence(spans, evidence), trace_logs.near(bounds)
    # Analysed and serialized off the event loop; a 20,000-span trace is ~9 MB of JSON.
    linked = await run_in_threadpool(linked_traces, traces, {trace_id: spans})
    chains = await run_in_threadpool(_chains, spans, linked, services)
    body = await run_in_threadpool(_detail_json, trace_id, spans, records, linked, chains)
    return Response(content=body, media_type="application/json")


_DETAIL = TypeAdapter(TraceDetail)


def _chains(spans: list[Span], linked: LinkedTraces, services: ServiceReader) -> list[FailureChain]:
    """The trace's failure chains (continued across async hops), peers the trace itself does not
    name named by the services seen serving those addresses."""
    with gc_paused():
        chains = continued(failure_chains(spans), linked)
    services_at = services_behind((c.origin for c in chains), services)
    if not services_at:
        return chains
    return [replace(c, origin=resolve_peer(c.origin, services_at)) for c in chains]


def _detail_json(
    trace_id: str, spans: list[Span], records: list[LogRecord], linked: LinkedTraces, chains: list[FailureChain]
) -> bytes:
    """The trace detail as JSON, serialized straight from the dataclasses (FastAPI's own path would
    copy them into dicts and validate them again: most of the time of a large trace)."""
    spans.sort(key=lambda s: (s.start_ns, s.span_id))
    with gc_paused():
        detail = TraceDetail(
            trace_id=trace_id,
            spans=[TraceSpan(s, is_failed(s)) for s in spans],
            logs=records,
            failure_chains=chains,
            critical_path=trace_critical_path(spans),
            async_failure_chains=downstream_failures(trace_id, linked),
            async_cut=linked.cut,
        )
        return _DETAIL.dump_json(detail)
