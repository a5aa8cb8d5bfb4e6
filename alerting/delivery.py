"""Webhook delivery from the outbox: signed POSTs with a timeout, retried with exponential backoff
and jitter for up to `give_up_after` (a day), every attempt logged. The outbox lives in ClickHouse,
so a restart loses nothing: pending entries are picked up where they were.
"""

from __future__ import annotations

import logging
import random
import threading
import time

import httpx

from alerting.notifications import signature
from alerting.rules import Channel
from storage.alert_store import AlertOutbox, OutboxEntry

log = logging.getLogger("hopscope.alerting")


def backoff_seconds(attempts: int) -> float:
    """2, 4, 8 … seconds, at most an hour, with ±20 % jitter so receivers are not hit in lockstep."""
    return min(3600.0, 2.0**attempts) * random.uniform(0.8, 1.2)


class Deliverer:
    def __init__(
        self,
        outbox: AlertOutbox,
        channels: dict[str, Channel],
        timeout: float = 10.0,
        give_up_after: float = 86_400.0,
        interval: float = 1.0,
    ) -> None:
        self._outbox = outbox
        self._channels = channels
        self._timeout = timeout
        self._give_up_ms = int(give_up_after * 1000)
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hopscope-delivery", daemon=True)
        self._http = httpx.Client(timeout=timeout)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 15.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for entry in self._outbox.due(int(time.time() * 1000)):
                    if self._stop.is_set():
                        break
                    self.attempt(entry)
            except Exception as exc:  # storage hiccup: try again at the next tick
                log.warning("delivery pass failed: %s", exc)
            self._stop.wait(self._interval)

    def attempt(self, entry: OutboxEntry) -> OutboxEntry:
        """One delivery attempt; returns the entry's new state (also written to the outbox)."""
        channel = self._channels().get(entry.channel)
        now_ms = int(time.time() * 1000)
        attempt = entry.attempts + 1
        status, error = 0, ""
        started = time.perf_counter()
        if channel is None:
            error = f"channel {entry.channel!r} no longer exists"
        else:
            body = entry.body.encode("utf-8")
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "hopscope-alerting",
                "X-Hopscope-Idempotency-Key": entry.notification_id,
                "X-Hopscope-Timestamp": str(timestamp),
                **channel.headers,
            }
            if channel.secret is not None:
                headers["X-Hopscope-Signature"] = signature(channel.secret.get_secret_value(), timestamp, body)
            try:
                response = self._http.post(str(channel.url), content=body, headers=headers)
                status = response.status_code
                if status >= 300:
                    error = f"HTTP {status}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
        elapsed = (time.perf_counter() - started) * 1000
        self._outbox.record_attempt(entry.id, attempt, now_ms, status, error, elapsed)
        if not error:
            new_status, next_ms = "delivered", now_ms
        elif channel is None or now_ms - entry.created_ms >= self._give_up_ms:
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
