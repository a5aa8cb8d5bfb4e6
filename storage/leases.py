"""Leases in ClickHouse: work that must run on exactly one of several collectors (the service-map
roll-up, alert evaluation and delivery) runs on the holder of a lease with an expiry.

`try_acquire` writes a new version naming this holder when the lease is free, expired or already
its own, then reads the newest version back: when two collectors write at once, the newer version
wins and the other sees it has lost. A holder renews well before expiry; when it dies, another
collector takes over once the lease has expired (`ttl`, 30 s by default: within a minute).
Notifications cannot go out twice across a takeover: the outbox keeps one entry per notification
and channel, and receivers get the same idempotency key on every attempt.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from core.periodic import PeriodicThread

log = logging.getLogger("hopscope.leases")

_CURRENT = """
SELECT argMax(Holder, Version), toUnixTimestamp64Milli(argMax(ExpiresAt, Version))
FROM hopscope_leases WHERE Name = {name:String}
"""
_WRITE = """
INSERT INTO hopscope_leases (Name, Version, Holder, ExpiresAt)
VALUES ({name:String}, {version:UInt64}, {holder:String}, fromUnixTimestamp64Milli({expires:Int64}))
"""


@dataclass(frozen=True)
class LeaseState:
    holder: str  # "" when nobody ever held it
    expires_ms: int


class Leases:
    """Thread-safe as the client is. Times are Unix milliseconds; `now_ms` is explicit for tests."""

    def __init__(self, client: Client, holder: str, ttl: float = 30.0) -> None:
        self._client = client
        self.holder = holder
        self._ttl_ms = int(ttl * 1000)

    def current(self, name: str) -> LeaseState:
        holder, expires = self._client.query(_CURRENT, parameters={"name": name}).result_rows[0]
        return LeaseState(holder or "", int(expires or 0))

    def try_acquire(self, name: str, now_ms: int | None = None) -> bool:
        """Take or renew `name`; True when this holder holds it until now + ttl."""
        now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        state = self.current(name)
        if state.holder not in ("", self.holder) and state.expires_ms > now_ms:
            return False
        params = {"name": name, "version": time.time_ns(), "holder": self.holder, "expires": now_ms + self._ttl_ms}
        self._client.command(_WRITE, parameters=params)
        return self.current(name).holder == self.holder

    def release(self, name: str) -> None:
        """Let another collector take over at once (a graceful stop)."""
        if self.current(name).holder == self.holder:
            params = {"name": name, "version": time.time_ns(), "holder": "", "expires": 0}
            self._client.command(_WRITE, parameters=params)


class LeaseKeeper:
    """Holds (or waits for) the named leases on a background thread, renewing every `interval`
    seconds (a third of the ttl); `holds(name)` says whether this collector may do that work now."""

    def __init__(self, leases: Leases, names: tuple[str, ...], interval: float = 10.0) -> None:
        self._leases = leases
        self.names = names
        self._held: dict[str, bool] = dict.fromkeys(names, False)
        self._thread = PeriodicThread("hopscope-leases", self.refresh, interval)

    def holds(self, name: str) -> bool:
        return self._held.get(name, False)

    def refresh(self) -> None:
        for name in self.names:
            try:
                self._held[name] = self._leases.try_acquire(name)
            except Exception as exc:  # noqa: BLE001 - cannot tell: do not do once-only work meanwhile
                self._held[name] = False
                log.warning("lease %s could not be renewed: %s", name, exc)

    def start(self) -> None:
        self.refresh()
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        for name in self.names:
            if self._held.get(name):
                try:
                    self._leases.release(name)
                except Exception as exc:  # noqa: BLE001 - it expires anyway
                    log.warning("lease %s could not be released: %s", name, exc)
            self._held[name] = False
