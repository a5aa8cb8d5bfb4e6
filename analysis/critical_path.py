"""Where the time went: the critical path of a span's subtree.

The critical path of a span is the chain of spans that determined when it ended: walking back from
its end, the last child to finish before that point is on it (its own critical path, recursively),
then the child that finished last before that one started, and so on. The time not covered by a
child on the path is the span's *self time*. A child is clamped to its parent's window: time a
callee kept running after its caller gave up, or before its parent started (clock skew), does not
count. Linear after one sort of each span's children; iterative, so a path of any depth works.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from core.types import CriticalStep, Span


def children_of(spans: Iterable[Span]) -> dict[str, list[Span]]:
    """Parent span id -> its children (parent edges only)."""
    children: dict[str, list[Span]] = defaultdict(list)
    for span in spans:
        if span.parent_span_id and span.parent_span_id != span.span_id:
            children[span.parent_span_id].append(span)
    return children


def critical_path(top: Span, children: Mapping[str, Sequence[Span]]) -> list[CriticalStep]:
    """The spans on `top`'s critical path with their self times, top first (depth first)."""
    steps: list[CriticalStep] = []
    seen: set[str] = set()
    work = [(top, top.start_ns, top.start_ns + top.duration_ns)]
    while work:
        span, low, high = work.pop()
        if span.span_id in seen:
            continue  # a cycle in malformed data
        seen.add(span.span_id)
        cursor, own, picked = high, 0, []
        for child in sorted(children.get(span.span_id, ()), key=lambda c: c.start_ns + c.duration_ns, reverse=True):
            if child.start_ns >= cursor or child.span_id in seen:
                continue
            end = min(child.start_ns + child.duration_ns, cursor)
            if end <= low:
                break
            start = max(child.start_ns, low)
            own += cursor - end
            picked.append((child, start, end))
            cursor = start
        own += max(cursor - low, 0)
        steps.append(CriticalStep(span.span_id, own))
        work.extend(picked)  # the earliest child is popped first
    return steps


def trace_critical_path(spans: Iterable[Span]) -> list[CriticalStep]:
    """The critical path of a whole trace, from its longest root (a span whose parent is absent)."""
    by_id = {span.span_id: span for span in spans}
    roots = [s for s in by_id.values() if s.parent_span_id not in by_id or s.parent_span_id == s.span_id]
    if not roots:
        return []
    top = max(roots, key=lambda s: (s.duration_ns, -s.start_ns))
    return critical_path(top, children_of(by_id.values()))
