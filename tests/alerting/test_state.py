"""The alert state machine: pending, firing after `for`, repeats, resolution, silences, restarts."""

from __future__ import annotations

from alerting.state import Observation, Tracker

FRONTEND = {"service": "frontend"}


def _obs(breached: bool, labels=FRONTEND, value: float = 0.4) -> list[Observation]:
    return [Observation(labels, value, breached)]


def _kinds(transitions) -> list[str]:
    return [t.kind for t in transitions]


def test_pending_then_firing_after_for_then_resolved():
    tracker = Tracker()
    assert tracker.observe("errors", 120, _obs(True), now=0) == []
    assert [a.state for a in tracker.active()] == ["pending"]
    assert tracker.observe("errors", 120, _obs(True), now=60) == []
    [fired] = tracker.observe("errors", 120, _obs(True), now=120)
    assert fired.kind == "firing" and fired.alert.since == 0 and fired.alert.fired_at == 120
    assert tracker.observe("errors", 120, _obs(True), now=150) == []  # no duplicate while firing
    [resolved] = tracker.observe("errors", 120, _obs(False), now=180)
    assert resolved.kind == "resolved" and tracker.active() == []


def test_a_pending_alert_that_recovers_is_dropped_silently():
    tracker = Tracker()
    tracker.observe("errors", 300, _obs(True), now=0)
    assert tracker.observe("errors", 300, _obs(False), now=30) == [] and tracker.active() == []


def test_zero_for_fires_at_once_and_repeats_on_the_interval():
    tracker = Tracker(repeat_interval=3600)
    assert _kinds(tracker.observe("errors", 0, _obs(True), now=0)) == ["firing"]
    assert tracker.observe("errors", 0, _obs(True), now=1800) == []
    assert _kinds(tracker.observe("errors", 0, _obs(True), now=3600)) == ["repeat"]


def test_each_label_set_is_its_own_alert():
    tracker = Tracker()
    both = _obs(True) + _obs(True, {"service": "checkout"})
    fired = tracker.observe("errors", 0, both, now=0)
    assert len({t.alert.fingerprint for t in fired}) == 2
    resolved = tracker.observe("errors", 0, _obs(True), now=30)
    assert [(t.kind, t.alert.labels) for t in resolved] == [("resolved", {"service": "checkout"})]


def test_silenced_alerts_keep_state_but_send_nothing_until_unsilenced():
    tracker = Tracker()
    muted = True
    assert tracker.observe("errors", 0, _obs(True), now=0, silenced=lambda r, labels: muted) == []
    assert [a.state for a in tracker.active()] == ["firing"]
    assert tracker.observe("errors", 0, _obs(False), now=10, silenced=lambda r, labels: muted) == []  # never told
    tracker.observe("errors", 0, _obs(True), now=20, silenced=lambda r, labels: muted)
    muted = False
    assert _kinds(tracker.observe("errors", 0, _obs(True), now=30, silenced=lambda r, labels: muted)) == ["firing"]


def test_state_survives_a_restart_without_resending():
    tracker = Tracker()
    tracker.observe("errors", 0, _obs(True), now=0)
    restarted = Tracker()
    restarted.restore(tracker.snapshot())
    assert restarted.observe("errors", 0, _obs(True), now=60) == []
    assert _kinds(restarted.observe("errors", 0, _obs(False), now=90)) == ["resolved"]


def test_rules_do_not_resolve_each_other():
    tracker = Tracker()
    tracker.observe("a", 0, _obs(True), now=0)
    assert tracker.observe("b", 0, [], now=10) == [] and len(tracker.active()) == 1
