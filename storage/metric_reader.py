"""Reading metrics: the catalog of metric names and their series over time."""

from __future__ import annotations

from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from core.types import TimeRange
from storage.sql_text import compose
from storage.where import Where

TABLES = {
    "gauge": "otel_metrics_gauge",
    "sum": "otel_metrics_sum",
    "histogram": "otel_metrics_histogram",
    "exp_histogram": "otel_metrics_exp_histogram",
    "summary": "otel_metrics_summary",
}

_CATALOG_PART = """
SELECT MetricName, '{type}' AS Type, any(MetricUnit), any(MetricDescription), groupUniqArray(ServiceName)
FROM {table}
WHERE TimeUnix >= fromUnixTimestamp64Nano({since:Int64}) AND TimeUnix < fromUnixTimestamp64Nano({until:Int64})
  AND ({name:String} = '' OR MetricName = {name:String})
GROUP BY MetricName"""
# Table names and type labels come from TABLES above, never from a request.
_CATALOG = " UNION ALL ".join(compose(_CATALOG_PART, type=kind, table=table) for kind, table in TABLES.items())
_CATALOG += "\nORDER BY MetricName"

_RANGE = """MetricName = {name:String}
  AND TimeUnix >= fromUnixTimestamp64Nano({since:Int64}) AND TimeUnix < fromUnixTimestamp64Nano({until:Int64})"""
_SERIES_KEY = "ServiceName, sipHash64(mapKeys(Attributes), mapValues(Attributes)), StartTimeUnix"

# One value per point: gauges and non-monotonic sums as they are.
_GAUGE = compose(
    """
SELECT toUnixTimestamp(toStartOfInterval(TimeUnix, toIntervalSecond({step:UInt32}))) AS t, ServiceName,
       {aggregate}(Value) AS v
FROM {table:Identifier} WHERE {range} AND {where}
GROUP BY t, ServiceName ORDER BY ServiceName, t
""",
    range=_RANGE,
)

# Monotonic sums as a rate per second: increments between consecutive points of one series
# (a drop means the counter restarted), or the values themselves for delta temporality.
_RATE = compose(
    """
SELECT toUnixTimestamp(toStartOfInterval(TimeUnix, toIntervalSecond({step:UInt32}))) AS t, ServiceName,
       sum(increment) / {step:UInt32} AS v
FROM (
    SELECT TimeUnix, ServiceName,
           if(AggregationTemporality = 1, Value,
              if(Value >= previous, Value - previous, Value)) AS increment
    FROM (SELECT TimeUnix, ServiceName, AggregationTemporality, Value,
                 lagInFrame(Value, 1, Value) OVER (PARTITION BY {series_key} ORDER BY TimeUnix
                                                   ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous
          FROM otel_metrics_sum WHERE {range} AND {where})
)
GROUP BY t, ServiceName ORDER BY ServiceName, t
""",
    series_key=_SERIES_KEY,
    range=_RANGE,
)

# Histograms: bucket increments per step (as for sums), summed over series of a service.
_HISTOGRAM = compose(
    """
SELECT toUnixTimestamp(toStartOfInterval(TimeUnix, toIntervalSecond({step:UInt32}))) AS t, ServiceName,
       sumForEach(increments) AS buckets, any(ExplicitBounds) AS bounds
FROM (
    SELECT TimeUnix, ServiceName, ExplicitBounds,
           if(AggregationTemporality = 1 OR length(previous) != length(BucketCounts), BucketCounts,
              arrayMap((c, p) -> toUInt64(if(c >= p, c - p, c)), BucketCounts, previous)) AS increments
    FROM (SELECT TimeUnix, ServiceName, AggregationTemporality, BucketCounts, ExplicitBounds,
                 lagInFrame(BucketCounts, 1, BucketCounts) OVER (PARTITION BY {series_key} ORDER BY TimeUnix
                                                                 ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous
          FROM otel_metrics_histogram WHERE {range} AND {where})
)
GROUP BY t, ServiceName ORDER BY ServiceName, t
""",
    series_key=_SERIES_KEY,
    range=_RANGE,
)

# Exponential histograms and summaries: the mean value per step.
_MEAN = compose(
    """
SELECT toUnixTimestamp(toStartOfInterval(TimeUnix, toIntervalSecond({step:UInt32}))) AS t, ServiceName,
       if(sum(Count) > 0, sum(Sum) / sum(Count), nan) AS v
FROM {table:Identifier} WHERE {range} AND {where}
GROUP BY t, ServiceName ORDER BY ServiceName, t
""",
    range=_RANGE,
)

AGGREGATES = {"avg": "avg", "min": "min", "max": "max", "sum": "sum", "last": "anyLast", "count": "count"}


@dataclass(frozen=True)
class MetricInfo:
    name: str
    type: str  # gauge, sum, histogram, exp_histogram, summary
    unit: str
    description: str
    services: list[str]


class MetricReader:
    def __init__(self, client: Client) -> None:
        self._client = client

    def catalog(self, time_range: TimeRange, name: str = "") -> list[MetricInfo]:
        params = {"since": time_range.since_ns, "until": time_range.until_ns, "name": name}
        return [
            MetricInfo(n, t, u, d, sorted(s))
            for n, t, u, d, s in self._client.query(_CATALOG, parameters=params).result_rows
        ]

    def _query(
        self,
        template: str,
        info: MetricInfo,
        time_range: TimeRange,
        step_s: int,
        service: str | None,
        attributes: tuple[tuple[str, str], ...],
        aggregate: str = "avg",
    ) -> list[tuple]:
        where = Where()
        if service:
            where.add("ServiceName = {service:String}", service=service)
        for key, value in attributes:
            where.attribute_equals(("Attributes",), key, value)
        sql = compose(template, where=where.sql(), aggregate=AGGREGATES[aggregate])
        params = {
            **where.parameters,
            "table": TABLES[info.type],
            "name": info.name,
            "since": time_range.since_ns,
            "until": time_range.until_ns,
            "step": step_s,
        }
        return [tuple(row) for row in self._client.query(sql, parameters=params).result_rows]

    def values(
        self,
        info: MetricInfo,
        time_range: TimeRange,
        step_s: int,
        aggregate: str,
        service: str | None = None,
        attributes: tuple[tuple[str, str], ...] = (),
    ) -> list[tuple[int, str, float]]:
        """(step start in Unix seconds, service, value) for gauges, sums (monotonic: rate per second)
        and the mean of exponential histograms and summaries."""
        if info.type == "sum" and aggregate == "rate":
            return self._query(_RATE, info, time_range, step_s, service, attributes)
        if info.type in ("exp_histogram", "summary"):
            return self._query(_MEAN, info, time_range, step_s, service, attributes)
        return self._query(_GAUGE, info, time_range, step_s, service, attributes, aggregate)

    def histogram(
        self,
        info: MetricInfo,
        time_range: TimeRange,
        step_s: int,
        service: str | None = None,
        attributes: tuple[tuple[str, str], ...] = (),
    ) -> list[tuple[int, str, list[int], list[float]]]:
        """(step start, service, bucket increments, explicit bounds) per step and service."""
        return self._query(_HISTOGRAM, info, time_range, step_s, service, attributes)
