"""Failure chains of one trace (the definitions of DESIGN.md, made exact).

- A span *failed* if its status is Error; or, unless its status says Ok: it is a server span with
  HTTP status >= 500 or a client span with HTTP status >= 400 (current or older conventions); it
  carries a gRPC status code the conventions count as an error (server: UNKNOWN, DEADLINE_EXCEEDED,
  UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS; client: anything but OK); it recorded an
  `exception` event; or an ERROR-or-worse log record with an exception type (or a FATAL one) was
  written inside it (`Span.log_evidence`, attached by storage).
- *Hops* are parent -> child edges and span links (the linked span -> the span that links to it, as
  producer -> consumer on a queue). Only spans of the same trace take part.
- A *cancellation* (gRPC CANCELLED, HTTP 499, a CancelledError or "context canceled") below a
  *timeout* (HTTP 408/504, DEADLINE_EXCEEDED, an error that says it timed out) is an effect of that
  timeout: it does not count as a failure when origins are found.
- An *origin* is a failed span none of whose descendants (through either kind of hop) failed.
- The *chain* of an origin is the path from the top of its trace down to it, following the parent
  (or, for a span whose parent is absent, the link). A span whose parent never arrived is the top
  of its chain (an orphan entry): its failures are kept, not dropped.
- A chain is *propagated* if every span above the origin failed, *absorbed* otherwise.
- Chains of one signature in one trace are one failure with N *attempts* (retries of one call).
- The *latency cause* of a timeout or cancellation origin is the span with the largest self time on
  the critical path of the origin's subtree (the origin itself when nothing was recorded below it).

Structure, never timestamps, decides origins and chains, so clock skew between hosts cannot move an
origin. Duplicated spans (same span id) count once. Each step is linear in the number of spans and
uses no recursion, so a 10,000-span trace is analysed in milliseconds.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from urllib.parse import urlsplit

from analysis.critical_path import children_of, critical_path
from analysis.signature import normalize_message, signature
from core.types import Evidence, FailureChain, Hop, LatencyCause, Origin, Span

_HTTP_STATUS_KEYS = ("http.response.status_code", "http.status_code")
_GRPC_STATUS_KEY = "rpc.grpc.status_code"
_PEER_KEYS = ("db.system", "messaging.destination.name", "peer.service", "server.address", "net.peer.name")
_PORT_OF = {"server.address": "server.port", "net.peer.name": "net.peer.port"}
GRPC_CODES = (
    "OK CANCELLED UNKNOWN INVALID_ARGUMENT DEADLINE_EXCEEDED NOT_FOUND ALREADY_EXISTS PERMISSION_DENIED "
    "RESOURCE_EXHAUSTED FAILED_PRECONDITION ABORTED OUT_OF_RANGE UNIMPLEMENTED INTERNAL UNAVAILABLE DATA_LOSS "
    "UNAUTHENTICATED"
).split()
# The codes a server span fails with (OpenTelemetry's gRPC conventions); a client fails on any but OK.
GRPC_SERVER_ERRORS = frozenset({2, 4, 12, 13, 14, 15})
_TIMEOUT_WORDS = re.compile(r"time[ds]?[ _-]?out|deadline[ _]?exceeded", re.I)
_CANCEL_WORDS = re.compile(r"cancel+(?:ed|ation)", re.I)


def http_status(span: Span) -> int | None:
    """The larger of the current and the older semantic conventions' status (as migration 007)."""
    if span.http_status is not None:
        return span.http_status or None
    codes = [int(v) for v in (span.attributes.get(k, "") for k in _HTTP_STATUS_KEYS) if v.isdigit() and len(v) <= 5]
    return max(codes, default=0) or None


def grpc_status(span: Span) -> int | None:
    """The span's gRPC status code (migration 017 states the same rule), None when it has none."""
    if span.grpc_status is not None:
        return span.grpc_status if span.grpc_status >= 0 else None
    value = span.attributes.get(_GRPC_STATUS_KEY, "")
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 4 else None


def _exception(span: Span) -> dict[str, str] | None:
    for event in span.events:
        if event.name == "exception":
            return event.attributes
    return None


def _failed_by_span(span: Span) -> bool:
    """The rule on the span alone (migration 017's HopscopeFailed column), without log evidence."""
    if span.failed is not None:
        return span.failed
    if span.status_code == "Error":
        return True
    if span.status_code == "Ok":
        return False
    status, grpc = http_status(span) or 0, grpc_status(span)
    if span.kind == "Server" and (status >= 500 or grpc in GRPC_SERVER_ERRORS):
        return True
    if span.kind == "Client" and (status >= 400 or (grpc or 0) > 0):
        return True
    return _exception(span) is not None


def is_failed(span: Span) -> bool:
    if _failed_by_span(span):
        return True
    return span.log_evidence is not None and span.status_code != "Ok"


def failure_kind(span: Span) -> str | None:
    """ "timeout" or "cancelled" when the span's failure is one, else None."""
    grpc, status = grpc_status(span), http_status(span)
    exception = _exception(span) or {}
    texts = [span.status_message, exception.get("exception.type", ""), exception.get("exception.message", "")]
    if span.log_evidence:
        texts += [span.log_evidence.exception_type, span.log_evidence.message]
    text = "\n".join(t for t in texts if t)
    if status in (408, 504) or grpc == 4 or _TIMEOUT_WORDS.search(text):
        return "timeout"
    if status == 499 or grpc == 1 or _CANCEL_WORDS.search(text):
        return "cancelled"
    return None


def peer(span: Span) -> str | None:
    """What a client or producer span was calling ("unknown" when it does not say); None for other
    kinds. An address keeps its port. Migration 020's HopscopePeer states the same rule
    (tests/storage/test_derived_columns.py)."""
    if span.kind not in ("Client", "Producer"):
        return None
    if span.peer is not None:
        return span.peer or None
    attributes = span.attributes
    for key in _PEER_KEYS:
        if attributes.get(key):
            return _with_port(attributes[key], attributes.get(_PORT_OF.get(key, ""), ""))
    for key in ("url.full", "http.url"):
        if attributes.get(key):
            return urlsplit(attributes[key]).netloc or None
    return "unknown"


def _with_port(host: str, port: str) -> str:
    return f"{host}:{port}" if port else host


def endpoints(span: Span) -> tuple[str, ...]:
    """The addresses a server span was reached at, as its clients name them (host:port): the Host
    header, server.address/port, net.host.name/port, the URL's netloc. Migration 020's
    HopscopeEndpoints states the same rule."""
    if span.kind != "Server":
        return ()
    if span.endpoints is not None:
        return span.endpoints
    a = span.attributes
    found = [
        a.get("http.host", ""),
        _with_port(a["server.address"], a.get("server.port", "")) if a.get("server.address") else "",
        _with_port(a["net.host.name"], a.get("net.host.port", "")) if a.get("net.host.name") else "",
        urlsplit(a.get("url.full", "")).netloc,
        urlsplit(a.get("http.url", "")).netloc,
    ]
    return tuple(dict.fromkeys(x for x in found if x and x != ":"))


def resolve_peer(origin: Origin, services_at: Mapping[str, str]) -> Origin:
    """The origin with its peer named by the service that serves that address, when one is known
    (the address kept in `peer_address`)."""
    service = services_at.get(origin.peer or "")
    if not service or origin.peer_address is not None:
        return origin
    return replace(origin, peer=service, peer_address=origin.peer)


def _origin(span: Span) -> Origin:
    exception = _exception(span) or {}
    log = span.log_evidence
    status = http_status(span)
    grpc = grpc_status(span)
    if exception.get("exception.type"):
        error_type: str | None = exception["exception.type"]
        message = exception.get("exception.message", "") or span.status_message or exception["exception.type"]
        normalized = exception["exception.type"]
    elif span.status_message:
        error_type, message = None, span.status_message
        normalized = normalize_message(message)
    elif log is not None and log.exception_type:
        error_type, message, normalized = log.exception_type, log.message or log.exception_type, log.exception_type
    elif status and status >= 400:
        error_type = message = normalized = f"HTTP {status}"
    elif grpc:
        error_type = message = normalized = f"gRPC {GRPC_CODES[grpc] if grpc < len(GRPC_CODES) else grpc}"
    elif log is not None:
        error_type, message = None, log.message or log.severity
        normalized = normalize_message(message)
    else:
        error_type, message, normalized = None, "Error", "Error"
    evidence = Evidence(
        status_code=span.status_code,
        status_message=span.status_message,
        http_status=status,
        grpc_status=(GRPC_CODES[grpc] if grpc < len(GRPC_CODES) else str(grpc)) if grpc is not None else None,
        exception_type=exception.get("exception.type") or None,
        exception_message=exception.get("exception.message") or None,
        log=log,
        kind=failure_kind(span),
    )
    return Origin(
        span.span_id, span.service, span.name, span.kind, peer(span), error_type, message, normalized, evidence
    )


def _dedupe(spans: Iterable[Span]) -> dict[str, Span]:
    by_id: dict[str, Span] = {}
    for span in spans:
        kept = by_id.get(span.span_id)
        # A retried export can deliver a span twice; if the copies differ, the failed one wins.
        if kept is None or (is_failed(span) and not is_failed(kept)):
            by_id[span.span_id] = span
        elif kept.log_evidence is None and span.log_evidence is not None:
            by_id[span.span_id] = replace(kept, log_evidence=span.log_evidence)
    return by_id


def failure_chains(spans: Iterable[Span]) -> list[FailureChain]:
    """Every failure chain of one trace, one per signature (its attempts counted), in a stable order
    (by entry, then origin span id)."""
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
    kinds = {sid: failure_kind(by_id[sid]) for sid in failed}
    failed -= _explained_cancellations(up, failed, kinds)
    failed_below = _failed_descendants(by_id, below, failed)
    children = children_of(by_id.values())
    chains = [_chain(by_id, up, failed, by_id[sid], kinds[sid], children) for sid in failed if sid not in failed_below]
    services_at = {address: span.service for span in by_id.values() for address in endpoints(span)}
    if services_at:
        chains = [replace(c, origin=resolve_peer(c.origin, services_at)) for c in chains]
    return _with_symptoms(_one_per_signature(chains, by_id))


def _with_symptoms(chains: list[FailureChain]) -> list[FailureChain]:
    """A client or producer origin whose peer is a service where another chain of the trace starts
    (the callee failed, and this call lost its connection or gave up on it) is that chain's symptom
    (never of a chain that is itself a symptom)."""
    starts: dict[str, str] = {}
    for chain in chains:
        starts.setdefault(chain.origin.service, chain.signature)
    marks = {
        c.signature: starts[c.origin.peer]
        for c in chains
        if c.origin.kind in ("Client", "Producer") and c.origin.peer in starts and c.origin.peer != c.origin.service
    }
    marks = {sig: of for sig, of in marks.items() if of not in marks}
    return [replace(c, symptom_of=marks[c.signature]) if c.signature in marks else c for c in chains]


def _explained_cancellations(
    up: dict[str, tuple[str, str]], failed: set[str], kinds: dict[str, str | None]
) -> set[str]:
    """Cancelled spans with a timed-out span above them: effects of that timeout."""
    timed_out = {sid for sid in failed if kinds[sid] == "timeout"}
    if not timed_out:
        return set()
    explained: set[str] = set()
    for sid in failed:
        if kinds[sid] != "cancelled":
            continue
        node, seen = sid, {sid}
        while node in up:
            node = up[node][0]
            if node in seen:
                break
            seen.add(node)
            if node in timed_out:
                explained.add(sid)
                break
    return explained


def _one_per_signature(chains: list[FailureChain], by_id: dict[str, Span]) -> list[FailureChain]:
    """Retries of one failing call: the last attempt stands for all, counted."""
    by_signature: dict[str, list[FailureChain]] = defaultdict(list)
    for chain in chains:
        by_signature[chain.signature].append(chain)
    result = []
    for members in by_signature.values():
        members.sort(key=lambda c: (by_id[c.origin.span_id].start_ns, c.origin.span_id))
        last = members[-1]
        result.append(
            replace(last, attempts=len(members), propagated=any(c.propagated for c in members))
            if len(members) > 1
            else last
        )
    return sorted(result, key=lambda c: (c.entry.span_id, c.origin.span_id))


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


def _chain(
    by_id: dict[str, Span],
    up: dict[str, tuple[str, str]],
    failed: set[str],
    origin: Span,
    kind: str | None,
    children: dict[str, list[Span]],
) -> FailureChain:
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
        Hop(s.span_id, s.service, s.name, s.kind, s.status_code, s.span_id in failed, s.duration_ns, via, s.trace_id)
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
        latency_cause=latency_cause(origin, children, by_id) if kind else None,
        version=origin.version,
    )


def latency_cause(symptom: Span, children: dict[str, list[Span]], by_id: dict[str, Span]) -> LatencyCause:
    """The span with the largest self time on the critical path below `symptom` (itself if nothing
    was recorded below it)."""
    steps = critical_path(symptom, children)
    below = steps[1:] or steps
    step = max(below, key=lambda s: s.self_ns)
    span = by_id[step.span_id]
    end = symptom.start_ns + symptom.duration_ns
    return LatencyCause(
        span_id=span.span_id,
        service=span.service,
        operation=span.name,
        self_ns=step.self_ns,
        share=round(step.self_ns / symptom.duration_ns, 4) if symptom.duration_ns > 0 else 0.0,
        failed=is_failed(span),
        outlived_caller=span.span_id != symptom.span_id and span.start_ns + span.duration_ns > end,
    )


MAX_ASYNC_DEPTH = 3


def with_upstream(
    chain: FailureChain, traces: Mapping[str, Mapping[str, Span]], max_depth: int = MAX_ASYNC_DEPTH
) -> FailureChain:
    """The chain continued upwards across traces: while its top span links to a span of another
    trace (a consumer to its producer), the producer's path from the top of its trace is put in
    front, the broker hop marked "async". `traces` maps trace id -> span id -> span (the chain's
    own trace included); producers not in it end the walk, and so does `max_depth` (`async_cut`)."""
    own = traces.get(chain.trace_id, {})
    top = own.get(chain.hops[0].span_id)
    hops, upstream, cut = list(chain.hops), list[str](), False
    while top is not None:
        link = next(((t, s) for t, s in top.links if t != top.trace_id and t in traces and s in traces[t]), None)
        if link is None:
            break
        if len(upstream) == max_depth or link[0] in upstream or link[0] == chain.trace_id:
            cut = len(upstream) == max_depth
            break
        producer = traces[link[0]]
        path = _path_to_top(producer, link[1])
        hops[0] = replace(hops[0], via="async")
        hops = [
            Hop(s.span_id, s.service, s.name, s.kind, s.status_code, is_failed(s), s.duration_ns, via, s.trace_id)
            for s, via in path
        ] + hops
        upstream.append(link[0])
        top = path[0][0]
    if not upstream:
        return replace(chain, async_cut=True) if cut else chain
    services: list[str] = []
    for hop in hops:
        if hop.service not in services:
            services.append(hop.service)
    return replace(chain, hops=tuple(hops), services=tuple(services), upstream_traces=tuple(upstream), async_cut=cut)


def _path_to_top(spans: Mapping[str, Span], span_id: str) -> list[tuple[Span, str]]:
    """The spans from the top of a trace down to `span_id`, each with how it was reached."""
    path = [(spans[span_id], "entry")]
    seen = {span_id}
    while True:
        span = path[-1][0]
        above, via = None, "child"
        if span.parent_span_id in spans:
            above = span.parent_span_id
        else:
            above = next((s for t, s in span.links if t == span.trace_id and s in spans), None)
            via = "link"
        if above is None or above in seen:
            break
        path[-1] = (span, via)
        path.append((spans[above], "entry"))
        seen.add(above)
    path.reverse()
    return path
