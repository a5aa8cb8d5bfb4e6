"""The alert evaluator: every `interval` seconds, each rule is observed, the state machine decides
what to notify, and notifications for the channels that route them are put in the outbox. The
tracker's state is saved after every pass, so a restarted collector continues where it was.

Run it in one collector only (HOPSCOPE_ALERTS=false on the others).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timezone

from alerting.channels import ChannelRegistry
from alerting.conditions import Readers, failure_groups_for, observe, window_of
from alerting.notifications import (
    ChainSummary,
    Notification,
    describe_cause,
    describe_delta,
    describe_onset,
    render,
)
from alerting.rules import Channel, Rule, Silence
from alerting.state import Tracker, Transition
from core.periodic import PeriodicThread
from core.types import FailureGroup
from storage.alert_outbox import AlertOutbox, OutboxEntry
from storage.alert_state import AlertStateStore

log = logging.getLogger("hopscope.alerting")
CHAINS = 3  # failure signatures attached to each notification


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def silenced_by(silences: list[Silence], now: datetime) -> Callable[[str, dict[str, str]], bool]:
    def check(rule: str, labels: dict[str, str]) -> bool:
        for silence in silences:
            if silence.ends <= now or (silence.starts and silence.starts > now):
                continue
            if (silence.rule is None or silence.rule == rule) and _matches(silence.matchers, labels):
                return True
        return False

    return check


def _summary(rule: Rule, transition: Transition) -> str:
    alert = transition.alert
    where = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
    verb = "resolved" if transition.kind == "resolved" else "firing"
    return f"{rule.name} {verb}: {rule.type.replace('_', ' ')} {alert.value:.4g} ({where})"


class Evaluator:
    """Evaluates `rules()` against the readers; `start()` runs a pass every `interval` seconds on a
    background thread, `run_once()` runs one now (tests, with an explicit `now_ns`)."""

    def __init__(
        self,
        readers: Readers,
        outbox: AlertOutbox,
        state: AlertStateStore,
        rules: Callable[[], list[Rule]],
        channels: ChannelRegistry,
        silences: Callable[[], list[Silence]],
        dashboard_url: str,
        interval: float = 30.0,
        repeat_interval: float = 4 * 3600.0,
        delay: float = 5.0,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        self._readers = readers
        self._outbox = outbox
        self._state = state
        self._rules = rules
        self._channels = channels
        self._silences = silences
        self._dashboard_url = dashboard_url
        # Rules look at the data up to `delay` seconds ago: a trace's services export their spans
        # at different moments, and a rule that fired on the entry span alone would name it as
        # the origin before the spans below it arrived (Grafana's and Mimir's "evaluation delay").
        self._delay_ns = int(delay * 10**9)
        self._may_run = may_run  # the lease: one collector evaluates, however many run
        self.tracker = Tracker(repeat_interval)
        self.evaluations: Counter[str] = Counter()  # rule evaluations by outcome ("ok", "error"), since start
        self._thread = PeriodicThread("hopscope-alerts", self._pass, interval)

    def restore(self) -> None:
        """Continue from the state the last pass saved (this or a previous collector's)."""
        self.tracker.restore(self._state.load())

    def start(self) -> None:
        self.restore()
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._thread.stop(timeout)

    def _pass(self) -> None:
        if self._may_run():
            self.run_once()

    def run_once(self, now_ns: int | None = None) -> list[Notification]:
        now_ns = now_ns or time.time_ns()
        moment = datetime.fromtimestamp(now_ns / 1e9, timezone.utc)
        silenced = silenced_by(self._silences(), moment)
        sent: list[Notification] = []
        rules = self._rules()
        for known in {a.rule for a in self.tracker.active()} - {r.name for r in rules}:
            self.tracker.forget_rule(known)
        for rule in rules:
            try:
                observations = observe(rule, self._readers, now_ns - self._delay_ns)
            except Exception as exc:
                log.warning("rule %s could not be evaluated: %s", rule.name, exc)
                self.evaluations["error"] += 1
                continue
            self.evaluations["ok"] += 1
            for transition in self.tracker.observe(rule.name, rule.for_, observations, now_ns / 1e9, silenced):
                notification = self._notification(rule, transition, now_ns - self._delay_ns)
                self._enqueue(rule, notification, transition.kind)
                sent.append(notification)
        self._state.save(self.tracker.snapshot())
        return sent

    def _chains(self, rule: Rule, labels: dict[str, str], now_ns: int) -> list[ChainSummary]:
        service = labels.get("service") or labels.get("callee") or getattr(rule, "service", None)
        groups = failure_groups_for(self._readers, window_of(rule, now_ns), service)
        if "signature" in labels:
            groups = [g for g in groups if g.signature == labels["signature"]]
        return [
            ChainSummary(
                g.signature,
                g.origin.service,
                g.origin.operation,
                g.origin.normalized_error,
                list(g.path),
                g.propagated_traces > 0,
                g.traces,
                list(g.example_trace_ids),
                g.attempts,
                _evidence(g),
                describe_cause(
                    g.latency_cause.service,
                    g.latency_cause.operation,
                    g.latency_cause.median_self_ns,
                    g.latency_cause.median_share,
                    g.latency_cause.traces,
                )
                if g.latency_cause
                else None,
                describe_onset(g.deploy_onset.version, g.deploy_onset.first_seen_ns, g.deploy_onset.lead_ns)
                if g.deploy_onset
                else None,
                [v.version for v in g.versions],
                [describe_delta(d.key, d.value, d.failing_share, d.healthy_share) for d in g.attribute_deltas],
                g.origin.peer,
                [
                    f"{x.origin.service} {x.origin.operation} → {x.origin.peer}: {x.origin.normalized_error} ({x.traces})"
                    for x in g.symptoms
                ],
            )
            for g in groups[:CHAINS]
        ]

    def _notification(self, rule: Rule, transition: Transition, now_ns: int) -> Notification:
        alert = transition.alert
        labels = {**rule.labels, **alert.labels}
        resolved = transition.kind == "resolved"
        return Notification(
            id=f"{alert.fingerprint}-{transition.kind}-{int(transition.at)}",
            fingerprint=alert.fingerprint,
            rule=rule.name,
            status="resolved" if resolved else "firing",
            severity=rule.severity,
            summary=_summary(rule, transition),
            labels=labels,
            value=alert.value,
            threshold=getattr(rule, "threshold", None),
            starts_at=datetime.fromtimestamp(alert.fired_at or alert.since, timezone.utc),
            ends_at=datetime.fromtimestamp(transition.at, timezone.utc) if resolved else None,
            chains=[] if resolved else self._chains(rule, alert.labels, now_ns),
        )

    def _entry(self, notification: Notification, channel: Channel, rule: str, kind: str) -> OutboxEntry:
        now_ms = int(time.time() * 1000)
        body = render(notification, channel.format, self._dashboard_url, channel.name).decode("utf-8")
        return OutboxEntry(
            id=f"{notification.id}:{channel.name}",
            notification_id=notification.id,
            channel=channel.name,
            rule=rule,
            kind=kind,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_ms=now_ms,
            created_ms=now_ms,
            last_status=0,
            last_error="",
        )

    def _enqueue(self, rule: Rule, notification: Notification, kind: str) -> None:
        labels = {**notification.labels, "severity": notification.severity, "alertname": rule.name}
        entries = [
            self._entry(notification, channel, rule.name, kind)
            for channel in self._channels.all().values()
            if _matches(channel.match, labels)
        ]
        self._outbox.enqueue(entries)

    def test_notification(self, channel: Channel) -> OutboxEntry:
        """A notification to one channel that no rule caused, to check the receiver."""
        notification = Notification(
            id=f"test-{uuid.uuid4().hex[:12]}",
            fingerprint="test",
            rule="hopscope-test",
            status="firing",
            severity="info",
            summary="Test notification from hopscope",
            labels={"test": "true"},
            value=None,
            threshold=None,
            starts_at=datetime.now(timezone.utc),
        )
        entry = self._entry(notification, channel, "hopscope-test", "test")
        self._outbox.enqueue([entry])
        return entry


def _evidence(group: FailureGroup) -> str:
    """What says the origin failed, in a few words."""
    evidence = group.origin.evidence
    if evidence is None:
        return ""
    parts = []
    if evidence.status_code == "Error":
        parts.append("status Error")
    if evidence.http_status:
        parts.append(f"HTTP {evidence.http_status}")
    if evidence.grpc_status and evidence.grpc_status != "OK":
        parts.append(f"gRPC {evidence.grpc_status}")
    if evidence.exception_type:
        parts.append(f"exception {evidence.exception_type}")
    if evidence.log is not None:
        parts.append(f"log {evidence.log.severity} {evidence.log.exception_type}".rstrip())
    return ", ".join(parts)
