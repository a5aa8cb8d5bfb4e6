"""The shared vocabulary: time ranges, spans as read from storage, and the failure chains computed
from them. Plain frozen data; storage, analysis, alerting and the collector all speak it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TimeRange:
    """[since_ns, until_ns) in Unix nanoseconds."""

    since_ns: int
    until_ns: int

    @property
    def seconds(self) -> float:
        return (self.until_ns - self.since_ns) / 1e9


@dataclass(frozen=True)
class SpanEvent:
    time_ns: int
    name: str
    attributes: dict[str, str]


@dataclass(frozen=True)
class LogEvidence:
    """An ERROR-or-worse log record written inside a span: the span failed even if its status did not say so."""

    time_ns: int
    severity: str
    exception_type: str  # "" when the record only counts for being FATAL
    message: str  # the exception message, else the record's body


@dataclass(frozen=True)
class Span:
    """One span as stored in `otel_traces` (ids in hex, times in Unix nanoseconds)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: str  # Server, Client, Producer, Consumer, Internal, Unspecified
    service: str
    start_ns: int
    duration_ns: int
    status_code: str  # Unset, Ok, Error
    status_message: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    events: tuple[SpanEvent, ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (trace id, span id)
    scope: str = ""
    # Precomputed by storage when it has them (then `attributes` may be left empty): whether the
    # span failed, what a client/producer span called, and its HTTP status (0: none).
    failed: bool | None = None
    peer: str | None = None
    http_status: int | None = None
    grpc_status: int | None = None  # precomputed: -1 when the span carries none
    endpoints: tuple[str, ...] | None = None  # precomputed: addresses a server span was reached at
    version: str = ""  # the resource's service.version
    log_evidence: LogEvidence | None = None  # attached by storage from the trace's logs


@dataclass(frozen=True)
class Hop:
    """One span on a failure chain, from the entry span down to the origin."""

    span_id: str
    service: str
    operation: str
    kind: str
    status_code: str
    failed: bool
    duration_ns: int
    via: str  # how this span was reached from the one above: "entry", "child", "link" or "async"
    trace_id: str = ""  # the span's trace: another trace than the chain's for hops before an async one


@dataclass(frozen=True)
class Evidence:
    """Everything that says an origin span failed (any may be empty)."""

    status_code: str  # Unset, Ok, Error
    status_message: str
    http_status: int | None
    grpc_status: str | None  # the code's name, e.g. DEADLINE_EXCEEDED
    exception_type: str | None  # from the span's exception event
    exception_message: str | None
    log: LogEvidence | None  # an error log record written in the span
    kind: str | None  # "timeout" or "cancelled" when the failure is one; else None


@dataclass(frozen=True)
class Origin:
    span_id: str
    service: str
    operation: str
    kind: str
    peer: str | None  # the database, host or queue a failing client/producer span was calling
    error_type: str | None  # the exception type, when one was recorded
    message: str  # the raw error (exception message, status message or HTTP status)
    normalized_error: str  # what the signature uses: the type, else the message without ids/numbers
    evidence: Evidence | None = None  # why the origin span counts as failed
    peer_address: str | None = None  # the address `peer` was called at, when peer names the service behind it


@dataclass(frozen=True)
class LatencyCause:
    """Where the time went under a timeout or cancellation: the span with the largest self time on
    the critical path of the failed span's subtree."""

    span_id: str
    service: str
    operation: str
    self_ns: int
    share: float  # of the failed span's duration
    failed: bool
    outlived_caller: bool  # it kept running after the span that gave up on it ended


@dataclass(frozen=True)
class CriticalStep:
    """One span on a critical path and the time it alone accounts for."""

    span_id: str
    self_ns: int


@dataclass(frozen=True)
class FailureChain:
    trace_id: str
    origin: Origin
    hops: tuple[Hop, ...]  # entry first, origin last
    propagated: bool  # every span above the origin failed: the caller at the entry saw it
    orphaned_entry: bool  # the entry span's own parent never arrived: the chain may start higher up
    signature: str
    services: tuple[str, ...]  # the distinct services on the chain, entry first
    entry_start_ns: int  # when the entry span started (for first/last seen and time series)
    attempts: int = 1  # chains of this signature in the trace (retries of one failing call count once)
    latency_cause: LatencyCause | None = None  # for timeouts and cancellations
    version: str = ""  # the origin's service.version
    upstream_traces: tuple[str, ...] = ()  # producer traces whose path comes before the chain's own
    async_cut: bool = False  # a producer further up was not followed (the walk's bounds)
    symptom_of: str = ""  # the signature of the chain of the same trace this one is a symptom of

    @property
    def entry(self) -> Hop:
        return self.hops[0]


@dataclass(frozen=True)
class EntryPoint:
    service: str
    operation: str
    traces: int


@dataclass(frozen=True)
class GroupCause:
    """The latency cause most common across a group's timeouts: where their time went."""

    service: str
    operation: str
    traces: int  # traces of the group whose latency cause this was
    median_self_ns: int
    median_share: float


@dataclass(frozen=True)
class VersionSeen:
    """A version the group's origin service ran, and when hopscope first saw that version."""

    version: str
    traces: int  # the group's traces whose origin ran it
    first_seen_ns: int | None  # None: seen before versions were recorded


@dataclass(frozen=True)
class DeployOnset:
    """The group's failures began shortly after a new version of its origin service appeared."""

    version: str
    first_seen_ns: int
    lead_ns: int  # from the version's first appearance to the group's first failure


@dataclass(frozen=True)
class AttributeDelta:
    """An attribute value over-represented among failing spans compared with healthy ones."""

    source: str  # "span" or "resource"
    key: str
    value: str
    failing: int  # sampled failing spans with it
    healthy: int  # sampled healthy spans with it
    failing_share: float  # of the sampled failing spans
    healthy_share: float


@dataclass(frozen=True)
class Symptom:
    """A failure seen in a group's traces that is an effect of the group's origin: a caller whose
    call to the origin's service failed without that service's span saying so (the connection was
    dropped, the call timed out before an answer). Shown under the group, not as a problem of its own."""

    signature: str
    origin: Origin
    path: tuple[str, ...]
    traces: int


@dataclass(frozen=True)
class FailureGroup:
    """All chains of one signature: one problem, however many requests it broke."""

    signature: str
    traces: int  # distinct traces with a chain of this signature
    propagated_traces: int  # ... in which the failure reached the entry span (users saw it)
    absorbed_traces: int  # ... in which a caller above hid it (retry, fallback)
    origin: Origin  # from the most recent chain
    path: tuple[str, ...]  # services from entry to origin
    hops: tuple[Hop, ...]  # the most recent chain, hop by hop
    entry_points: tuple[EntryPoint, ...]
    first_seen_ns: int
    last_seen_ns: int
    per_minute: tuple[tuple[int, int], ...]  # (minute start in Unix seconds, traces)
    example_trace_ids: tuple[str, ...]  # newest first
    attempts: int = 0  # attempts over all its traces (a trace retrying the failing call counts each)
    latency_cause: GroupCause | None = None  # for timeouts and cancellations
    versions: tuple[VersionSeen, ...] = ()  # the origin service's versions, most traces first
    deploy_onset: DeployOnset | None = None
    attribute_deltas: tuple[AttributeDelta, ...] = ()  # what its origin's failing spans have in common
    symptoms: tuple[Symptom, ...] = ()  # other failures in its traces that were effects of this one
    partial: bool = False  # only seen without the top of its traces (their entry's parent has not arrived)
