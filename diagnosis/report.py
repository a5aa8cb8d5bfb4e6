"""Failure groups of a time range, complete: chains grouped by signature, with deploy onset and the
attribute values their failing origin spans have in common."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, replace

from analysis.chains import resolve_peer
from analysis.deploys import with_deploys
from analysis.grouping import adopt_partial, filter_chains, group_chains, merge_groups
from core.types import FailureChain, FailureGroup, Origin, Span, TimeRange
from diagnosis.async_hops import with_producers
from storage.chain_store import ChainStore
from storage.compare_reader import CompareReader
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceQuery, TraceReader

DELTAS_PER_GROUP = 3
GROUPS_WITH_DELTAS = 5  # each costs three small queries (~50 ms at 10M spans)
MAX_PRODUCER_TRACES = 1_000  # read to continue consumers' chains up through their producers
# A trace analysed live (not stored yet) is shown once its root span has arrived, or, without one,
# once its newest span is this old: a trace still arriving service by service would otherwise show
# its parts as problems of their own ("checkout > payment > ledger" beside the whole chain).
GRACE_NS = 10 * 10**9
# Spans of the traces analysed live read into Python at once (~1.4 KB each there): after a burst,
# before the background analysis had caught up, one answer read 1,045 failing traces of ~340 spans
# each at once (+790 MiB at the peak; docs/benchmarks.md). The first read takes as many traces as
# FIRST_READ_SPANS_PER_TRACE spans each would fill, the next as many as the spans seen so far allow.
LIVE_SPANS_PER_READ = 50_000
FIRST_READ_SPANS_PER_TRACE = 200


@dataclass(frozen=True)
class FailureReport:
    groups: list[FailureGroup]
    traces_analyzed: int
    truncated: bool  # more failing traces existed than were analysed (the newest were kept)


def failure_report(
    traces: TraceReader,
    services: ServiceReader,
    compare: CompareReader | None,
    window: TimeRange,
    limit: int,
    service: str | None = None,
    propagated: bool | None = None,
    chains: ChainStore | None = None,
) -> FailureReport:
    """Failure groups of `window`. With a chain store: every trace the analyzer has analysed, counted
    exactly from the stored chains (a trace whose late spans have not been analysed yet counts as
    last analysed, for a pass or two), plus the newest `limit` failing traces it has not analysed
    yet, analysed now. Without one: the newest `limit` failing traces,
    analysed now. Attribute deltas for the first GROUPS_WITH_DELTAS groups when a `compare`
    reader is given."""
    if chains is None:
        failing = traces.failing_traces(window, limit)
        groups = group_chains(filter_chains(with_producers(traces, failing, MAX_PRODUCER_TRACES), service, propagated))
        analysed, truncated = len(failing), len(failing) >= limit
    else:
        ids = tuple(chains.unanalysed(window, limit))
        fresh = group_chains(filter_chains(_live_chains(traces, ids, window), service, propagated))
        groups = merge_groups(chains.groups(window, service, propagated, exclude=ids), fresh)
        analysed = chains.analysed_traces(window, service, propagated, ids) + len(ids)
        truncated = len(ids) >= limit
    groups = with_named_peers(adopt_partial(groups), services)
    groups = with_deploys(groups, services.version_first_seen(tuple({g.origin.service for g in groups})))
    if compare is not None:
        groups = [
            replace(g, attribute_deltas=tuple(_deltas(compare, g, window))) if i < GROUPS_WITH_DELTAS else g
            for i, g in enumerate(groups)
        ]
    return FailureReport(groups, analysed, truncated)


def _live_chains(traces: TraceReader, trace_ids: tuple[str, ...], window: TimeRange) -> list[FailureChain]:
    """The failure chains of traces the background analysis has not reached, those that look whole
    (`arrived`), their spans read about LIVE_SPANS_PER_READ at a time."""
    settled_ns = time.time_ns() - GRACE_NS
    chains: list[FailureChain] = []
    done = spans_read = 0
    while done < len(trace_ids):
        per_trace = spans_read / done if done else FIRST_READ_SPANS_PER_TRACE
        batch = trace_ids[done : done + max(1, int(LIVE_SPANS_PER_READ / max(per_trace, 1.0)))]
        spans = traces.spans_of_traces(list(batch), window)
        done += len(batch)
        spans_read += sum(len(trace_spans) for trace_spans in spans.values())
        chains += with_producers(traces, arrived(spans, settled_ns), MAX_PRODUCER_TRACES)
    return chains


def arrived(traces: dict[str, list[Span]], settled_ns: int) -> dict[str, list[Span]]:
    """The traces that look whole: their root span is there, or their newest span ended before
    `settled_ns` (a root that never comes must not hide a failure for long)."""
    return {
        trace_id: spans
        for trace_id, spans in traces.items()
        if any(not s.parent_span_id for s in spans)
        or max((s.start_ns + s.duration_ns for s in spans), default=0) < settled_ns
    }


def services_behind(origins: Iterable[Origin], services: ServiceReader) -> dict[str, str]:
    """Address -> the service serving it, for the origins whose peer is still an address."""
    return services.services_at(sorted({o.peer for o in origins if o.peer and o.peer_address is None}))


def with_named_peers(groups: list[FailureGroup], services: ServiceReader) -> list[FailureGroup]:
    """Origins (and symptoms) that name their peer by an address, named by the service serving it."""
    services_at = services_behind((o for g in groups for o in (g.origin, *(x.origin for x in g.symptoms))), services)
    if not services_at:
        return groups
    return [
        replace(
            g,
            origin=resolve_peer(g.origin, services_at),
            symptoms=tuple(replace(x, origin=resolve_peer(x.origin, services_at)) for x in g.symptoms),
        )
        for g in groups
    ]


def _deltas(compare: CompareReader, group: FailureGroup, window: TimeRange):
    query = TraceQuery(service=group.origin.service, operation=group.origin.operation)
    return compare.compare(query, window, limit=DELTAS_PER_GROUP, per_side=2_000).deltas
