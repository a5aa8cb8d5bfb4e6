"""What each rule type measures: one evaluation of a rule -> observations (labels, value, breached).

All reads go through the storage readers; nothing here writes. Thresholds compare with `>` for
rates and latencies and `>=` for counts ("reaches 20").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from alerting.rules import (
    EdgeErrorRateRule,
    EdgeLatencyRule,
    ErrorRateRule,
    LatencyRule,
    LogCountRule,
    MetricThresholdRule,
    NewSignatureRule,
    NoDataRule,
    Rule,
    SignatureCountRule,
)
from alerting.state import Observation
from analysis.histograms import quantile as histogram_quantile
from core.types import FailureGroup, TimeRange
from diagnosis.report import failure_report
from storage.chain_store import ChainStore
from storage.compare_reader import CompareReader
from storage.log_reader import SEVERITY_FLOOR, LogQuery, LogReader, search_terms
from storage.metric_reader import MetricReader
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceReader

MAX_TRACES = 5_000
_QUANTILE_FIELD = {0.5: "p50_ns", 0.95: "p95_ns", 0.99: "p99_ns"}
_COMPARE = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b, "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


@dataclass
class Readers:
    traces: TraceReader
    services: ServiceReader
    logs: LogReader
    metrics: MetricReader
    compare: CompareReader | None = None
    chains: ChainStore | None = None


def window_of(rule: Rule, now_ns: int) -> TimeRange:
    return TimeRange(now_ns - int(rule.window * 1e9), now_ns)


def failure_groups_for(readers: Readers, window: TimeRange, service: str | None) -> list[FailureGroup]:
    return failure_report(
        readers.traces, readers.services, readers.compare, window, MAX_TRACES, service, chains=readers.chains
    ).groups


def observe(rule: Rule, readers: Readers, now_ns: int) -> list[Observation]:
    window = window_of(rule, now_ns)
    if isinstance(rule, (ErrorRateRule, LatencyRule)):
        rows = readers.services.red(window, rule.service if rule.operation else "")
        name = rule.operation or rule.service
        row = next((r for r in rows if r.name == name), None)
        labels = {"service": rule.service, **({"operation": rule.operation} if rule.operation else {})}
        if row is None or not row.requests:
            return [Observation(labels, 0.0, False)]
        if isinstance(rule, ErrorRateRule):
            value = row.errors / row.requests
            return [Observation(labels, value, value > rule.threshold)]
        value = getattr(row, _QUANTILE_FIELD[rule.quantile]) / 1e9
        return [Observation(labels, value, value > rule.threshold)]
    if isinstance(rule, (EdgeErrorRateRule, EdgeLatencyRule)):
        labels = {"caller": rule.caller, "callee": rule.callee}
        edge = next(
            (e for e in readers.services.edges(window) if (e.caller, e.callee) == (rule.caller, rule.callee)), None
        )
        if edge is None or not edge.calls:
            return [Observation(labels, 0.0, False)]
        if isinstance(rule, EdgeErrorRateRule):
            value = edge.errors / edge.calls
            return [Observation(labels, value, value > rule.threshold)]
        value = (edge.p50_ns if rule.quantile == 0.5 else edge.p95_ns) / 1e9
        return [Observation(labels, value, value > rule.threshold)]
    if isinstance(rule, SignatureCountRule):
        groups = failure_groups_for(readers, window, rule.service)
        if rule.signature:
            groups = [g for g in groups if g.signature == rule.signature]
        return [
            Observation(
                {"signature": g.signature, "origin_service": g.origin.service},
                float(g.traces),
                g.traces >= rule.threshold,
            )
            for g in groups
        ]
    if isinstance(rule, NewSignatureRule):
        recent = failure_groups_for(readers, window, rule.service)
        before = TimeRange(now_ns - int(rule.lookback * 1e9), window.since_ns)
        known = (
            {g.signature for g in failure_groups_for(readers, before, rule.service)} if before.seconds > 0 else set()
        )
        return [
            Observation(
                {"signature": g.signature, "origin_service": g.origin.service},
                float(g.traces),
                g.signature not in known,
            )
            for g in recent
        ]
    if isinstance(rule, LogCountRule):
        words = search_terms(rule.query) if rule.query else ()
        query = LogQuery(words, SEVERITY_FLOOR[rule.log_severity] if rule.log_severity else None, rule.service)
        count = readers.logs.count(query, window)
        labels = {"service": rule.service} if rule.service else {}
        return [Observation(labels, float(count), count >= rule.threshold)]
    if isinstance(rule, MetricThresholdRule):
        return _metric(rule, readers, window)
    if isinstance(rule, NoDataRule):
        rows = readers.services.red(window)
        seen = any(r.name == rule.service and r.requests for r in rows)
        return [Observation({"service": rule.service}, 1.0 if seen else 0.0, not seen)]
    raise TypeError(f"no evaluation for rule type {type(rule).__name__}")


def _metric(rule: MetricThresholdRule, readers: Readers, window: TimeRange) -> list[Observation]:
    found = readers.metrics.catalog(window, rule.metric)
    if not found:
        return []
    info = found[0]
    step = max(1, int(window.seconds))
    attributes = tuple(rule.attributes.items())
    values: dict[str, float] = {}
    if info.type == "histogram" and rule.aggregation in ("p50", "p95", "p99"):
        q = {"p50": 0.5, "p95": 0.95, "p99": 0.99}[rule.aggregation]
        merged: dict[str, tuple[list[int], list[float]]] = {}
        for _, service, buckets, bounds in readers.metrics.histogram(info, window, step, rule.service, attributes):
            counts, _ = merged.get(service, ([0] * len(buckets), bounds))
            merged[service] = ([a + b for a, b in zip(counts, buckets, strict=False)], bounds)
        values = {svc: histogram_quantile(q, c, b) for svc, (c, b) in merged.items()}
    else:
        aggregation = rule.aggregation if rule.aggregation not in ("p50", "p95", "p99") else "avg"
        for _, service, value in readers.metrics.values(info, window, step, aggregation, rule.service, attributes):
            values[service] = value
    return [
        Observation(
            {"service": svc, "metric": rule.metric},
            value,
            not math.isnan(value) and _COMPARE[rule.op](value, rule.threshold),
        )
        for svc, value in sorted(values.items())
    ]
