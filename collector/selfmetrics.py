"""The collector's own metrics, at GET /metrics in Prometheus' text format (prometheus-client).

Counted as they happen (by the receivers): OTLP requests by signal, transport and outcome, records
accepted and refused, request bytes, acknowledgement latency. Read at scrape time from the parts
that keep their own counts: the write-ahead log (bytes, segments, records, oldest age), the
inserter (inserts, rows, failures, quarantined records, whether the store is down), load shedding
(bytes in flight, requests shed), alert evaluations and notification attempts by outcome.
Each app has its own registry, so several collectors in one process do not mix their counts.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from alerting.service import AlertingService
from collector.errors import OtlpError
from collector.shedding import InflightBudget
from storage.ingest import Rows
from storage.leases import LeaseKeeper
from storage.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
_OUTCOMES = {400: "invalid", 401: "unauthenticated", 403: "forbidden", 413: "too_large", 415: "unsupported",
             499: "client_gone", 503: "unavailable"}  # fmt: skip


class SelfMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("hopscope_otlp_requests", "OTLP export requests by signal, transport and outcome",
                                ["signal", "transport", "outcome"], registry=self.registry)  # fmt: skip
        self.records = Counter("hopscope_otlp_records", "Records received, by signal and outcome (accepted, refused)",
                               ["signal", "outcome"], registry=self.registry)  # fmt: skip
        self.bytes = Counter("hopscope_otlp_request_bytes", "Bytes of OTLP request bodies (as sent)",
                             ["signal", "transport"], registry=self.registry)  # fmt: skip
        self.ack = Histogram("hopscope_otlp_ack_seconds", "From a request's arrival to its acknowledgement",
                             ["transport"], registry=self.registry,
                             buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))  # fmt: skip

    def exported(self, signal: str, transport: str, started: float, size: int, rows: Rows | None,
                 error: OtlpError | None) -> None:  # fmt: skip
        """Count one export request: its outcome, its records, its bytes and how long it took."""
        outcome = "accepted" if error is None else _OUTCOMES.get(error.status, "error")
        self.requests.labels(signal, transport, outcome).inc()
        self.bytes.labels(signal, transport).inc(size)
        if rows is not None:
            self.records.labels(signal, "accepted").inc(rows.count)
            self.records.labels(signal, "refused").inc(rows.rejected)
            self.ack.labels(transport).observe(time.monotonic() - started)

    def watch(self, store: Store, budget: InflightBudget, alerting: AlertingService, leases: LeaseKeeper) -> None:
        self.registry.register(_Parts(store, budget, alerting, leases))

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Parts(Collector):
    def __init__(self, store: Store, budget: InflightBudget, alerting: AlertingService, leases: LeaseKeeper) -> None:
        self._store, self._budget, self._alerting, self._leases = store, budget, alerting, leases

    def collect(self) -> Iterator[Metric]:
        wal, inserter = self._store.wal.stats(), self._store.inserter.stats
        for name, text, value in (
            ("hopscope_wal_bytes", "Bytes in the write-ahead log", wal.bytes),
            ("hopscope_wal_segments", "Segments waiting in the write-ahead log", wal.segments),
            ("hopscope_wal_records", "Requests logged and not yet in ClickHouse", wal.records),
            ("hopscope_wal_oldest_age_seconds", "Age of the oldest record in the log", wal.oldest_age_seconds),
            ("hopscope_inflight_bytes", "Request bytes being read, decoded or logged", self._budget.used),
            ("hopscope_inflight_capacity_bytes", "What load shedding lets in now", self._budget.capacity()),
            ("hopscope_store_down", "1 while inserts fail everywhere", int(inserter.store_down_since is not None)),
        ):
            yield GaugeMetricFamily(name, text, value=value)
        for name, text, value in (
            ("hopscope_wal_appended_records", "Records appended to the log", wal.appended),
            ("hopscope_wal_refused_full", "Appends refused: the log at its budget", wal.refused_full),
            ("hopscope_inserts", "INSERTs into ClickHouse that succeeded", inserter.inserts),
            ("hopscope_insert_failures", "INSERTs into ClickHouse that failed", inserter.failed_inserts),
            ("hopscope_inserted_rows", "Rows inserted into ClickHouse", inserter.rows_inserted),
            (
                "hopscope_insert_seconds",
                "Time spent in INSERTs (÷ inserts: latency; rows ÷ inserts: batch size)",
                inserter.insert_seconds,
            ),
            ("hopscope_quarantined_records", "Records ClickHouse refused, kept aside", inserter.quarantined_records),
            ("hopscope_shed_requests", "Requests refused before work (503, UNAVAILABLE)", self._budget.shed),
        ):
            yield CounterMetricFamily(name, text, value=value)
        evaluations = CounterMetricFamily(
            "hopscope_alert_evaluations", "Rule evaluations by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(self._alerting.evaluator.evaluations.items()):
            evaluations.add_metric([outcome], count)
        yield evaluations
        attempts = CounterMetricFamily(
            "hopscope_notification_attempts", "Webhook attempts by outcome", labels=["outcome"]
        )
        for outcome, count in sorted(self._alerting.deliverer.attempts.items()):
            attempts.add_metric([outcome], count)
        yield attempts
        held = GaugeMetricFamily("hopscope_lease_held", "1 while this collector holds the lease", labels=["lease"])
        for name in self._leases.names:
            held.add_metric([name], int(self._leases.holds(name)))
        yield held
