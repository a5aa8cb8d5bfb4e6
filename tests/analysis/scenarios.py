"""The scenario library: small traces with the failure chains a person would name, written next
to them. Each scenario is analysed directly (`to_spans`, tests/analysis/test_chains.py) and sent
through the collector over OTLP (`to_request`, tests/analysis/test_scenarios.py)."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from core.types import LogEvidence, Span, SpanEvent

KINDS = {"Internal": 1, "Server": 2, "Client": 3, "Producer": 4, "Consumer": 5}
UNSET, OK, ERROR = 0, 1, 2


@dataclass
class S:
    """One span: `parent` and `links` name other spans of the scenario by id."""

    id: str
    service: str
    name: str
    kind: str = "Server"
    parent: str = ""
    status: int = UNSET
    message: str = ""
    attrs: dict = field(default_factory=dict)
    exception: tuple[str, str] | None = None
    links: tuple[str, ...] = ()  # span ids of this scenario, or "<trace id>/<span id>" of another trace
    start_ms: int = 0
    duration_ms: int = 10
    log: tuple[int, str, str] | None = (
        None  # a log record written in the span: severity number, exception type, message
    )
    version: str = ""  # the service's service.version (the first span of a service sets it)


@dataclass
class Chain:
    origin: str  # "service operation"
    path: tuple[str, ...]  # distinct services, entry first
    propagated: bool
    error: str | None = None  # the normalized error, when it matters
    orphaned: bool = False
    attempts: int = 1
    cause: str | None = None  # the latency cause, "service operation", when the failure is a timeout


@dataclass
class Scenario:
    name: str
    spans: list[S]
    chains: list[Chain]
    send_twice: tuple[str, ...] = ()


def _linked(trace_id: str, linked: str) -> tuple[str, str]:
    """A link names a span of the same scenario (`"pub"`) or of another trace (`"<trace id>/pub"`)."""
    other, _, name = linked.rpartition("/")
    return other or trace_id, name


def span_id(trace_id: str, name: str) -> bytes:
    return hashlib.sha256(f"{trace_id}/{name}".encode()).digest()[:8]


def to_request(spans: list[S], trace_id: str, base_ns: int | None = None) -> ExportTraceServiceRequest:
    base_ns = base_ns or time.time_ns() - 60 * 10**9
    request = ExportTraceServiceRequest()
    scopes = {}
    for spec in spans:
        if spec.service not in scopes:
            rs = request.resource_spans.add()
            rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=spec.service))
            if spec.version:
                rs.resource.attributes.add(key="service.version", value=AnyValue(string_value=spec.version))
            scopes[spec.service] = rs.scope_spans.add()
        start = base_ns + spec.start_ms * 10**6
        span = scopes[spec.service].spans.add(
            trace_id=bytes.fromhex(trace_id),
            span_id=span_id(trace_id, spec.id),
            name=spec.name,
            kind=KINDS[spec.kind],
            start_time_unix_nano=start,
            end_time_unix_nano=start + spec.duration_ms * 10**6,
            parent_span_id=span_id(trace_id, spec.parent) if spec.parent else b"",
        )
        span.status.code, span.status.message = spec.status, spec.message
        for key, value in spec.attrs.items():
            span.attributes.add(key=key, value=AnyValue(string_value=str(value)))
        if spec.exception:
            event = span.events.add(name="exception", time_unix_nano=start + 1)
            for key, value in (("exception.type", spec.exception[0]), ("exception.message", spec.exception[1])):
                event.attributes.add(key=key, value=AnyValue(string_value=value))
        for linked in spec.links:
            other, name = _linked(trace_id, linked)
            span.links.add(trace_id=bytes.fromhex(other), span_id=span_id(other, name))
    return request


SEVERITY_TEXT = {9: "INFO", 13: "WARN", 17: "ERROR", 21: "FATAL"}


def to_logs_request(spans: list[S], trace_id: str, base_ns: int | None = None) -> ExportLogsServiceRequest:
    """The log records the scenario's spans wrote (`S.log`), with their trace and span ids."""
    base_ns = base_ns or time.time_ns() - 60 * 10**9
    request = ExportLogsServiceRequest()
    for spec in spans:
        if spec.log is None:
            continue
        severity, exception_type, message = spec.log
        rl = request.resource_logs.add()
        rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=spec.service))
        record = rl.scope_logs.add().log_records.add(
            time_unix_nano=base_ns + spec.start_ms * 10**6 + 1,
            severity_number=severity,
            severity_text=SEVERITY_TEXT.get(severity, "ERROR"),
            trace_id=bytes.fromhex(trace_id),
            span_id=span_id(trace_id, spec.id),
        )
        record.body.string_value = f"request failed: {message}"
        if exception_type:
            record.attributes.add(key="exception.type", value=AnyValue(string_value=exception_type))
            record.attributes.add(key="exception.message", value=AnyValue(string_value=message))
    return request


_KIND_NAMES = {1: "Internal", 2: "Server", 3: "Client", 4: "Producer", 5: "Consumer"}
_STATUS_NAMES = {UNSET: "Unset", OK: "Ok", ERROR: "Error"}


def to_spans(specs: list[S], trace_id: str, base_ns: int = 1_795_000_000 * 10**9) -> list[Span]:
    """The spans as storage reads them back with their attributes (what trace detail analyses)."""
    spans: list[Span] = []
    versions: dict[str, str] = {}
    for spec in specs:
        start = base_ns + spec.start_ms * 10**6
        events: tuple[SpanEvent, ...] = ()
        if spec.exception:
            attrs = {"exception.type": spec.exception[0], "exception.message": spec.exception[1]}
            events = (SpanEvent(start + 1, "exception", attrs),)
        spans.append(
            Span(
                trace_id=trace_id,
                span_id=span_id(trace_id, spec.id).hex(),
                parent_span_id=span_id(trace_id, spec.parent).hex() if spec.parent else "",
                name=spec.name,
                kind=spec.kind,
                service=spec.service,
                start_ns=start,
                duration_ns=spec.duration_ms * 10**6,
                status_code=_STATUS_NAMES[spec.status],
                status_message=spec.message,
                attributes={key: str(value) for key, value in spec.attrs.items()},
                events=events,
                links=tuple(
                    (other, span_id(other, name).hex()) for other, name in (_linked(trace_id, x) for x in spec.links)
                ),
                version=versions.setdefault(spec.service, spec.version),
                log_evidence=_log_evidence(spec, start),
            )
        )
    return spans


def _log_evidence(spec: S, start: int) -> LogEvidence | None:
    """What storage attaches for the span's log record (storage.trace_reader.ERROR_LOG)."""
    if spec.log is None:
        return None
    severity, exception_type, message = spec.log
    if severity >= 21 or (severity >= 17 and exception_type):
        body = message if exception_type else f"request failed: {message}"
        return LogEvidence(start + 1, SEVERITY_TEXT.get(severity, "ERROR"), exception_type, body)
    return None


def _hop_chain(services: list[str], origin_exception=("TimeoutError", "read timed out")) -> list[S]:
    """service[0] server -> client -> service[1] server -> ... every span failed."""
    spans, parent = [], ""
    for i, service in enumerate(services):
        server = S(
            f"{service}-in",
            service,
            f"GET /{service}",
            parent=parent,
            status=ERROR,
            exception=origin_exception if i == len(services) - 1 else None,
            start_ms=i * 2,
        )
        spans.append(server)
        if i < len(services) - 1:
            client = S(
                f"{service}-out", service, "GET", kind="Client", parent=server.id, status=ERROR, start_ms=i * 2 + 1
            )
            spans.append(client)
            parent = client.id
    return spans


SIX = ["edge", "gateway", "orders", "billing", "accounts", "vault"]

SCENARIOS = [
    Scenario(
        "single failing service",
        [S("a", "catalog", "GET /items", status=ERROR, exception=("KeyError", "'sku-9'"))],
        [Chain("catalog GET /items", ("catalog",), True, "KeyError")],
    ),
    Scenario(
        "three-hop propagated failure",
        _hop_chain(["frontend", "checkout", "ledger"]),
        [Chain("ledger GET /ledger", ("frontend", "checkout", "ledger"), True, "TimeoutError")],
    ),
    Scenario(
        "six-hop propagated failure", _hop_chain(SIX), [Chain("vault GET /vault", tuple(SIX), True, "TimeoutError")]
    ),
    Scenario(
        "two independent origins in one trace",
        [
            S("root", "api", "POST /order", status=ERROR),
            S("c1", "api", "GET", kind="Client", parent="root", status=ERROR),
            S("s1", "stock", "GET /stock", parent="c1", status=ERROR, exception=("StockError", "no stock")),
            S("c2", "api", "POST", kind="Client", parent="root", status=ERROR),
            S("s2", "pricing", "POST /price", parent="c2", status=ERROR, exception=("PriceError", "no price")),
        ],
        [
            Chain("stock GET /stock", ("api", "stock"), True, "StockError"),
            Chain("pricing POST /price", ("api", "pricing"), True, "PriceError"),
        ],
    ),
    Scenario(
        "failure absorbed by a retry",
        [
            S("root", "checkout", "POST /orders", status=UNSET),
            S("try1", "checkout", "POST", kind="Client", parent="root", status=ERROR),
            S("pay1", "payment", "POST /payments", parent="try1", status=ERROR, exception=("CardError", "rejected")),
            S("try2", "checkout", "POST", kind="Client", parent="root", start_ms=20),
            S("pay2", "payment", "POST /payments", parent="try2", start_ms=21),
        ],
        [Chain("payment POST /payments", ("checkout", "payment"), False, "CardError")],
    ),
    Scenario(
        "failure absorbed by a fallback",
        [
            S("root", "checkout", "POST /orders"),
            S("call", "checkout", "GET", kind="Client", parent="root", status=ERROR),
            S("inv", "inventory", "GET /stock", parent="call", status=ERROR, message="backend unavailable"),
        ],
        [Chain("inventory GET /stock", ("checkout", "inventory"), False, "backend unavailable")],
    ),
    Scenario(
        "failing consumer on an asynchronous hop",
        [
            S("root", "checkout", "POST /orders"),
            S("pub", "checkout", "orders publish", kind="Producer", parent="root"),
            S(
                "con",
                "shipping",
                "orders process",
                kind="Consumer",
                links=("pub",),
                status=ERROR,
                exception=("ShipmentError", "no carrier"),
                start_ms=500,
            ),
        ],
        [Chain("shipping orders process", ("checkout", "shipping"), False, "ShipmentError")],
    ),
    Scenario(
        "failing database call with no service below",
        [
            S("root", "ledger", "POST /entries", status=ERROR),
            S(
                "db",
                "ledger",
                "INSERT",
                kind="Client",
                parent="root",
                status=ERROR,
                attrs={"db.system": "postgresql"},
                exception=("OperationalError", "lock timeout"),
            ),
        ],
        [Chain("ledger INSERT", ("ledger",), True, "OperationalError")],
    ),
    Scenario(
        "orphan whose parent never arrives",
        [
            S(
                "orphan",
                "worker",
                "process job",
                parent="never-sent",
                status=ERROR,
                exception=("JobError", "bad input"),
            ),
        ],
        [Chain("worker process job", ("worker",), True, "JobError", orphaned=True)],
    ),
    Scenario(
        "child that starts before its parent (clock skew)",
        [
            S("root", "web", "GET /", status=ERROR, start_ms=100),
            S("call", "web", "GET", kind="Client", parent="root", status=ERROR, start_ms=101),
            S("api", "api", "GET /data", parent="call", status=ERROR, exception=("ValueError", "bad"), start_ms=-400),
        ],
        [Chain("api GET /data", ("web", "api"), True, "ValueError")],
    ),
    Scenario(
        "the same span sent twice",
        _hop_chain(["web", "api"]),
        [Chain("api GET /api", ("web", "api"), True, "TimeoutError")],
        send_twice=("api-in", "web-out"),
    ),
    Scenario(
        "exception event without Error status",
        [
            S("root", "web", "GET /"),
            S("work", "web", "render", kind="Internal", parent="root", exception=("TemplateError", "missing block")),
        ],
        [Chain("web render", ("web",), False, "TemplateError")],
    ),
    Scenario(
        "HTTP 503 server span without Error status",
        [
            S("root", "gateway", "GET /", attrs={"http.status_code": 200}),
            S("call", "gateway", "GET", kind="Client", parent="root"),
            S("svc", "search", "GET /search", parent="call", attrs={"http.response.status_code": 503}),
        ],
        [Chain("search GET /search", ("gateway", "search"), False, "HTTP 503")],
    ),
    Scenario(
        "an exception that the status says was handled (Ok) is not a failure",
        [
            S("root", "web", "GET /", status=OK, exception=("CacheMiss", "recomputed")),
        ],
        [],
    ),
    Scenario(
        "older-convention HTTP 502 at the root with no status: the user saw it",
        [
            S("root", "gateway", "GET /cart", attrs={"http.status_code": 502}),
            S("call", "gateway", "GET", kind="Client", parent="root", attrs={"http.status_code": 200}),
            S("cart", "cart", "GET /cart", parent="call", attrs={"http.status_code": 200}),
        ],
        [Chain("gateway GET /cart", ("gateway",), True, "HTTP 502")],
    ),
    Scenario(
        "gRPC status code only",
        [
            S("root", "web", "GET /quote", status=ERROR),
            S("call", "web", "pricing.Quote", kind="Client", parent="root", attrs={"rpc.grpc.status_code": 14}),
            S("svc", "pricing", "pricing.Quote", parent="call", attrs={"rpc.grpc.status_code": 14}),
            S("ok", "pricing", "pricing.Cache", kind="Client", parent="svc", attrs={"rpc.grpc.status_code": 0}),
        ],
        [Chain("pricing pricing.Quote", ("web", "pricing"), True, "gRPC UNAVAILABLE")],
    ),
    Scenario(
        "exception only in a log record: the span that logged it is the origin",
        [
            S("root", "shop", "POST /buy", attrs={"http.response.status_code": 500}),
            S(
                "charge",
                "shop",
                "charge card",
                kind="Internal",
                parent="root",
                log=(17, "CardDeclined", "card 4242 declined"),
            ),
            S(
                "audit", "shop", "audit", kind="Internal", parent="root", log=(17, "", "audit slow")
            ),  # no exception type: not evidence
        ],
        [Chain("shop charge card", ("shop",), True, "CardDeclined")],
    ),
    Scenario(
        "a FATAL log record alone marks its span",
        [S("root", "batch", "nightly import", kind="Internal", log=(21, "", "out of disk"))],
        [Chain("batch nightly import", ("batch",), True, "request failed: out of disk")],
    ),
    Scenario(
        "timeout with a slow database call in the callee",
        [
            S("root", "checkout", "POST /orders", status=ERROR, duration_ms=1100),
            S(
                "call",
                "checkout",
                "POST",
                kind="Client",
                parent="root",
                status=ERROR,
                exception=("httpx.ReadTimeout", "timed out"),
                start_ms=10,
                duration_ms=1000,
            ),
            S("ledger", "ledger", "POST /entries", parent="call", start_ms=15, duration_ms=1600),
            S(
                "lock",
                "ledger",
                "SELECT accounts",
                kind="Client",
                parent="ledger",
                attrs={"db.system": "postgresql"},
                start_ms=20,
                duration_ms=40,
            ),
            S(
                "insert",
                "ledger",
                "INSERT entries",
                kind="Client",
                parent="ledger",
                attrs={"db.system": "postgresql"},
                start_ms=70,
                duration_ms=1500,
            ),
        ],
        [Chain("checkout POST", ("checkout",), True, "httpx.ReadTimeout", cause="ledger INSERT entries")],
    ),
    Scenario(
        "cancellation cascade below a deadline: the timeout is the origin, cancellations are effects",
        [
            S("root", "frontend", "GET /home", status=ERROR, attrs={"http.response.status_code": 504}, duration_ms=600),
            S(
                "call",
                "frontend",
                "recs.Get",
                kind="Client",
                parent="root",
                attrs={"rpc.grpc.status_code": 4},
                start_ms=5,
                duration_ms=500,
            ),
            S(
                "recs",
                "recs",
                "recs.Get",
                parent="call",
                status=ERROR,
                message="context canceled",
                attrs={"rpc.grpc.status_code": 1},
                start_ms=8,
                duration_ms=497,
            ),
            S("model", "recs", "model score", kind="Internal", parent="recs", start_ms=10, duration_ms=60),
            S(
                "db",
                "recs",
                "SELECT history",
                kind="Client",
                parent="recs",
                status=ERROR,
                exception=("asyncio.CancelledError", ""),
                attrs={"db.system": "postgresql"},
                start_ms=75,
                duration_ms=430,
            ),
        ],
        [Chain("frontend recs.Get", ("frontend",), True, "gRPC DEADLINE_EXCEEDED", cause="recs SELECT history")],
    ),
    Scenario(
        "fan-out with a partial failure absorbed by the caller",
        [S("root", "search", "GET /search")]
        + [S(f"c{i}", "search", "POST", kind="Client", parent="root", start_ms=1) for i in range(4)]
        + [
            S(
                f"s{i}",
                "shard",
                "POST /query",
                parent=f"c{i}",
                start_ms=2,
                status=ERROR if i in (1, 3) else UNSET,
                exception=("ShardUnavailable", "replica down") if i in (1, 3) else None,
            )
            for i in range(4)
        ],
        [Chain("shard POST /query", ("search", "shard"), False, "ShardUnavailable", attempts=2)],
    ),
    Scenario(
        "retries that all fail are one failure with three attempts",
        [S("root", "checkout", "POST /pay", status=ERROR)]
        + [
            span
            for i in range(3)
            for span in (
                S(f"try{i}", "checkout", "POST", kind="Client", parent="root", status=ERROR, start_ms=20 * i),
                S(
                    f"pay{i}",
                    "payment",
                    "POST /charge",
                    parent=f"try{i}",
                    status=ERROR,
                    start_ms=20 * i + 1,
                    exception=("GatewayError", f"attempt {i} refused"),
                ),
            )
        ],
        [Chain("payment POST /charge", ("checkout", "payment"), True, "GatewayError", attempts=3)],
    ),
]
