"""The chain analyzer: each failing trace is analysed once it looks complete (its newest span is
`settle` seconds old), and again when more of its spans arrive; its chains are stored, so failure
groups are exact aggregations however many traces fail. Runs in one collector (a lease)."""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace

from core.periodic import PeriodicThread
from core.types import FailureChain, TimeRange
from diagnosis.async_hops import with_producers
from storage.chain_store import Analysis, ChainStore
from storage.trace_reader import TraceReader

log = logging.getLogger("hopscope.analysis")
MAX_PRODUCER_TRACES = 1_000
# Spans of one batch read into Python at once (~1.4 KB each there). A burst's failing traces,
# 1,045 of ~340 spans each after bench/ingest.py's traces, were read in one batch of 355,000 spans:
# +800 MiB at the peak (1.1 GiB). In batches of at most 50,000 spans: +200 MiB, the same time
# (5.8 s vs 5.6 s); 20,000: +140 MiB, 7.4 s (docs/benchmarks.md).
BATCH_SPANS = 50_000


class ChainAnalyzer:
    def __init__(
        self,
        traces: TraceReader,
        chains: ChainStore,
        interval: float = 5.0,
        settle: float = 10.0,
        lookback: float = 3600.0,
        batch: int = 2_000,
        batch_spans: int = BATCH_SPANS,
        budget: float = 20.0,
        may_run: Callable[[], bool] = lambda: True,
        stop_early: Callable[[], bool] = lambda: False,
    ) -> None:
        self._traces, self._chains = traces, chains
        self._settle_ns, self._lookback_ns = int(settle * 1e9), int(lookback * 1e9)
        self._batch, self._batch_spans, self._budget = batch, batch_spans, budget
        self._may_run = may_run  # whether a pass starts (the lease; not while inserts are behind)
        self._stop_early = stop_early  # between batches: leave the rest of the pass for later
        self._thread = PeriodicThread("hopscope-analysis", self._pass, interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._thread.stop(timeout)

    def run_once(self, now_ns: int | None = None) -> int:
        """Analyse every settled failing trace of the lookback that needs it (in batches of at most
        `batch` traces and `batch_spans` spans, for at most `budget` seconds); returns how many
        traces were analysed. What a pass leaves is still pending for the next."""
        now_ns = now_ns or time.time_ns()
        window = TimeRange(now_ns - self._lookback_ns, now_ns)
        started, done = time.monotonic(), 0
        while True:
            pending = self._chains.pending(window, now_ns - self._settle_ns, self._batch)
            for batch in by_spans(pending, self._batch_spans):
                self._chains.write(analyse(self._traces, batch, window))
                done += len(batch)
                if self._stop_early() or time.monotonic() - started >= self._budget or self._thread.stopping:
                    return done
            if len(pending) < self._batch:
                return done

    def _pass(self) -> None:
        if not self._may_run():
            return
        analysed = self.run_once()
        if analysed:
            log.info("analysed %d failing traces", analysed)


def by_spans(pending: list[Analysis], max_spans: int) -> list[list[Analysis]]:
    """The pending analyses in batches of at most `max_spans` spans (a larger trace alone)."""
    batches: list[list[Analysis]] = []
    spans = 0
    for analysis in pending:
        if not batches or spans + analysis.spans > max_spans:
            batches.append([])
            spans = 0
        batches[-1].append(analysis)
        spans += analysis.spans
    return batches


def analyse(traces: TraceReader, pending: list[Analysis], window: TimeRange) -> list[Analysis]:
    """The pending analyses (ChainStore.pending) with their chains."""
    spans = traces.spans_of_traces([a.trace_id for a in pending], window)
    by_trace: dict[str, list[FailureChain]] = defaultdict(list)
    for chain in with_producers(traces, spans, MAX_PRODUCER_TRACES):
        by_trace[chain.trace_id].append(chain)
    return [replace(a, chains=by_trace.get(a.trace_id, [])) for a in pending]
