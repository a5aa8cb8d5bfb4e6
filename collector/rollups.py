"""The service-map roll-up: a background thread that, every `interval` seconds, rolls up the
minutes that are complete (older than `lag`, so late spans have arrived) into
hopscope_service_edges. It starts where the roll-up ends, or `backfill` before now on a new store,
and works in chunks so one pass never holds the engine for long.

Run it in one collector only when several write to one ClickHouse (HOPSCOPE_ROLLUPS=false on the
others): a minute rolled up twice would be counted twice.
"""

from __future__ import annotations

import logging
import threading
import time

from storage.service_reader import MINUTE_NS, ServiceReader

log = logging.getLogger("hopscope.rollups")


class EdgeRollup:
    def __init__(
        self,
        reader: ServiceReader,
        interval: float = 30.0,
        lag: float = 120.0,
        backfill: float = 86_400.0,
        chunk: float = 600.0,
    ) -> None:
        self._reader = reader
        self._interval = interval
        self._lag_ns = int(lag * 10**9)
        self._backfill_ns = int(backfill * 10**9)
        self._chunk_ns = max(MINUTE_NS, int(chunk * 10**9) // MINUTE_NS * MINUTE_NS)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hopscope-rollup", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def run_once(self, now_ns: int | None = None) -> int:
        """Roll up every complete minute not rolled up yet; returns how many minutes were added."""
        now_ns = now_ns or time.time_ns()
        target = (now_ns - self._lag_ns) // MINUTE_NS * MINUTE_NS
        covered = self._reader.rolled_up()
        start = covered[1] if covered else (now_ns - self._backfill_ns) // MINUTE_NS * MINUTE_NS
        done = 0
        while start < target and not self._stop.is_set():
            end = min(start + self._chunk_ns, target)
            self._reader.rollup_edges(start, end)
            done += (end - start) // MINUTE_NS
            start = end
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                added = self.run_once()
                if added:
                    log.debug("rolled up %d minutes of service-map edges", added)
            except Exception as exc:  # storage hiccups: try again at the next tick
                log.warning("service-map roll-up failed, retrying in %.0fs: %s", self._interval, exc)
            self._stop.wait(self._interval)
