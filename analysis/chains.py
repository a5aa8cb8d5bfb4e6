"""Failure chains of one trace (the definitions of DESIGN.md, made exact).

- A span *failed* if its status is Error; or it is a server span whose HTTP status is >= 500; or it
  recorded an `exception` event — in the last two cases unless its status says Ok.
- *Hops* are parent -> child edges and span links (the linked span -> the span that links to it, as
  producer -> consumer on a queue). Only spans of the same trace take part.
- An *origin* is a failed span none of whose descendants (through either kind of hop) failed.
- The *chain* of an origin is the path from the top of its trace down to it, following the parent
  (or, for a span whose parent is absent, the link). A span whose parent never arrived is the top
  of its chain (an orphan entry): its failures are kept, not dropped.
- A chain is *propagated* if every span above the origin failed, *absorbed* otherwise.

Structure, never timestamps, decides everything here, so clock skew between hosts cannot move an
origin. Duplicated spans (same span id) count once. Each step is linear in the number of spans and
uses no recursion, so a 10,000-span trace is analysed in milliseconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlsplit

from analysis.signature import normalize_message, signature
from core.types import FailureChain, Hop, Origin, Span

_HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
_PEER_KEYS = ("db.system", "messaging.destination.name", "peer.service", "server.address", "net.peer.name")


def http_status(span: Span) -> int | None:
    """The larger of the current and the older semantic conventions' status (as migration 007)."""
    if span.http_status is not None:
        return span.http_status or None
    codes = [int(v) for v in (span.attributes.get(k, "") for k in _HTTP_STATUS_KEYS) if v.isdigit() and len(v) <= 5]
    return max(codes, default=0) or None


def _exception(span: Span) -> dict[str, str] | None:
    for event in span.events:
        if event.name == "exception":
            return event.attributes
    return None


def is_failed(span: Span) -> bool:
    if span.failed is not None:
        return span.failed
    if span.status_code == "Error":
        return True
    if span.status_code == "Ok":
        return False
    if span.kind == "Server" and (http_status(span) or 0) >= 500:
        return True
    return _exception(span) is not None


def peer(span: Span) -> str | None:
    """What a client or producer span was calling ("unknown" when it does not say); None for other
    kinds. Migration 004's HopscopePeer states the same rule (tests/storage/test_derived_columns.py)."""
    if span.kind not in ("Client", "Producer"):
        return None
    if span.peer is not None:
        return span.peer or None
    for key in _PEER_KEYS:
        if span.attributes.get(key):
            return span.attributes[key]
    for key in ("url.full", "http.url"):
        if span.attributes.get(key):
            return urlsplit(span.attributes[key]).netloc or None
    return "unknown"


def _origin(span: Span) -> Origin:
    exception = _exception(span)
    status = http_status(span)
    if exception and exception.get("exception.type"):
        exception_type = exception["exception.type"]
        error_type: str | None = exception_type
        message = exception.get("exception.message", "") or span.status_message or exception_type
        normalized = exception_type
    elif span.status_message:
        error_type, message = None, span.status_message
        normalized = normalize_message(message)
    elif status and status >= 400:
        error_type = message = normalized = f"HTTP {status}"
    else:
        error_type, message, normalized = None, "Error", "Error"
    return Origin(span.span_id, span.service, span.name, span.kind, peer(span), error_type, message, normalized)


def _dedupe(spans: Iterable[Span]) -> dict[str, Span]:
    by_id: dict[str, Span] = {}
    for span in spans:
        kept = by_id.get(span.span_id)
        # A retried export can deliver a span twice; if the copies differ, the failed one wins.
        if kept is None or (is_failed(span) and not is_failed(kept)):
            by_id[span.span_id] = span
    return by_id


def failure_chains(spans: Iterable[Span]) -> list[FailureChain]:
    """Every failure chain of one trace, in a stable order (by entry, then origin span id)."""
    by_id = _dedupe(spans)
    if not by_id:
        return []
    up: dict[str, tuple[str, str]] = {}  # span -> (the span above it, "child" | "link")
    below: dict[str, list[str]] = defaultdict(list)
    for span in by_id.values():
        if span.parent_span_id in by_id and span.parent_span_id != span.span_id:
            up[span.span_id] = (span.parent_span_id, "child")
            below[span.parent_span_id].append(span.span_id)
        for link_trace, link_span in span.links:
            if link_trace == span.trace_id and link_span in by_id and link_span != span.span_id:
                if span.span_id not in up:
                    up[span.span_id] = (link_span, "link")
                if link_span != span.parent_span_id:
                    below[link_span].append(span.span_id)
    failed = {sid for sid, span in by_id.items() if is_failed(span)}
    failed_below = _failed_descendants(by_id, below, failed)
    chains = [_chain(by_id, up, failed, by_id[sid]) for sid in failed if sid not in failed_below]
    return sorted(chains, key=lambda c: (c.entry.span_id, c.origin.span_id))


def _failed_descendants(by_id: dict[str, Span], below: dict[str, list[str]], failed: set[str]) -> set[str]:
    """Spans with at least one failed descendant, by an iterative post-order walk (cycle-safe)."""
    result: set[str] = set()
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    for start in by_id:
        if start in state:
            continue
        stack = [(start, iter(below.get(start, ())))]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                state[node] = 2
                if stack and (node in failed or node in result):
                    result.add(stack[-1][0])
                continue
            if state.get(child) == 1:
                continue  # a cycle in malformed data: ignore the back edge
            if state.get(child) == 2:
                if child in failed or child in result:
                    result.add(node)
                continue
            state[child] = 1
            stack.append((child, iter(below.get(child, ()))))
    return result


def _chain(by_id: dict[str, Span], up: dict[str, tuple[str, str]], failed: set[str], origin: Span) -> FailureChain:
    path = [(origin, "entry")]
    seen = {origin.span_id}
    node = origin.span_id
    while node in up:
        above, via = up[node]
        if above in seen:
            break  # a cycle in malformed data
        path[-1] = (path[-1][0], via)
        path.append((by_id[above], "entry"))
        seen.add(above)
        node = above
    path.reverse()
    hops = tuple(
        Hop(s.span_id, s.service, s.name, s.kind, s.status_code, s.span_id in failed, s.duration_ns, via)
        for s, via in path
    )
    services: list[str] = []
    for hop in hops:
        if hop.service not in services:
            services.append(hop.service)
    entry = path[0][0]
    info = _origin(origin)
    return FailureChain(
        trace_id=origin.trace_id,
        origin=info,
        hops=hops,
        propagated=all(hop.failed for hop in hops[:-1]),
        orphaned_entry=bool(entry.parent_span_id) and entry.parent_span_id not in by_id,
        signature=signature(info.service, info.operation, info.normalized_error, tuple(services)),
        services=tuple(services),
        entry_start_ns=entry.start_ns,
    )
