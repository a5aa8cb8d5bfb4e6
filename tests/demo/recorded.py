"""A recorded copy of the live demo's data: traces and logs read through the API from `hopscope up
--demo` with `hopscope fault ledger_timeout on` (data/ledger_timeout.json.gz), turned back into OTLP
requests so tests replay exactly what the demo sent — moved to the present, services renamed apart
so tests sharing a store do not see each other's rows."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

KINDS = {"Unspecified": 0, "Internal": 1, "Server": 2, "Client": 3, "Producer": 4, "Consumer": 5}
STATUS = {"Unset": 0, "Ok": 1, "Error": 2}
LEDGER_TIMEOUT = Path(__file__).parent / "data" / "ledger_timeout.json.gz"


def load(path: Path = LEDGER_TIMEOUT) -> list[dict]:
    """The recorded traces: each {"trace_id", "spans", "logs"} as GET /api/v1/traces/{id} gave them."""
    with gzip.open(path, "rt") as f:
        return json.load(f)["traces"]


def _attributes(target, values: dict[str, str]) -> None:
    for key, value in values.items():
        target.add(key=key, value=AnyValue(string_value=value))


def trace_id(recorded_id: str, tag: str) -> str:
    """The id a recorded trace is replayed under with `tag` (each test its own traces; no tag: its own)."""
    if not tag or not recorded_id:
        return recorded_id
    return hashlib.sha256(f"{tag}/{recorded_id}".encode()).hexdigest()[:32]


def replay(
    traces: Iterable[dict],
    tag: str,
    end_ns: int,
    keep: Callable[[dict], bool] = lambda span: True,
    together: bool = False,
) -> tuple[ExportTraceServiceRequest, ExportLogsServiceRequest]:
    """The traces' spans (those `keep` accepts) and logs as OTLP requests, shifted so the newest span
    ends at `end_ns` (`together`: of every trace, as if all had just happened), every service renamed
    "<service>-<tag>" and every trace id derived from `tag` (an empty tag: as recorded)."""
    traces = list(traces)
    if together:
        spans, logs = ExportTraceServiceRequest(), ExportLogsServiceRequest()
        for trace in traces:
            one, its_logs = replay([trace], tag, end_ns, keep)
            spans.resource_spans.extend(one.resource_spans)
            logs.resource_logs.extend(its_logs.resource_logs)
        return spans, logs

    def rename(service: str) -> str:
        return f"{service}-{tag}" if tag else service

    last = max(s["start_ns"] + s["duration_ns"] for t in traces for s in t["spans"])
    shift = end_ns - last
    spans = ExportTraceServiceRequest()
    scopes: dict[tuple[str, str], object] = {}
    for trace in traces:
        for s in trace["spans"]:
            if not keep(s):
                continue
            key = (s["service"], s["version"])
            if key not in scopes:
                rs = spans.resource_spans.add()
                _attributes(
                    rs.resource.attributes, {"service.name": rename(s["service"]), "service.version": s["version"]}
                )
                scopes[key] = rs.scope_spans.add()
            span = scopes[key].spans.add(  # type: ignore[attr-defined]
                trace_id=bytes.fromhex(trace_id(s["trace_id"], tag)),
                span_id=bytes.fromhex(s["span_id"]),
                parent_span_id=bytes.fromhex(s["parent_span_id"]),
                name=s["name"],
                kind=KINDS[s["kind"]],
                start_time_unix_nano=s["start_ns"] + shift,
                end_time_unix_nano=s["start_ns"] + s["duration_ns"] + shift,
            )
            span.status.code, span.status.message = STATUS[s["status_code"]], s["status_message"]
            _attributes(span.attributes, s["attributes"])
            for e in s["events"]:
                event = span.events.add(name=e["name"], time_unix_nano=e["time_ns"] + shift)
                _attributes(event.attributes, e["attributes"])
            for link_trace, link_span in s["links"]:
                span.links.add(trace_id=bytes.fromhex(trace_id(link_trace, tag)), span_id=bytes.fromhex(link_span))
    logs = ExportLogsServiceRequest()
    for trace in traces:
        for r in trace["logs"]:
            rl = logs.resource_logs.add()
            _attributes(rl.resource.attributes, {"service.name": rename(r["service"])})
            record = rl.scope_logs.add().log_records.add(
                time_unix_nano=r["time_ns"] + shift,
                severity_number=r["severity_number"],
                severity_text=r["severity_text"],
                trace_id=bytes.fromhex(trace_id(r["trace_id"], tag)) if r["trace_id"] else b"",
                span_id=bytes.fromhex(r["span_id"]) if r["span_id"] else b"",
            )
            record.body.string_value = r["body"]
            _attributes(record.attributes, r["attributes"])
    return spans, logs
