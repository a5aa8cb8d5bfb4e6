"""Incident-scale benchmark: /failures over an hour in which 100,000 traces failed.

    python bench/incident.py [--failing 100000] [--healthy-spans 2000000] [--repeat 10]

1. In a fresh data directory, generates inside ClickHouse --failing failing traces in the last hour
   (api -> ledger, 3 spans each, every one failing at the ledger's INSERT: one origin) and
   --healthy-spans healthy spans around them.
2. Runs the chain analyzer over them once (what a collector does in the background, 5 s at a time)
   and prints how long it took.
3. Starts `hopscope collector` (background analysis off) and times GET /api/v1/failures over the
   last hour, with and without attribute deltas; checks that the group counts every trace.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hopscope_cli.collector_process import CollectorProcess  # noqa: E402

SPANS_SQL = """
INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, SpanAttributes,
    Duration, StatusCode, `Events.Timestamp`, `Events.Name`, `Events.Attributes`)
SELECT
    fromUnixTimestamp64Nano(toInt64({start_ns:Int64} + t * {gap_ns:Int64} + d * 1000000)) AS Timestamp,
    lower(hex(reinterpretAsFixedString(cityHash64(t, 'incident')))) || lower(hex(reinterpretAsFixedString(cityHash64(t, 'i2')))),
    lower(hex(reinterpretAsFixedString(cityHash64(t, d, 's')))),
    if(d = 0, '', lower(hex(reinterpretAsFixedString(cityHash64(t, d - 1, 's'))))),
    multiIf(d = 0, 'POST /pay', d = 1, 'POST', 'INSERT'),
    multiIf(d = 0, 'Server', 'Client'),
    if(d = 2, 'ledger', 'api'),
    if(d = 2, map('db.system', 'postgresql', 'user.tier', if(t % 10 = 0, 'paid', 'free')), map('user.tier', 'free')),
    toUInt64(1000000 * (3 - d)),
    if(failing, 'Error', 'Unset'),
    if(failing AND d = 2, [Timestamp], []),
    if(failing AND d = 2, ['exception'], []),
    if(failing AND d = 2, [map('exception.type', 'LockTimeout', 'exception.message', concat('row ', toString(t), ' locked'))], [])
FROM (SELECT intDiv(number, 3) AS t, number % 3 AS d, t % {every:UInt64} = 0 AS failing FROM numbers({spans:UInt64}))
"""


def _load(data_dir: str, failing: int, healthy_spans: int, out) -> None:
    sys.path.insert(0, str(ROOT))
    from core.types import TimeRange
    from diagnosis.analyzer import ChainAnalyzer
    from storage.chain_store import ChainStore
    from storage.connection import connect
    from storage.migrations import migrate
    from storage.trace_reader import TraceReader

    client = connect("chdb://" + data_dir)
    migrate(client, 7)
    traces = failing + healthy_spans // 3
    now = time.time_ns()
    start = now - 3300 * 10**9  # the hour before the last 5 minutes: every trace has settled
    started = time.monotonic()
    client.command(
        SPANS_SQL,
        parameters={"start_ns": start, "gap_ns": 3000 * 10**9 // traces, "spans": traces * 3,
                    "every": max(traces // failing, 1)},
        settings={"max_insert_threads": 2},
    )  # fmt: skip
    loaded = time.monotonic() - started
    analyzer = ChainAnalyzer(TraceReader(client), ChainStore(client), settle=10, lookback=3600, batch=5000, budget=3600)
    started = time.monotonic()
    analysed = analyzer.run_once()
    analysis = time.monotonic() - started
    pending = ChainStore(client).pending(TimeRange(now - 3600 * 10**9, time.time_ns()), time.time_ns(), 10)
    spans = client.query("SELECT count() FROM otel_traces").result_rows[0][0]
    out.put({"spans": spans, "loaded": loaded, "analysed": analysed, "analysis": analysis, "left": len(pending)})


def _timed(client, params: dict, repeat: int) -> tuple[list[float], dict]:
    times, body = [], {}
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get("/api/v1/failures", params=params, timeout=300)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
        body = response.json()
    return sorted(times), body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--failing", type=int, default=100_000)
    parser.add_argument("--healthy-spans", type=int, default=2_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    import httpx

    with tempfile.TemporaryDirectory(prefix="hopscope-incident-") as tmp:
        data = Path(tmp) / "data"
        spawn = mp.get_context("spawn")
        queue = spawn.Queue()
        loader = spawn.Process(target=_load, args=(str(data / "clickhouse"), args.failing, args.healthy_spans, queue))
        loader.start()
        loaded = queue.get()
        loader.join()
        print(
            f"loaded {loaded['spans']:,} spans in {loaded['loaded']:.0f} s; analysed {loaded['analysed']:,} failing "
            f"traces in {loaded['analysis']:.1f} s ({loaded['analysed'] / loaded['analysis']:,.0f} traces/s), "
            f"{loaded['left']} left",
            flush=True,
        )
        env = {"HOPSCOPE_LOG_LEVEL": "warning", "HOPSCOPE_ANALYSIS": "false", "HOPSCOPE_ALERTS": "false"}
        with CollectorProcess(data, env=env) as collector, httpx.Client(base_url=collector.url) as client:
            for name, params in (("with deltas", {"since": "1h"}), ("no deltas", {"since": "1h", "deltas": "false"})):
                _timed(client, params, 1)  # warm-up
                times, body = _timed(client, params, args.repeat)
                [group] = body["groups"]
                p95 = times[int(len(times) * 0.95) - 1 if len(times) > 1 else 0]
                print(
                    f"/failures over 1 h, {name}: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms; "
                    f"{group['traces']:,} traces in one group, truncated={body['truncated']}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
