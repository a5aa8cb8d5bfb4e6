"""Notification payloads in the three webhook formats, and their signature.

generic       hopscope's own JSON (README, "Alert webhooks"): the alert, and the failure chains
              behind it with dashboard links.
slack         an incoming-webhook message: summary, origin, chain, links.
alertmanager  the Alertmanager webhook payload, version 4, so PagerDuty, Opsgenie and other
              Alertmanager receivers accept it.

Signing: `X-Hopscope-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>" with the
channel secret>` and `X-Hopscope-Timestamp: <Unix seconds>`; receivers recompute it over the raw
body and reject stale timestamps. `X-Hopscope-Idempotency-Key` is the same for every attempt of one
notification, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Literal


@dataclass(frozen=True)
class ChainSummary:
    """One failure signature behind an alert (from /api/v1/failures)."""

    signature: str
    origin_service: str
    origin_operation: str
    error: str
    path: list[str]
    propagated: bool
    traces: int
    example_trace_ids: list[str]
    attempts: int = 0  # failing attempts over those traces (retries counted)
    evidence: str = ""  # why the origin counts as failed: "HTTP 502", "gRPC UNAVAILABLE", "log ERROR …"
    latency_cause: str | None = None  # for timeouts: where the time went
    deploy: str | None = None  # the origin's new version, when the failures began right after it appeared
    versions: list[str] = field(default_factory=list)  # the origin's versions, most traces first
    attribute_deltas: list[str] = field(default_factory=list)  # what the failing requests have in common
    origin_peer: str | None = None  # what the origin was calling: the service behind an address when known
    symptoms: list[str] = field(
        default_factory=list
    )  # effects seen in the same traces ("payment POST → ledger: httpx.ReadError (6)")


def describe_delta(key: str, value: str, failing_share: float, healthy_share: float) -> str:
    """`user.tier=free (92% of failures, 10% of successes)`."""
    return f"{key}={value} ({failing_share:.0%} of failures, {healthy_share:.0%} of successes)"


def _duration(ns: int) -> str:
    return f"{ns / 1e9:.1f} s" if ns >= 10**9 else f"{ns / 1e6:.0f} ms"


def describe_cause(service: str, operation: str, self_ns: int, share: float, traces: int) -> str:
    """`ledger INSERT entries: 940 ms self time (94% of the timed-out call), in 12 traces`."""
    return (
        f"{service} {operation}: {_duration(self_ns)} self time ({share:.0%} of the timed-out call), in {traces} traces"
    )


def describe_onset(version: str, first_seen_ns: int, lead_ns: int) -> str:
    """`started with 2.4.0, first seen 14:02 UTC, 3 min before the first failure`."""
    first = datetime.fromtimestamp(first_seen_ns / 1e9, timezone.utc).strftime("%H:%M UTC")
    return f"started with {version}, first seen {first}, {lead_ns / 60e9:.0f} min before the first failure"


@dataclass(frozen=True)
class Notification:
    id: str  # the idempotency key: one per (alert, transition, repeat)
    fingerprint: str  # the alert: rule + labels
    rule: str
    status: Literal["firing", "resolved"]
    severity: str
    summary: str
    labels: dict[str, str]
    value: float | None
    threshold: float | None
    starts_at: datetime
    ends_at: datetime | None = None
    chains: list[ChainSummary] = field(default_factory=list)


def _iso(moment: datetime | None) -> str:
    return (
        (moment or datetime(1, 1, 1, tzinfo=timezone.utc)).astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    )


def _trace_url(dashboard_url: str, trace_id: str) -> str:
    return f"{dashboard_url.rstrip('/')}/trace?trace_id={trace_id}"


def generic(n: Notification, dashboard_url: str) -> dict:
    body = asdict(n)
    body["starts_at"], body["ends_at"] = _iso(n.starts_at), (_iso(n.ends_at) if n.ends_at else None)
    body["dashboard_url"] = f"{dashboard_url.rstrip('/')}/failures"
    for chain in body["chains"]:
        chain["example_trace_urls"] = [_trace_url(dashboard_url, t) for t in chain["example_trace_ids"]]
    return {"version": "1", "source": "hopscope", **body}


def slack(n: Notification, dashboard_url: str) -> dict:
    icon = ":red_circle:" if n.status == "firing" else ":large_green_circle:"
    lines = [f"{icon} *{n.status.upper()}* [{n.severity}] *{n.rule}* — {n.summary}"]
    for chain in n.chains[:3]:
        seen = "users saw it" if chain.propagated else "absorbed"
        links = " ".join(f"<{_trace_url(dashboard_url, t)}|{t[:8]}>" for t in chain.example_trace_ids[:3])
        lines.append(
            f"• origin *{chain.origin_service}* `{chain.origin_operation}`: {chain.error} "
            f"({' → '.join(chain.path)}; {chain.traces} traces, {seen}) {links}"
        )
        if chain.latency_cause:
            lines.append(f"    time went to {chain.latency_cause}")
        if chain.deploy:
            lines.append(f"    deploy: {chain.deploy}")
        if chain.attribute_deltas:
            lines.append(f"    in common: {'; '.join(chain.attribute_deltas)}")
        if chain.symptoms:
            lines.append(f"    also seen, as its effect: {'; '.join(chain.symptoms)}")
    lines.append(f"<{dashboard_url.rstrip('/')}/failures|Open the failures in hopscope>")
    return {"text": "\n".join(lines)}


def alertmanager(n: Notification, dashboard_url: str, receiver: str) -> dict:
    top = n.chains[0] if n.chains else None
    annotations = {"summary": n.summary, "description": n.summary}
    if top is not None:
        annotations["origin"] = f"{top.origin_service} {top.origin_operation}: {top.error}"
        annotations["chain"] = " -> ".join(top.path)
        if top.latency_cause:
            annotations["latency_cause"] = top.latency_cause
        if top.deploy:
            annotations["deploy"] = top.deploy
        if top.attribute_deltas:
            annotations["in_common"] = "; ".join(top.attribute_deltas)
        if top.symptoms:
            annotations["symptoms"] = "; ".join(top.symptoms)
        annotations["example_trace"] = (
            _trace_url(dashboard_url, top.example_trace_ids[0]) if top.example_trace_ids else ""
        )
    labels = {"alertname": n.rule, "severity": n.severity, **n.labels}
    alert = {
        "status": n.status,
        "labels": labels,
        "annotations": annotations,
        "startsAt": _iso(n.starts_at),
        "endsAt": _iso(n.ends_at),
        "generatorURL": f"{dashboard_url.rstrip('/')}/failures",
        "fingerprint": n.fingerprint,
    }
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{n.rule}"}}',
        "truncatedAlerts": 0,
        "status": n.status,
        "receiver": receiver,
        "groupLabels": {"alertname": n.rule},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": dashboard_url,
        "alerts": [alert],
    }


def render(n: Notification, fmt: str, dashboard_url: str, receiver: str) -> bytes:
    """The request body for a channel of format `fmt`: compact JSON, UTF-8."""
    if fmt == "slack":
        payload = slack(n, dashboard_url)
    elif fmt == "alertmanager":
        payload = alertmanager(n, dashboard_url, receiver)
    else:
        payload = generic(n, dashboard_url)
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def headers(
    idempotency_key: str, body: bytes, secret: str | None, timestamp: int, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The headers of one delivery: content type, idempotency key (the notification's id, the same
    on every attempt), timestamp, the channel's own `extra` headers, and the signature."""
    out = {
        "Content-Type": "application/json",
        "User-Agent": "hopscope-alerting",
        "X-Hopscope-Idempotency-Key": idempotency_key,
        "X-Hopscope-Timestamp": str(timestamp),
        **(extra or {}),
    }
    if secret:
        out["X-Hopscope-Signature"] = signature(secret, timestamp, body)
    return out


def verify(secret: str, timestamp: str, body: bytes, received: str, now: int, tolerance: int = 300) -> bool:
    """The receiver's side (the README's recipe): constant-time compare, and a fresh timestamp."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    return abs(now - ts) <= tolerance and hmac.compare_digest(signature(secret, ts, body), received)
