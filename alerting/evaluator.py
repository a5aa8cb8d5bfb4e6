"""The alert evaluator: every `interval` seconds, each rule is observed, the state machine decides
what to notify, and notifications for the channels that route them are put in the outbox. The
tracker's state is saved after every pass, so a restarted collector continues where it was.

Run it in one collector only (HOPSCOPE_ALERTS=false on the others).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timezone

from alerting.conditions import Readers, failure_groups_for, observe, window_of
from alerting.notifications import ChainSummary, Notification, render
from alerting.rules import AlertConfig, Channel, Rule, Silence
from alerting.state import Tracker, Transition
from storage.alert_store import AlertOutbox, OutboxEntry

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
    def __init__(
        self,
        readers: Readers,
        outbox: AlertOutbox,
        config: AlertConfig | None,
        api_rules: Callable[[], list[Rule]],
        dashboard_url: str,
        interval: float = 30.0,
        repeat_interval: float = 4 * 3600.0,
        api_channels: Callable[[], list[Channel]] = list,
        api_silences: Callable[[], list[Silence]] = list,
    ) -> None:
        self._readers = readers
        self._outbox = outbox
        self._config = config or AlertConfig()
        self._api_rules = api_rules
        self._api_channels = api_channels
        self._api_silences = api_silences
        self._dashboard_url = dashboard_url
        self._interval = interval
        self.tracker = Tracker(repeat_interval)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hopscope-alerts", daemon=True)

    @property
    def channels(self) -> dict[str, Channel]:
        """The rule file's channels and the API's (the file wins a name)."""
        return {**{c.name: c for c in self._api_channels()}, **{c.name: c for c in self._config.channels}}

    def start(self) -> None:
        self.tracker.restore(self._outbox.load_state())
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception as exc:  # storage hiccup: the next pass tries again
                log.warning("alert evaluation failed: %s", exc)
            self._stop.wait(self._interval)

    def rules(self) -> list[Rule]:
        names = {r.name for r in self._config.rules}
        return list(self._config.rules) + [r for r in self._api_rules() if r.name not in names]

    def run_once(self, now_ns: int | None = None) -> list[Notification]:
        now_ns = now_ns or time.time_ns()
        moment = datetime.fromtimestamp(now_ns / 1e9, timezone.utc)
        silenced = silenced_by(list(self._config.silences) + list(self._api_silences()), moment)
        sent: list[Notification] = []
        rules = self.rules()
        for known in {a.rule for a in self.tracker.active()} - {r.name for r in rules}:
            self.tracker.forget_rule(known)
        for rule in rules:
            try:
                observations = observe(rule, self._readers, now_ns)
            except Exception as exc:
                log.warning("rule %s could not be evaluated: %s", rule.name, exc)
                continue
            for transition in self.tracker.observe(rule.name, rule.for_, observations, now_ns / 1e9, silenced):
                notification = self._notification(rule, transition, now_ns)
                self._enqueue(rule, notification, transition.kind)
                sent.append(notification)
        self._outbox.save_state(self.tracker.snapshot())
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

    def _enqueue(self, rule: Rule, notification: Notification, kind: str) -> None:
        labels = {**notification.labels, "severity": notification.severity, "alertname": rule.name}
        now_ms = int(time.time() * 1000)
        entries = []
        for channel in self.channels.values():
            if _matches(channel.match, labels):
                body = render(notification, channel.format, self._dashboard_url, channel.name).decode("utf-8")
                entries.append(
                    OutboxEntry(
                        f"{notification.id}:{channel.name}",
                        notification.id,
                        channel.name,
                        rule.name,
                        kind,
                        body,
                        "pending",
                        0,
                        now_ms,
                        now_ms,
                        0,
                        "",
                    )
                )
        self._outbox.enqueue(entries)

    def test_notification(self, channel: Channel) -> OutboxEntry:
        """A notification to one channel that no rule caused, to check the receiver."""
        now = datetime.now(timezone.utc)
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
            starts_at=now,
        )
        now_ms = int(time.time() * 1000)
        body = render(notification, channel.format, self._dashboard_url, channel.name).decode("utf-8")
        entry = OutboxEntry(
            f"{notification.id}:{channel.name}",
            notification.id,
            channel.name,
            "hopscope-test",
            "test",
            body,
            "pending",
            0,
            now_ms,
            now_ms,
            0,
            "",
        )
        self._outbox.enqueue([entry])
        return entry
