"""GET /api/v1/metrics (the catalog) and /api/v1/metrics/{name} (series over time)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Query

from analysis.histograms import quantile
from collector.api import params
from collector.api.errors import ApiError
from collector.dependencies import MetricReaderDep
from storage.metric_reader import MetricInfo

router = APIRouter(prefix="/api/v1", tags=["metrics"])
MAX_POINTS = 2000
QUANTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True)
class Catalog:
    since_ns: int
    until_ns: int
    metrics: list[MetricInfo]


@dataclass(frozen=True)
class Series:
    service: str
    points: list[list[float | None]]  # [step start (Unix seconds), value]; histograms: [t, count, p50, p95, p99]


@dataclass(frozen=True)
class MetricSeries:
    metric: MetricInfo
    since_ns: int
    until_ns: int
    step_seconds: int
    aggregation: str
    columns: list[str]
    series: list[Series]


@router.get("/metrics", response_model=Catalog, summary="Metric names with type, unit and services")
def list_metrics(metrics: MetricReaderDep, since: str | None = None, until: str | None = None) -> Catalog:
    window = params.time_range(since, until)
    return Catalog(window.since_ns, window.until_ns, metrics.catalog(window))


def _step(step: str | None, seconds: float) -> int:
    if step is None:
        return max(10, math.ceil(seconds / 120 / 10) * 10)
    step_s = (params.duration_ns(step, "step") or 0) // 10**9
    if step_s < 1:
        raise ApiError(400, "invalid step", f"step={step!r}: at least 1s")
    if seconds / step_s > MAX_POINTS:
        raise ApiError(400, "invalid step", f"step={step!r} gives more than {MAX_POINTS} points for this range")
    return step_s


def _clean(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else value


@router.get("/metrics/{name}", response_model=MetricSeries, summary="One metric's series over time")
def get_metric(
    name: str,
    metrics: MetricReaderDep,
    since: str | None = None,
    until: str | None = None,
    step: str | None = Query(None, description="bucket width, e.g. 30s, 5m (default: about 120 points)"),
    aggregation: Literal["avg", "min", "max", "sum", "last", "count", "rate"] | None = Query(
        None, description="gauges and sums; default rate for monotonic sums, else avg"
    ),
    service: str | None = None,
    attr: list[str] | None = Query(None, description="data point attribute key=value; repeat for several"),
) -> MetricSeries:
    """Histograms come back as request count and p50/p95/p99 per step, computed from the bucket
    increments of the step; monotonic sums as a rate per second."""
    window = params.time_range(since, until)
    step_s = _step(step, window.seconds)
    attributes = params.attributes(attr)
    found = metrics.catalog(window, name)
    if not found:
        raise ApiError(404, "unknown metric", f"no metric {name!r} between since and until; see GET /api/v1/metrics")
    info = found[0]
    grouped: dict[str, list[list[float | None]]] = {}
    if info.type == "histogram":
        columns, used = ["t", "count", "p50", "p95", "p99"], "quantiles"
        for t, svc, buckets, bounds in metrics.histogram(info, window, step_s, service, attributes):
            point = [t, sum(buckets), *(_clean(quantile(q, buckets, bounds)) for q in QUANTILES)]
            grouped.setdefault(svc, []).append(point)
    else:
        used = aggregation or ("rate" if info.type == "sum" else "avg")
        if used == "rate" and info.type != "sum":
            raise ApiError(400, "invalid aggregation", f"rate applies to sums; {name!r} is a {info.type}")
        if info.type in ("exp_histogram", "summary"):
            used = "mean"
        columns = ["t", "value"]
        for t, svc, value in metrics.values(
            info, window, step_s, used if used != "mean" else "avg", service, attributes
        ):
            grouped.setdefault(svc, []).append([t, _clean(value)])
    series = [Series(svc, points) for svc, points in sorted(grouped.items())]
    return MetricSeries(info, window.since_ns, window.until_ns, step_s, used, columns, series)
