"""Failures across asynchronous hops: producers and consumers live in different traces joined by
span links. The walk goes both ways from the traces at hand, bounded in depth and trace count."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from analysis.chains import MAX_ASYNC_DEPTH, failure_chains, with_upstream
from core.types import FailureChain, Span, TimeRange
from storage.trace_reader import TraceReader

MAX_LINKED_TRACES = 50  # traces read besides the one asked for, per trace detail
LINK_WINDOW_NS = 60 * 60 * 10**9  # a message may wait this long in a queue


@dataclass(frozen=True)
class LinkedTraces:
    spans: dict[str, dict[str, Span]]  # trace id -> span id -> span, the starting traces included
    cut: bool  # the bounds stopped the walk before it ran out of links


def _by_id(spans: Iterable[Span]) -> dict[str, Span]:
    return {span.span_id: span for span in spans}


def _window(spans: Iterable[Span]) -> TimeRange:
    starts = [s.start_ns for s in spans]
    return TimeRange(min(starts) - LINK_WINDOW_NS, max(starts) + LINK_WINDOW_NS)


def linked_traces(
    reader: TraceReader,
    start: Mapping[str, list[Span]],
    downstream: bool = True,
    max_traces: int = MAX_LINKED_TRACES,
    max_depth: int = MAX_ASYNC_DEPTH,
) -> LinkedTraces:
    """The traces `start` links to (producers) and, with `downstream`, those linking to it
    (consumers), breadth first up to `max_depth` broker hops and `max_traces` traces."""
    known = {trace_id: _by_id(spans) for trace_id, spans in start.items() if spans}
    frontier = set(known)
    cut = False
    for _ in range(max_depth):
        spans = [s for t in frontier for s in known[t].values()]
        if not spans:
            break
        up = {t for s in spans for t, _ in s.links if t and t not in known}
        window = _window(spans)
        room = max_traces - (len(known) - len(start))
        down = set(reader.linking_traces(sorted(frontier), window, room + 1)) - known.keys() if downstream else set()
        new = sorted(up | down)
        if len(new) > room:
            new, cut = new[:room], True
        if not new:
            break
        for trace_id, trace_spans in reader.spans_of_traces(new, window).items():
            known[trace_id] = _by_id(trace_spans)
        frontier = set(new)
    else:
        further = {t for f in frontier for s in known[f].values() for t, _ in s.links if t and t not in known}
        cut = cut or bool(further)
    return LinkedTraces(known, cut)


def continued(chains: Iterable[FailureChain], linked: LinkedTraces) -> list[FailureChain]:
    """The chains, each continued upwards through the producers that were read."""
    return [with_upstream(chain, linked.spans) for chain in chains]


def with_producers(reader: TraceReader, traces: Mapping[str, list[Span]], max_traces: int) -> list[FailureChain]:
    """The failure chains of `traces`, those whose top span was a consumer of another trace's
    message continued up through the producer's path (up to `max_traces` producer traces read)."""
    chains = [chain for spans in traces.values() for chain in failure_chains(spans)]
    consumers: dict[str, list[Span]] = {}
    for chain in chains:
        spans = traces[chain.trace_id]
        top = next((s for s in spans if s.span_id == chain.hops[0].span_id), None)
        if top is not None and any(t != chain.trace_id for t, _ in top.links):
            consumers[chain.trace_id] = spans
    if not consumers:
        return chains
    linked = linked_traces(reader, consumers, downstream=False, max_traces=max_traces)
    return continued(chains, linked)


def downstream_failures(trace_id: str, linked: LinkedTraces) -> list[FailureChain]:
    """Failures of consumer traces whose chain continues up into `trace_id`."""
    found = []
    for other, spans in linked.spans.items():
        if other == trace_id:
            continue
        for chain in failure_chains(spans.values()):
            chain = with_upstream(chain, linked.spans)
            if trace_id in chain.upstream_traces:
                found.append(chain)
    return found
