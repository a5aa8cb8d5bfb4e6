"""Grouping failure chains by signature: N upstream symptoms become one problem."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import replace
from statistics import median

from analysis.chains import failure_chains
from core.types import EntryPoint, FailureChain, FailureGroup, GroupCause, Origin, Span, Symptom, VersionSeen

EXAMPLES = 5


def group_chains(chains: Iterable[FailureChain]) -> list[FailureGroup]:
    """Groups sorted by impact: traces where users saw the failure first, then all traces. A chain
    that is a symptom of another chain of its trace is listed under that chain's group."""
    by_signature: dict[str, list[FailureChain]] = defaultdict(list)
    symptoms: dict[tuple[str, str], list[FailureChain]] = defaultdict(list)
    for chain in chains:
        if chain.symptom_of:
            symptoms[(chain.symptom_of, chain.signature)].append(chain)
        else:
            by_signature[chain.signature].append(chain)
    for (parent, signature), members in symptoms.items():
        if parent not in by_signature:
            by_signature[signature].extend(members)
    groups = [
        replace(
            _group(signature, members),
            symptoms=tuple(
                _symptom(s, found) for (parent, s), found in sorted(symptoms.items()) if parent == signature
            ),
        )
        for signature, members in by_signature.items()
    ]
    return sorted(groups, key=lambda g: (-g.propagated_traces, -g.traces, g.signature))


def _symptom(signature: str, chains: list[FailureChain]) -> Symptom:
    latest = max(chains, key=lambda c: c.entry_start_ns)
    return Symptom(signature, latest.origin, latest.services, len({c.trace_id for c in chains}))


def adopt_partial(groups: list[FailureGroup]) -> list[FailureGroup]:
    """Groups of traces seen only in part (their entry span's parent has not arrived: a trace still
    being exported, or a lost span) merged into the group of the same failure seen whole — the same
    origin and error, a path that ends with theirs — or counted with such a symptom of a group. A
    partial group with neither stays."""
    whole: dict[tuple[str, str, str], list[tuple[FailureGroup, Symptom | None]]] = defaultdict(list)
    for group in groups:
        if not group.partial:
            whole[_origin_key(group.origin)].append((group, None))
            for symptom in group.symptoms:
                whole[_origin_key(symptom.origin)].append((group, symptom))
    into: dict[str, list[FailureGroup]] = defaultdict(list)
    kept = []
    for group in groups:
        n = len(group.path)
        candidates = [
            (g, x)
            for g, x in whole.get(_origin_key(group.origin), ()) if group.partial
            for path in [x.path if x else g.path]
            if len(path) > n and path[-n:] == group.path
        ]  # fmt: skip
        if candidates:
            target, as_symptom = max(candidates, key=lambda c: (c[1] is None, c[0].traces, c[0].signature))
            into[target.signature].append(
                group if as_symptom is None else replace(group, signature=as_symptom.signature)
            )
        else:
            kept.append(group)
    merged = [_adopt(g, into[g.signature]) if g.signature in into else g for g in kept]
    return sorted(merged, key=lambda g: (-g.propagated_traces, -g.traces, g.signature))


def _adopt(group: FailureGroup, partial: list[FailureGroup]) -> FailureGroup:
    """`group` with partial groups adopted: as part of it, or (re-signed as one of its symptoms) as that."""
    symptoms = {x.signature for x in group.symptoms}
    as_group = [p for p in partial if p.signature not in symptoms]
    merged = _merge([group, *as_group], lead=group) if as_group else group
    extra: Counter = Counter()
    for p in partial:
        if p.signature in symptoms:
            extra[p.signature] += p.traces
    return replace(merged, symptoms=tuple(replace(x, traces=x.traces + extra[x.signature]) for x in merged.symptoms))


def _origin_key(origin: Origin) -> tuple[str, str, str]:
    return (origin.service, origin.operation, origin.normalized_error)


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
    latest = next((c for c in chains if not c.orphaned_entry), chains[0])  # a whole chain stands for it
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
        partial=latest.orphaned_entry,
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


def _merge(parts: list[FailureGroup], lead: FailureGroup | None = None) -> FailureGroup:
    """One group of `parts`: counts added; `lead` (else the newest whole part) stands for it."""
    newest = lead or max(parts, key=lambda g: (not g.partial, g.last_seen_ns))
    symptoms: dict[tuple[str, str, str], list[Symptom]] = defaultdict(list)
    for g in parts:
        for symptom in g.symptoms:
            symptoms[_origin_key(symptom.origin)].append(symptom)  # seen whole or in part: one symptom
    entries: Counter = Counter()
    minutes: Counter = Counter()
    versions: Counter = Counter()
    whole = [g for g in parts if not g.partial] or parts  # a partial trace's entry is not its real one
    for g in whole:
        entries.update({(e.service, e.operation): e.traces for e in g.entry_points})
    for g in parts:
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
        symptoms=tuple(
            replace(max(found, key=lambda x: len(x.path)), traces=sum(x.traces for x in found))
            for _, found in sorted(symptoms.items())
        ),
        partial=newest.partial,
    )
