"""Leases against the embedded ClickHouse: one holder at a time, takeover after expiry, release."""

from __future__ import annotations

import uuid

from storage.leases import Leases


def test_one_holder_at_a_time_and_a_takeover_when_it_dies(ch):
    name = "rollup-" + uuid.uuid4().hex[:8]
    first, second = Leases(ch, "collector-a", ttl=30), Leases(ch, "collector-b", ttl=30)
    now = 1_795_000_000_000
    assert first.try_acquire(name, now)
    assert not second.try_acquire(name, now + 1_000)
    assert first.try_acquire(name, now + 10_000)  # renewed: held until now + 40 s
    assert not second.try_acquire(name, now + 35_000)
    # collector-a died at +10 s: its lease runs out at +40 s, and b takes over within a minute.
    assert second.try_acquire(name, now + 41_000)
    assert second.current(name).holder == "collector-b"
    assert not first.try_acquire(name, now + 42_000)  # a came back: it sees it lost


def test_release_lets_another_take_over_at_once(ch):
    name = "alerts-" + uuid.uuid4().hex[:8]
    first, second = Leases(ch, "collector-a"), Leases(ch, "collector-b")
    assert first.try_acquire(name)
    first.release(name)
    assert second.try_acquire(name)
