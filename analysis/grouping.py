"""Grouping failure chains by signature: N upstream symptoms become one problem."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from statistics import median

from analysis.chains import failure_chains
from core.types import EntryPoint, FailureChain, FailureGroup, GroupCause, Span, VersionSeen

EXAMPLES = 5


def group_chains(chains: Iterable[FailureChain]) -> list[FailureGroup]:
    """Groups sorted by impact: traces where users saw the failure first, then all traces."""
    by_signature: dict[str, list[FailureChain]] = defaultdict(list)
    for chain in chains:
        by_signature[chain.signature].append(chain)
    groups = [_group(signature, members) for signature, members in by_signature.items()]
    return sorted(groups, key=lambda g: (-g.propagated_traces, -g.traces, g.signature))


def failure_groups(
    traces: Iterable[Iterable[Span]], service: str | None = None, propagated: bool | None = None
) -> list[FailureGroup]:
    """The chains of these traces grouped by signature, optionally only those through `service`
    and only propagated (True) or absorbed (False) ones."""
    return group_chains(
        filter_chains([chain for spans in traces for chain in failure_chains(spans)], service, propagated)
    )


def filter_chains(
    chains: list[FailureChain], service: str | None = None, propagated: bool | None = None
) -> list[FailureChain]:
    """Only chains through `service`, and only propagated (True) or absorbed (False) ones."""
    if service:
        chains = [c for c in chains if service in c.services]
    if propagated is not None:
        chains = [c for c in chains if c.propagated == propagated]
    return chains


def _group(signature: str, chains: list[FailureChain]) -> FailureGroup:
    chains.sort(key=lambda c: c.entry_start_ns, reverse=True)
    latest = chains[0]
    traces: dict[str, FailureChain] = {}
    propagated: set[str] = set()
    for chain in chains:
        traces.setdefault(chain.trace_id, chain)
        if chain.propagated:
            propagated.add(chain.trace_id)
    entries = Counter((c.entry.service, c.entry.operation) for c in traces.values())
    versions = Counter(c.version for c in traces.values() if c.version)
    minutes = Counter(c.entry_start_ns // 60_000_000_000 * 60 for c in traces.values())
    return FailureGroup(
        signature=signature,
        traces=len(traces),
        propagated_traces=len(propagated),
        absorbed_traces=len(traces) - len(propagated),
        origin=latest.origin,
        path=latest.services,
        hops=latest.hops,
        entry_points=tuple(EntryPoint(s, o, n) for (s, o), n in entries.most_common()),
        first_seen_ns=min(c.entry_start_ns for c in chains),
        last_seen_ns=latest.entry_start_ns,
        per_minute=tuple(sorted(minutes.items())),
        example_trace_ids=tuple(list(traces)[:EXAMPLES]),
        attempts=sum(c.attempts for c in traces.values()),
        latency_cause=_common_cause(list(traces.values())),
        versions=tuple(VersionSeen(v, n, None) for v, n in versions.most_common()),
    )


def _common_cause(chains: list[FailureChain]) -> GroupCause | None:
    causes: dict[tuple[str, str], list] = defaultdict(list)
    for chain in chains:
        if chain.latency_cause is not None:
            causes[(chain.latency_cause.service, chain.latency_cause.operation)].append(chain.latency_cause)
    if not causes:
        return None
    (service, operation), found = max(causes.items(), key=lambda item: (len(item[1]), item[0]))
    return GroupCause(
        service,
        operation,
        len(found),
        int(median(c.self_ns for c in found)),
        round(median(c.share for c in found), 4),
    )


def merge_groups(*lists: Iterable[FailureGroup]) -> list[FailureGroup]:
    """Groups of disjoint sets of traces (analysed earlier, analysed now) as one list: counts added,
    the newest chain standing for each signature, sorted by impact."""
    by_signature: dict[str, list[FailureGroup]] = defaultdict(list)
    for groups in lists:
        for group in groups:
            by_signature[group.signature].append(group)
    merged = [_merge(parts) if len(parts) > 1 else parts[0] for parts in by_signature.values()]
    return sorted(merged, key=lambda g: (-g.propagated_traces, -g.traces, g.signature))


def _merge(parts: list[FailureGroup]) -> FailureGroup:
    newest = max(parts, key=lambda g: g.last_seen_ns)
    entries: Counter = Counter()
    minutes: Counter = Counter()
    versions: Counter = Counter()
    for g in parts:
        entries.update({(e.service, e.operation): e.traces for e in g.entry_points})
        minutes.update(dict(g.per_minute))
        versions.update({v.version: v.traces for v in g.versions})
    causes = [g.latency_cause for g in parts if g.latency_cause is not None]
    examples = [t for g in sorted(parts, key=lambda g: -g.last_seen_ns) for t in g.example_trace_ids]
    return replace(
        newest,
        traces=sum(g.traces for g in parts),
        propagated_traces=sum(g.propagated_traces for g in parts),
        absorbed_traces=sum(g.absorbed_traces for g in parts),
        attempts=sum(g.attempts for g in parts),
        entry_points=tuple(EntryPoint(s, o, n) for (s, o), n in entries.most_common()),
        first_seen_ns=min(g.first_seen_ns for g in parts),
        per_minute=tuple(sorted(minutes.items())),
        example_trace_ids=tuple(dict.fromkeys(examples))[:EXAMPLES],
        latency_cause=max(causes, key=lambda c: c.traces) if causes else None,
        versions=tuple(VersionSeen(v, n, None) for v, n in versions.most_common()),
    )
