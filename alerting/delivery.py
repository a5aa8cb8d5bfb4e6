"""Webhook delivery from the outbox: signed POSTs with a timeout, retried with exponential backoff
and jitter for up to `give_up_after` (a day), every attempt logged. The outbox lives in ClickHouse,
so a restart loses nothing: pending entries are picked up where they were.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable

import httpx

from alerting.channels import ChannelRegistry
from alerting.egress import EgressPolicy, ForbiddenDestination
from alerting.notifications import headers
from alerting.rules import Channel
from core.periodic import PeriodicThread
from storage.alert_outbox import AlertOutbox, OutboxEntry

log = logging.getLogger("hopscope.alerting")


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 … seconds, at most an hour, with ±20 % jitter so receivers are not hit in lockstep."""
    return min(3600.0, 2.0**attempts) * random.uniform(0.8, 1.2)


class Deliverer:
    """Delivers due outbox entries every `interval` seconds on a background thread (`start()`), or
    one entry now (`attempt()`)."""

    def __init__(
        self,
        outbox: AlertOutbox,
        channels: ChannelRegistry,
        egress: EgressPolicy,
        timeout: float = 10.0,
        give_up_after: float = 86_400.0,
        interval: float = 1.0,
        may_run: Callable[[], bool] = lambda: True,
    ) -> None:
        self._outbox = outbox
        self._channels = channels
        self._egress = egress
        self._may_run = may_run  # the lease: one collector delivers, however many run
        self._timeout = timeout
        self._give_up_ms = int(give_up_after * 1000)
        self._http = httpx.Client(timeout=timeout, follow_redirects=False)  # never to where we did not check
        self._thread = PeriodicThread("hopscope-delivery", self._pass, interval)
        self.attempts: Counter[str] = Counter()  # delivery attempts by outcome, since start

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._thread.stop(timeout)

    def _pass(self) -> None:
        if not self._may_run():
            return
        for entry in self._outbox.due(int(time.time() * 1000)):
            if self._thread.stopping:
                break
            self.attempt(entry)

    def _post(self, channel: Channel, entry: OutboxEntry) -> int:
        """POST the signed body to the address checked just now (not to what DNS says next)."""
        target, host, tls_name = self._egress.pin(str(channel.url))
        body = entry.body.encode("utf-8")
        secret = channel.secret.get_secret_value() if channel.secret is not None else None
        sent = headers(entry.notification_id, body, secret, int(time.time()), channel.headers)
        extensions = {"sni_hostname": tls_name} if target.startswith("https://") else {}
        response = self._http.post(target, content=body, headers={**sent, "Host": host}, extensions=extensions)
        return response.status_code

    def attempt(self, entry: OutboxEntry) -> OutboxEntry:
        """One delivery attempt; returns the entry's new state (also written to the outbox)."""
        channel = self._channels.get(entry.channel)
        now_ms = int(time.time() * 1000)
        attempt = entry.attempts + 1
        status, error, final = 0, "", channel is None
        started = time.perf_counter()
        if channel is None:
            error = f"channel {entry.channel!r} no longer exists"
        else:
            try:
                status = self._post(channel, entry)
                if status >= 300:
                    error = f"HTTP {status}"  # the receiver's answer is never kept: it may hold anything
            except ForbiddenDestination as exc:
                error, final = f"destination refused: {exc}", True
            except httpx.TimeoutException:
                error = "timed out"
            except httpx.HTTPError:
                error = "could not deliver (connection failed)"
        elapsed = (time.perf_counter() - started) * 1000
        self._outbox.record_attempt(entry.id, attempt, now_ms, status, error, elapsed)
        self.attempts["delivered" if not error else "failed"] += 1
        if not error:
            new_status, next_ms = "delivered", now_ms
        elif final or now_ms - entry.created_ms >= self._give_up_ms:
            new_status, next_ms = "failed", now_ms
        else:
            new_status, next_ms = "pending", now_ms + int(backoff_seconds(attempt) * 1000)
        if error:
            log.warning(
                "notification %s to %s: attempt %d failed: %s", entry.notification_id, entry.channel, attempt, error
            )
        updated = OutboxEntry(
            **{
                **entry.__dict__,
                "status": new_status,
                "attempts": attempt,
                "next_attempt_ms": next_ms,
                "last_status": status,
                "last_error": error,
            }
        )
        self._outbox.update(updated)
        return updated
