"""Query benchmark: the query API over a realistic day of data in the embedded store.

    python bench/query.py [--spans 10000000] [--repeat 20] [--logs-per-span 0] [--keep DIR]

1. In a fresh data directory, generates --spans spans over the last 24 h inside ClickHouse
   (INSERT ... SELECT from numbers(): 10 spans per trace, server/client hops across ~50 services,
   ~10 attributes, 1 % failing traces whose origins are a few dozen (service, operation, error)
   combinations, half propagated and half absorbed), plus one log record per failing span and
   one per 20 other spans (and --logs-per-span INFO records in every span).
   The service map is rolled up for the day, as a collector running all day would have done.
   One more trace has 20,000 spans: a 200-hop chain ending in a timeout, the rest fanned out under it.
2. Starts `hopscope collector` on it and times the query API from this process: a trace by id, the
   20,000-span trace, /failures over the last hour (with and without attribute deltas), /compare
   for the most failing operation over 24 h and for a whole service over 1 h, /services and
   /service-map over 24 h, and a log search.
Prints p50/p95 per query.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hopscope_cli.collector_process import CollectorProcess  # noqa: E402

# Trace t has spans d = 0..9: even d are servers, odd d clients calling the next server. Its
# services hop across 50; every 100th trace fails at its leaf; path and error repeat every 42 failing traces.
SPANS_SQL = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName,
    ResourceAttributes, ScopeName, SpanAttributes, Duration, StatusCode, StatusMessage,
    `Events.Timestamp`, `Events.Name`, `Events.Attributes`)
SELECT
    fromUnixTimestamp64Nano(toInt64({start_ns:Int64} + t * {trace_gap_ns:Int64} + d * 1000000)) AS Timestamp,
    lower(hex(reinterpretAsFixedString(cityHash64(t, 'trace')))) || lower(hex(reinterpretAsFixedString(cityHash64(t, 'id')))) AS TraceId,
    lower(hex(reinterpretAsFixedString(cityHash64(t, d)))) AS SpanId,
    if(d = 0, '', lower(hex(reinterpretAsFixedString(cityHash64(t, d - 1))))) AS ParentSpanId,
    if(d % 2 = 0, concat('GET /api/v', toString(d), '/items'), 'GET') AS SpanName,
    if(d % 2 = 0, 'Server', 'Client') AS SpanKind,
    concat('svc-', toString((t % 7 + intDiv(d, 2) * 11 + t % 3 * 5) % 50)) AS ServiceName,
    map('service.version', '2.4.1', 'host.name', concat('node-', toString(t % 20)), 'deployment.environment', 'prod') AS ResourceAttributes,
    'opentelemetry.instrumentation.fastapi' AS ScopeName,
    map('http.request.method', 'GET', 'http.route', concat('/api/v', toString(d), '/items'),
        'http.response.status_code', if(failing AND (d = 8 OR (propagated AND d % 2 = 0)), '500', '200'),
        'server.address', 'svc.internal', 'server.port', '8080', 'url.scheme', 'http',
        'user_agent.original', 'Mozilla/5.0', 'enduser.id', concat('user-', toString(t % 5000)),
        'shop.cart.items', toString(t % 9)) AS SpanAttributes,
    toUInt64(100000 + (cityHash64(t, d, 'dur') % 50000000) / (d + 1)) AS Duration,
    if(failing AND (d >= 8 OR (propagated)), 'Error', 'Unset') AS StatusCode,
    if(failing AND d = 9, concat('upstream error ', toString(t)), '') AS StatusMessage,
    if(failing AND d = 9, [Timestamp], []) AS `Events.Timestamp`,
    if(failing AND d = 9, ['exception'], []) AS `Events.Name`,
    if(failing AND d = 9, [map('exception.type', concat('Error', toString(intDiv(t, 100) % 42)),
                                'exception.message', concat('failed for order ', toString(t)))], []) AS `Events.Attributes`
FROM (
    SELECT intDiv(number, 10) AS t, number % 10 AS d, (intDiv(number, 10) % 100 = 7) AS failing,
           (intDiv(number, 10) % 200 = 7) AS propagated
    FROM numbers({spans:UInt64})
)
"""

LOGS_SQL = """
INSERT INTO otel_logs (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body, LogAttributes)
SELECT Timestamp, TraceId, SpanId, if(StatusCode = 'Error', 'ERROR', 'INFO'), if(StatusCode = 'Error', 17, 9),
       ServiceName,
       if(StatusCode = 'Error', concat('request failed: ', StatusMessage, ' while calling downstream'),
          concat('handled ', SpanName, ' for ', SpanAttributes['enduser.id'])),
       map('http.route', SpanAttributes['http.route'])
FROM otel_traces
WHERE StatusCode = 'Error' OR cityHash64(SpanId) % 20 = 0
"""

# --logs-per-span: services that log as they work (most log more records than they emit spans).
SPAN_LOGS_SQL = """
INSERT INTO otel_logs (Timestamp, TraceId, SpanId, SeverityText, SeverityNumber, ServiceName, Body, LogAttributes)
SELECT Timestamp + toIntervalMicrosecond(7 + n), TraceId, SpanId, 'INFO', 9, ServiceName,
       concat('handled ', SpanName, ' in ', toString(Duration)),
       map('code.function', SpanName, 'thread.id', toString(cityHash64(SpanId) % 64))
FROM otel_traces ARRAY JOIN range({per_span:UInt32}) AS n
"""

# A 20,000-span trace: spans 0..199 a chain (server, client, server ...) whose last span times out,
# the others fanned out under the chain's spans.
BIG_TRACE_SQL = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Duration,
    StatusCode, `Events.Timestamp`, `Events.Name`, `Events.Attributes`)
SELECT
    fromUnixTimestamp64Nano(toInt64({start_ns:Int64} + if(n < 200, n, n % 200) * 1000000)) AS Timestamp,
    {trace_id:String},
    lower(hex(reinterpretAsFixedString(cityHash64(n, 'big')))),
    multiIf(n = 0, '', n < 200, lower(hex(reinterpretAsFixedString(cityHash64(n - 1, 'big')))),
            lower(hex(reinterpretAsFixedString(cityHash64(n % 199, 'big'))))),
    multiIf(n >= 200, 'cache get', n % 2 = 0, concat('GET /hop', toString(n)), 'GET'),
    multiIf(n >= 200, 'Internal', n % 2 = 0, 'Server', 'Client'),
    concat('big-', toString(intDiv(n % 200, 2) % 10)),
    toUInt64(if(n < 200, 5000 - n, 1) * 1000000),
    if(n < 200, 'Error', 'Unset'),
    if(n = 199, [Timestamp], []),
    if(n = 199, ['exception'], []),
    if(n = 199, [map('exception.type', 'ReadTimeout', 'exception.message', 'timed out')], [])
FROM (SELECT number AS n FROM numbers(20000))
"""
BIG_TRACE_ID = "b" * 32


def _load(data_dir: str, spans: int, logs_per_span: int, out) -> None:
    """In its own process: chDB opens one path per process."""
    sys.path.insert(0, str(ROOT))
    from storage.connection import connect
    from storage.migrations import migrate

    client = connect("chdb://" + data_dir)
    migrate(client, 7)
    now = time.time_ns()
    traces = spans // 10
    started = time.monotonic()
    client.command(
        SPANS_SQL,
        parameters={"start_ns": now - 86_400 * 10**9, "trace_gap_ns": 86_400 * 10**9 // traces, "spans": spans},
        settings={"max_insert_threads": 2},
    )
    client.command(LOGS_SQL)
    if logs_per_span:
        client.command(SPAN_LOGS_SQL, parameters={"per_span": logs_per_span}, settings={"max_insert_threads": 2})
        client.command("OPTIMIZE TABLE otel_logs FINAL")
    client.command(BIG_TRACE_SQL, parameters={"start_ns": now - 3 * 3600 * 10**9, "trace_id": BIG_TRACE_ID})
    client.command("OPTIMIZE TABLE otel_traces FINAL")
    loaded = time.monotonic() - started
    # A collector running all day would have rolled the service map up minute by minute.
    from storage.service_edges import EdgeRollup

    started = time.monotonic()
    minutes = EdgeRollup(client).run_once()
    rollup_seconds = time.monotonic() - started
    counts = client.query("SELECT (SELECT count() FROM otel_traces), (SELECT count() FROM otel_logs)").result_rows[0]
    sample = client.query(
        "SELECT TraceId FROM otel_traces WHERE Timestamp > now() - INTERVAL 23 HOUR AND SpanKind = 'Server' "
        "AND ParentSpanId = '' ORDER BY cityHash64(TraceId) LIMIT 200"
    ).result_rows
    worst = client.query(
        "SELECT ServiceName, SpanName FROM otel_traces WHERE HopscopeFailed = 1 AND SpanKind = 'Server' "
        "GROUP BY ServiceName, SpanName ORDER BY count() DESC LIMIT 1"
    ).result_rows[0]
    out.put(
        {
            "worst_operation": list(worst),
            "seconds": loaded,
            "spans": counts[0],
            "logs": counts[1],
            "trace_ids": [r[0] for r in sample],
            "rollup_minutes": minutes,
            "rollup_seconds": rollup_seconds,
        }
    )


def _timed(client, path: str, params: dict, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params=params, timeout=120)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spans", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--logs-per-span", type=int, default=0,
                        help="also this many INFO records written in every span (a store with more logs than spans)")  # fmt: skip
    parser.add_argument("--keep", type=Path, help="load into this directory (reused when it holds data) and keep it")
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory(prefix="hopscope-query-") as tmp:
        data = args.keep or Path(tmp) / "data"
        saved = data / "bench-query.json"
        if saved.exists():
            loaded = json.loads(saved.read_text())
        else:
            spawn = mp.get_context("spawn")
            queue = spawn.Queue()
            loader = spawn.Process(target=_load, args=(str(data / "clickhouse"), args.spans, args.logs_per_span, queue))
            loader.start()
            loaded = queue.get()
            loader.join()
            if args.keep:
                saved.write_text(json.dumps(loaded))
        print(
            f"loaded {loaded['spans']:,} spans and {loaded['logs']:,} log records in {loaded['seconds']:.0f} s; "
            f"rolled up {loaded['rollup_minutes']} minutes of service map in {loaded['rollup_seconds']:.1f} s"
        )
        with (
            CollectorProcess(data, env={"HOPSCOPE_LOG_LEVEL": "warning"}) as collector,
            httpx.Client(base_url=collector.url) as client,
        ):
            ids = loaded["trace_ids"]
            service, operation = loaded["worst_operation"]
            cases = {
                "trace by id": lambda: _timed(client, f"/api/v1/traces/{random.choice(ids)}", {}, 1),
                "20,000-span trace": lambda: _timed(client, f"/api/v1/traces/{BIG_TRACE_ID}", {}, 1),
                "/failures over 1 h": lambda: _timed(client, "/api/v1/failures", {"since": "1h"}, 1),
                "/failures 1 h, no deltas": lambda: _timed(
                    client, "/api/v1/failures", {"since": "1h", "deltas": "false"}, 1
                ),
                "/compare operation 24 h": lambda: _timed(
                    client, "/api/v1/compare", {"since": "24h", "service": service, "operation": operation}, 1
                ),
                "/compare service 1 h": lambda: _timed(
                    client, "/api/v1/compare", {"since": "1h", "service": service}, 1
                ),
                "/services over 24 h": lambda: _timed(client, "/api/v1/services", {"since": "24h"}, 1),
                "/service-map over 24 h": lambda: _timed(client, "/api/v1/service-map", {"since": "24h"}, 1),
                "log search over 24 h": lambda: _timed(
                    client, "/api/v1/logs", {"since": "24h", "q": "request failed", "severity": "error"}, 1
                ),
            }
            results = {}
            for name, run in cases.items():
                run()  # warm-up
                times = [run()[0] for _ in range(args.repeat)]
                times.sort()
                results[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0])
                print(f"{name:28} p50 {results[name][0]:8.1f} ms   p95 {results[name][1]:8.1f} ms", flush=True)
            failures = client.get("/api/v1/failures", params={"since": "1h"}).json()
            print(f"/failures over 1 h: {failures['traces_analyzed']} failing traces, {len(failures['groups'])} groups")
    print(json.dumps({k: {"p50_ms": round(v[0], 1), "p95_ms": round(v[1], 1)} for k, v in results.items()}))


if __name__ == "__main__":
    main()
