"""Did a deploy start it? A failure group's origin service ran some version; when hopscope first saw
that version of that service shortly before the group's first failure, the deploy is the suspect."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

from core.types import DeployOnset, FailureGroup, VersionSeen

DEPLOY_WINDOW_NS = 15 * 60 * 10**9


def with_deploys(
    groups: Iterable[FailureGroup],
    first_seen: Mapping[tuple[str, str], int],
    window_ns: int = DEPLOY_WINDOW_NS,
) -> list[FailureGroup]:
    """The groups with each version's first appearance (`first_seen[(service, version)]`, Unix ns)
    and the deploy onset: the newest of the origin's versions that first appeared at most
    `window_ns` before the group's first failure and replaced an earlier one (the first version
    hopscope ever saw of a service is where its data starts, not a deploy)."""
    earliest: dict[str, int] = {}
    for (service, _), ns in first_seen.items():
        earliest[service] = min(ns, earliest.get(service, ns))
    result = []
    for group in groups:
        service = group.origin.service
        versions = tuple(VersionSeen(v.version, v.traces, first_seen.get((service, v.version))) for v in group.versions)
        onsets = [
            DeployOnset(v.version, v.first_seen_ns, group.first_seen_ns - v.first_seen_ns)
            for v in versions
            if v.first_seen_ns is not None
            and v.first_seen_ns > earliest[service]
            and 0 <= group.first_seen_ns - v.first_seen_ns <= window_ns
        ]
        onset = min(onsets, key=lambda o: o.lead_ns) if onsets else None
        result.append(replace(group, versions=versions, deploy_onset=onset))
    return result
