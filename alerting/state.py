"""The alert state machine: pending -> firing -> resolved, per alert (a rule and its labels).

An evaluation hands `Tracker.observe` the rule's current observations (one per label set, e.g. per
service); the tracker answers with the transitions to notify. Alertmanager's semantics:

- a breached observation starts *pending*; it becomes *firing* once it has been breached for the
  rule's `for` (a `for` of 0 fires at once); a pending alert that stops being breached is dropped
  without a notification;
- a firing alert is re-notified every `repeat_interval` while it stays breached, and *resolved*
  (one notification) when it is no longer breached;
- a silenced alert keeps its state but sends nothing.

The tracker is plain data (`snapshot()` / `restore()`), so the evaluator can persist it and a
restarted collector neither re-sends nor forgets notifications.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from typing import Literal

TransitionKind = Literal["firing", "repeat", "resolved"]


@dataclass(frozen=True)
class Observation:
    labels: dict[str, str]
    value: float
    breached: bool


@dataclass(frozen=True)
class Alert:
    fingerprint: str
    rule: str
    labels: dict[str, str]
    state: Literal["pending", "firing"]
    since: float  # first breached (Unix seconds)
    fired_at: float | None
    last_notified: float | None
    value: float


@dataclass(frozen=True)
class Transition:
    kind: TransitionKind
    alert: Alert
    at: float


def fingerprint(rule: str, labels: dict[str, str]) -> str:
    text = rule + "\x1f" + "\x1f".join(f"{k}={v}" for k, v in sorted(labels.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Tracker:
    def __init__(self, repeat_interval: float = 4 * 3600.0) -> None:
        self.repeat_interval = repeat_interval
        self._alerts: dict[str, Alert] = {}

    def active(self) -> list[Alert]:
        return sorted(self._alerts.values(), key=lambda a: (a.rule, a.fingerprint))

    def observe(
        self,
        rule: str,
        for_seconds: float,
        observations: Iterable[Observation],
        now: float,
        silenced: Callable[[str, dict[str, str]], bool] = lambda rule, labels: False,
    ) -> list[Transition]:
        """Apply one evaluation of `rule`; returns the notifications to send, in order."""
        out: list[Transition] = []
        seen: set[str] = set()
        for obs in observations:
            if not obs.breached:
                continue
            fp = fingerprint(rule, obs.labels)
            seen.add(fp)
            alert = self._alerts.get(fp) or Alert(fp, rule, dict(obs.labels), "pending", now, None, None, obs.value)
            alert = replace(alert, value=obs.value)
            quiet = silenced(rule, obs.labels)
            if alert.state == "pending" and now - alert.since >= for_seconds:
                alert = replace(alert, state="firing", fired_at=now)
                if not quiet:
                    alert = replace(alert, last_notified=now)
                    out.append(Transition("firing", alert, now))
            elif alert.state == "firing" and not quiet:
                if alert.last_notified is None or now - alert.last_notified >= self.repeat_interval:
                    kind: TransitionKind = "firing" if alert.last_notified is None else "repeat"  # unsilenced: tell now
                    alert = replace(alert, last_notified=now)
                    out.append(Transition(kind, alert, now))
            self._alerts[fp] = alert
        for fp, alert in list(self._alerts.items()):
            if alert.rule != rule or fp in seen:
                continue
            del self._alerts[fp]
            if alert.state == "firing" and alert.last_notified is not None:
                out.append(Transition("resolved", alert, now))
        return out

    def forget_rule(self, rule: str) -> None:
        """A deleted rule: its alerts end without notifications."""
        self._alerts = {fp: a for fp, a in self._alerts.items() if a.rule != rule}

    def snapshot(self) -> list[dict]:
        return [asdict(a) for a in self._alerts.values()]

    def restore(self, rows: Iterable[dict]) -> None:
        self._alerts = {row["fingerprint"]: Alert(**row) for row in rows}
