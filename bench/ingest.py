"""Ingest benchmark: durable records/s through the collector, its CPU per record, against a peer
(Rotel, the Rust OpenTelemetry collector, exporting to its `blackhole`) and against a raw insert
ceiling, all in the same run.

    python bench/ingest.py [--duration 15] [--runs 3] [--senders 16] [--per-request 5000]
                           [--signals traces,logs,metrics] [--no-rotel] [--data-on DIR]
                           [--ceiling-records N]

Per run and signal:
1. Starts `hopscope collector` (embedded ClickHouse, fresh data directory) on a free port.
2. A separate sender process posts pre-generated OTLP protobuf requests from several threads for
   `--duration` seconds (200 = durable in the write-ahead log); then the benchmark waits until the
   log is empty (everything in ClickHouse). Durable rate = acknowledged records / (sending time +
   the time the log took to drain). After SIGTERM the rows in ClickHouse are counted (and must
   equal what was acknowledged).
3. CPU: every thread of the collector and of its worker processes, from /proc, between the first
   request and the drained log; then again once the failure analysis, which gives way to inserts
   during a burst, has caught up (idle for a whole interval), with the peak RSS until then. Threads
   named by ClickHouse (its pools), plus the inserter's threads (they run ClickHouse's INSERT
   pipelines), are ClickHouse's work; the rest is the collector's own.
4. The same requests, the same senders, to `rotel-agent --exporter blackhole` (pip package
   `rotel`, installed on first use): its acknowledgements/s and server CPU per record.
5. The raw insert ceiling, in a fresh process and data directory: the same records, converted in
   Python beforehand and encoded in Native, inserted straight into the signal's tables (rounds of
   as many records as one of the collector's INSERTs carries, `--ceiling-records` to choose: an
   INSERT a table, each with its own token), on as many sessions at once as the
   collector's inserter uses (`--lanes`): rows/s, and CPU a row (the process's, every thread);
   the ratios of hopscope's rate to it and of the CPU a record (the ceiling's over hopscope's).
6. A burst leaves parts for ClickHouse to merge, which a sustained load pays as it goes. The
   ceiling's inserts end with much of that work to do (its window is its inserts alone), the
   collector's after the drain with little. So both sides also wait until their merges caught up
   (the `MergeMutate` threads idle for 3 s), and the same ratios are given with that time in the
   rate and that CPU in the CPU a record.
Prints a table with min/median/max over the runs.

On a file system where creating files is dear (ext4 without a journal scans the inodes freed
lately), the ceiling, whose smaller inserts make more files a row, moves by up to 1.7 times run to
run and pays more of that cost than the collector does: `--data-on /dev/shm` puts both data
directories on a tmpfs for a steadier ratio (fsyncs cost nothing there: not a durable figure).
"""

from __future__ import annotations

import argparse
import importlib
import json
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.otlp_load import MAKERS, TABLES  # noqa: E402
from hopscope_cli.collector_process import CollectorProcess  # noqa: E402
from hopscope_cli.processes import free_port, query_data_dir, stop_process  # noqa: E402
from storage.store import StoreOptions  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


# -- the sender ------------------------------------------------------------------------------------


def _sender(url: str, duration: float, senders: int, payloads: list[bytes], per_request: int, out) -> None:
    import httpx

    stop_at = time.monotonic() + duration
    acked, refused, errors = [0] * senders, [0] * senders, [0] * senders
    latencies: list[list[float]] = [[] for _ in range(senders)]

    def run(k: int) -> None:
        with httpx.Client(timeout=60) as client:
            i = k
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    response = client.post(url, content=payloads[i % len(payloads)],
                                           headers={"Content-Type": "application/x-protobuf"})  # fmt: skip
                except httpx.HTTPError:
                    errors[k] += 1
                    continue
                if response.status_code == 200:
                    acked[k] += per_request
                    latencies[k].append(time.perf_counter() - started)
                elif response.status_code == 503:
                    refused[k] += 1
                    time.sleep(0.05)
                else:
                    errors[k] += 1
                i += senders

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(k,)) for k in range(senders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    waited = sorted(x for per_thread in latencies for x in per_thread) or [float("nan")]
    out.put({"acked": sum(acked), "refused": sum(refused), "errors": sum(errors), "elapsed": time.monotonic() - started,
             "ack_p50_ms": waited[len(waited) // 2] * 1000, "ack_p99_ms": waited[int(len(waited) * 0.99)] * 1000})  # fmt: skip


def _send(url: str, duration: float, senders: int, payloads: list[bytes], per_request: int) -> dict:
    queue: mp.Queue = mp.Queue()
    sender = mp.get_context("fork").Process(target=_sender, args=(url, duration, senders, payloads, per_request, queue))
    sender.start()
    result = queue.get()
    sender.join()
    return result


# -- CPU and memory from /proc ---------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return kids


def _threads(pid: int) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) -> (thread name, CPU seconds) for `pid` and its children."""
    out = {}
    for process in [pid, *_children(pid)]:
        try:
            tasks = list(Path(f"/proc/{process}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                stat = (task / "stat").read_text()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat.rsplit(")", 1)[1].split()
            out[(process, int(task.name))] = (name, (int(fields[11]) + int(fields[12])) / TICKS)
    return out


def _cpu_split(before: dict, after: dict, main_pid: int) -> dict[str, float]:
    """CPU seconds between two snapshots: ClickHouse's threads, the collector's own, and the total."""
    main_name = after.get((main_pid, main_pid), ("", 0.0))[0]
    split = {"clickhouse": 0.0, "collector": 0.0}
    for key, (name, seconds) in after.items():
        used = seconds - before.get(key, (name, 0.0))[1]
        own = key[0] != main_pid or (name == main_name and not name.startswith("hopscope-insert"))
        split["collector" if own else "clickhouse"] += used
    split["total"] = split["clickhouse"] + split["collector"]
    return split


def _print_threads(before: dict, after: dict, main_pid: int, records: int) -> None:
    """CPU per thread name (and per worker process), microseconds per record, largest first."""
    by_name: dict[str, float] = {}
    for key, (name, seconds) in after.items():
        label = name if key[0] == main_pid else f"worker {key[0]}: {name}"
        by_name[label] = by_name.get(label, 0.0) + seconds - before.get(key, (name, 0.0))[1]
    for label, seconds in sorted(by_name.items(), key=lambda item: -item[1])[:15]:
        print(f"    {label:40s} {seconds / records * 1e6:7.2f} us/record")


def _idle_since(pid: int, thread: str, window: float, busy: float, timeout: float) -> tuple[float, float]:
    """When (monotonic) the threads of `pid` whose name starts with `thread` went idle: the start of
    the first `window` seconds in which they used less than `busy` of a core (or the timeout); and
    the CPU seconds they used from the call to the last sample."""
    samples: list[tuple[float, float]] = []
    deadline = time.monotonic() + timeout
    while True:
        used = sum(seconds for (name, seconds) in _threads(pid).values() if name.startswith(thread))
        now = time.monotonic()
        samples.append((now, used))
        old = [(t, u) for t, u in samples if t <= now - window]
        if old and (used - old[-1][1]) < busy * (now - old[-1][0]):
            return old[-1][0], used - samples[0][1]
        if now > deadline:
            return now, used - samples[0][1]
        time.sleep(0.25)


def _background_idle(pid: int) -> float:
    """When (monotonic) the collector's failure analysis caught up: its thread idle for 6 s (longer
    than its 5 s interval: its passes then find nothing to analyse)."""
    return _idle_since(pid, "hopscope-analys", window=6.0, busy=0.1, timeout=180.0)[0]


def _merges_caught_up(pid: int) -> tuple[float, float]:
    """Seconds until ClickHouse's merges (its `MergeMutate` threads in `pid`) caught up with the parts
    written so far (idle for 3 s), and the CPU seconds they used meanwhile. A burst that ends leaves
    parts to merge, which a sustained load would pay as it goes: both sides of the ratio are also
    measured with it paid."""
    started = time.monotonic()
    idle, cpu = _idle_since(pid, "MergeMutate", window=3.0, busy=0.02, timeout=120.0)
    return idle - started, cpu


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- hopscope ---------------------------------------------------------------------------------------


def _wal_records(client, url: str) -> int:
    """Records still in the write-ahead log, from /metrics (the collector's counters in memory:
    /readyz asks ClickHouse too, and asked ten times a second it competed with the inserts)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(client.get(url + "/metrics", timeout=30).text):
        if family.name == "hopscope_wal_records":
            return int(family.samples[0].value)
    raise RuntimeError("the collector's /metrics has no hopscope_wal_records")


def run_hopscope(signal: str, payloads: list[bytes], per_request: int, args) -> dict:
    import httpx

    with tempfile.TemporaryDirectory(prefix="hopscope-bench-", dir=args.data_on) as tmp:
        env = {"HOPSCOPE_LOG_LEVEL": "warning", "HOPSCOPE_FLUSH_INTERVAL_SECONDS": "1"}
        if args.python_conversion:
            env["HOPSCOPE_CLICKHOUSE_CONVERTS"] = "false"
        if args.workers is not None:
            env["HOPSCOPE_INGEST_WORKERS"] = str(args.workers)
        if args.insert_mib is not None:
            env["HOPSCOPE_INSERT_MAX_BYTES"] = str(args.insert_mib * 1024**2)
        if args.lanes is not None:
            env["HOPSCOPE_INSERT_LANES"] = str(args.lanes)
        if args.segment_mib is not None:
            env["HOPSCOPE_WAL_SEGMENT_BYTES"] = str(args.segment_mib * 1024**2)
        collector = CollectorProcess(Path(tmp) / "data", env=env).start()
        assert collector.proc is not None
        pid = collector.proc.pid
        before, started = _threads(pid), time.monotonic()
        sent = _send(collector.url + f"/v1/{signal}", args.duration, args.senders, payloads, per_request)
        with httpx.Client() as client:  # one connection for the polling, not one a poll
            while _wal_records(client, collector.url):
                time.sleep(0.1)
        elapsed = time.monotonic() - started
        after = _threads(pid)
        cpu = _cpu_split(before, after, pid)
        merges_s, merges_cpu = _merges_caught_up(pid)
        if args.threads:
            _print_threads(before, after, pid, records=max(sent["acked"], 1))
        rss_main = _peak_rss_mib(pid)
        rss = rss_main + sum(_peak_rss_mib(child) for child in _children(pid))
        # Background work deferred during the burst (collector.shedding.BackgroundYield): until the
        # failure analysis has been idle for a whole interval, then all the CPU and the peak memory.
        catchup = _background_idle(pid) - started - elapsed
        cpu_all = _cpu_split(before, _threads(pid), pid)
        rss_all = _peak_rss_mib(pid) + sum(_peak_rss_mib(child) for child in _children(pid))
        code = collector.stop()
        stored = sum(query_data_dir(Path(tmp) / "data", f"SELECT count() AS n FROM {table}")[0]["n"]
                     for table in TABLES[signal])  # fmt: skip
    records = sent["acked"]
    if stored != records or code != 0:
        print(f"WARNING: {records} {signal} records acknowledged, {stored} stored, exit {code}", file=sys.stderr)
    return {"rate": records / elapsed, "acked_rate": records / sent["elapsed"], "drain_s": elapsed - sent["elapsed"],
            "cpu_us": cpu["total"] / max(records, 1) * 1e6, "own_cpu_us": cpu["collector"] / max(records, 1) * 1e6,
            "clickhouse_cpu_us": cpu["clickhouse"] / max(records, 1) * 1e6, "rss_mib": rss, "rss_main_mib": rss_main,
            "ack_p50_ms": sent["ack_p50_ms"], "ack_p99_ms": sent["ack_p99_ms"], "refused": sent["refused"],
            "errors": sent["errors"], "stored_ok": stored == records, "catchup_s": catchup,
            "cpu_all_us": cpu_all["total"] / max(records, 1) * 1e6, "rss_all_mib": rss_all,
            "merges_s": merges_s, "merged_rate": records / (elapsed + merges_s),
            "merged_cpu_us": (cpu["total"] + merges_cpu) / max(records, 1) * 1e6}  # fmt: skip


# -- Rotel (blackhole) ------------------------------------------------------------------------------


def _rotel_agent() -> Path:
    try:
        rotel = importlib.import_module("rotel")
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "rotel"], check=True)
        rotel = importlib.import_module("rotel")
    return Path(str(rotel.__file__)).parent / "rotel-agent"


def run_rotel(signal: str, payloads: list[bytes], per_request: int, args) -> dict:
    port = free_port()
    agent = subprocess.Popen([str(_rotel_agent()), "start", "--otlp-http-endpoint", f"127.0.0.1:{port}",
                              "--otlp-grpc-endpoint", f"127.0.0.1:{free_port()}", "--exporter", "blackhole"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:  # ready once it answers an empty export
            try:
                import httpx

                if httpx.post(url + f"/v1/{signal}", content=b"", timeout=2,
                              headers={"Content-Type": "application/x-protobuf"}).status_code < 500:  # fmt: skip
                    break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        before = _threads(agent.pid)
        sent = _send(url + f"/v1/{signal}", args.duration, args.senders, payloads, per_request)
        cpu = _cpu_split(before, _threads(agent.pid), -1)
    finally:
        stop_process(agent, 10)
    records = sent["acked"]
    return {"rate": records / sent["elapsed"], "cpu_us": cpu["total"] / max(records, 1) * 1e6}


# -- the raw insert ceiling -------------------------------------------------------------------------


def _insert_records(payloads: list[bytes], per_request: int, args) -> int:
    """How many records one of the collector's INSERTs carries: a segment of the write-ahead log cut
    into as few equal runs as the insert limit allows (storage.inserter), over the bytes a record
    takes in these payloads. The ceiling's inserts are as large: each INSERT has a fixed cost (a part
    a table, its side views' parts), and smaller ones would lower the ceiling (traces at 20,000
    rows an insert: ~235,000 rows/s against ~287,000 at the collector's ~41,000, on a tmpfs)."""
    segment = args.segment_mib * 1024**2 if args.segment_mib else StoreOptions.wal_segment_bytes
    limit = args.insert_mib * 1024**2 if args.insert_mib else StoreOptions.insert_max_bytes
    run_bytes = segment / -(-segment // limit)
    record_bytes = sum(map(len, payloads)) / (len(payloads) * per_request)
    return max(per_request, round(run_bytes / record_bytes))


def storage_ceiling(signal: str, data_dir: str, duration: float, records: int, count: int, lanes: int,
                    round_records: int) -> dict:  # fmt: skip
    """Runs in its own process (one chDB path per process): the signal's records converted in Python
    beforehand and Native-encoded, inserted straight into its tables, nothing else, from `lanes`
    threads at once (a session each, as the collector's inserter does). A round is ~`round_records`
    records, one INSERT a table (metrics: one a point type)."""
    from storage.connection import connect
    from storage.ingest import row_encoder
    from storage.migrations import migrate
    from storage.otlp_schema import REQUEST_CLASSES

    client = connect("chdb://" + data_dir)
    migrate(client, 7)
    encoder = row_encoder(client, 7, clickhouse_converts=False)
    converted = [encoder.rows(signal, REQUEST_CLASSES[signal].FromString(MAKERS[signal](records, seed)))
                 for seed in range(count)]  # fmt: skip
    per_round = max(1, round_records // records)
    tables: dict[tuple[str, tuple[str, ...]], list[bytes]] = {}
    for i in range(per_round):
        for block in converted[i % count].blocks:
            tables.setdefault((block.table, block.columns), []).append(block.data)
    batches = [(table, columns, b"".join(data)) for (table, columns), data in tables.items()]
    sessions = [client] + [connect("chdb://" + data_dir) for _ in range(lanes - 1)]
    started, cpu = time.monotonic(), time.process_time()

    def insert(lane: int) -> None:
        rounds = 0
        while time.monotonic() - started < duration:
            for table, columns, batch in batches:
                sessions[lane].raw_insert(table, columns, insert_block=batch, fmt="Native",
                                          settings={"insert_deduplication_token": f"ceiling-{lane}-{rounds}"})  # fmt: skip
            rounds += 1

    threads = [threading.Thread(target=insert, args=(lane,)) for lane in range(lanes)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu  # every thread: ClickHouse's too
    merges_s, merges_cpu = _merges_caught_up(os.getpid())
    stored = sum(client.query(f"SELECT count() FROM {table}").result_rows[0][0] for table in TABLES[signal])
    return {"rate": stored / elapsed, "cpu_us": cpu / max(stored, 1) * 1e6, "merges_s": merges_s,
            "merged_rate": stored / (elapsed + merges_s), "merged_cpu_us": (cpu + merges_cpu) / max(stored, 1) * 1e6}  # fmt: skip


# -- report -----------------------------------------------------------------------------------------


def _spread(values: list[float], digits: int = 1) -> str:
    if not values:
        return "—"
    return " / ".join(f"{v:,.{digits}f}" for v in (min(values), statistics.median(values), max(values)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--per-request", type=int, default=5000, help="records per request")
    parser.add_argument("--payloads", type=int, default=8)
    parser.add_argument("--signals", default="traces,logs,metrics")
    parser.add_argument("--no-rotel", action="store_true")
    parser.add_argument("--python-conversion", action="store_true", help="HOPSCOPE_CLICKHOUSE_CONVERTS=false")
    parser.add_argument("--threads", action="store_true", help="print the collector's CPU per thread")
    parser.add_argument("--workers", type=int, default=None, help="HOPSCOPE_INGEST_WORKERS")
    parser.add_argument("--insert-mib", type=int, default=None, help="HOPSCOPE_INSERT_MAX_BYTES, in MiB")
    parser.add_argument("--lanes", type=int, default=None, help="HOPSCOPE_INSERT_LANES (the ceiling uses as many)")
    parser.add_argument("--segment-mib", type=int, default=None, help="HOPSCOPE_WAL_SEGMENT_BYTES, in MiB")
    parser.add_argument("--ceiling-records", type=int, default=None,
                        help="records a table an INSERT of the ceiling (default: as many as the collector's INSERTs "
                             "carry, from the payloads' size and the log's segments)")  # fmt: skip
    parser.add_argument("--data-on", default=None,
                        help="the directory the collector's and the ceiling's data directories go in (default: the "
                             "system's temporary directory); a tmpfs takes the file system's noise out of both")  # fmt: skip
    args = parser.parse_args()
    signals = args.signals.split(",")
    results: dict[str, dict[str, list[dict]]] = {s: {"hopscope": [], "rotel": [], "ceiling": []} for s in signals}
    for run in range(args.runs):
        for signal in signals:
            payloads = [MAKERS[signal](args.per_request, seed) for seed in range(args.payloads)]
            hop = run_hopscope(signal, payloads, args.per_request, args)
            results[signal]["hopscope"].append(hop)
            print(f"run {run + 1} {signal}: hopscope {json.dumps({k: round(v, 2) for k, v in hop.items()})}")
            if not args.no_rotel:
                peer = run_rotel(signal, payloads, args.per_request, args)
                results[signal]["rotel"].append(peer)
                print(f"run {run + 1} {signal}: rotel {json.dumps({k: round(v, 2) for k, v in peer.items()})}")
            with tempfile.TemporaryDirectory(prefix="hopscope-ceiling-", dir=args.data_on) as tmp, \
                    mp.get_context("spawn").Pool(1) as pool:  # fmt: skip
                lanes = args.lanes or StoreOptions.insert_lanes
                round_records = args.ceiling_records or _insert_records(payloads, args.per_request, args)
                ceiling = pool.apply(storage_ceiling, (signal, tmp + "/db", args.duration, args.per_request, 4, lanes,
                                                       round_records))  # fmt: skip
            results[signal]["ceiling"].append(ceiling)
            print(f"run {run + 1} {signal}: raw insert ceiling {ceiling['rate']:,.0f} rows/s at "
                  f"{ceiling['cpu_us']:.1f} us CPU a row ({lanes} lanes, {round_records:,} records an INSERT); "
                  f"its merges caught up "
                  f"{ceiling['merges_s']:.1f} s later: {ceiling['merged_rate']:,.0f} rows/s at "
                  f"{ceiling['merged_cpu_us']:.1f} us")  # fmt: skip
    print(f"\n{args.senders} senders x {args.per_request} records/request, {args.duration:.0f} s, {args.runs} runs "
          "(min / median / max)")  # fmt: skip
    for signal in signals:
        hops, peers, ceilings = (results[signal][k] for k in ("hopscope", "rotel", "ceiling"))
        print(f"\n{signal}")
        print(f"  hopscope durable records/s       {_spread([r['rate'] for r in hops])}")
        print(f"  hopscope server CPU us/record    {_spread([r['cpu_us'] for r in hops])}")
        print(f"    of which the collector's own   {_spread([r['own_cpu_us'] for r in hops])}")
        print(f"    of which ClickHouse            {_spread([r['clickhouse_cpu_us'] for r in hops])}")
        print(f"  hopscope ack p50 / p99 ms        {_spread([r['ack_p50_ms'] for r in hops])} | "
              f"{_spread([r['ack_p99_ms'] for r in hops])}")  # fmt: skip
        print(f"  hopscope peak RSS MiB (all)      {_spread([r['rss_mib'] for r in hops])}")
        print(f"  hopscope 503s, log drain s       {_spread([r['refused'] for r in hops])} | "
              f"{_spread([r['drain_s'] for r in hops])}")  # fmt: skip
        print(f"  analysis caught up s after drain {_spread([r['catchup_s'] for r in hops])}")
        print(f"  ... CPU us/record incl. it       {_spread([r['cpu_all_us'] for r in hops])}")
        print(f"  ... peak RSS MiB incl. it        {_spread([r['rss_all_mib'] for r in hops])}")
        if peers:
            print(f"  rotel->blackhole records/s       {_spread([r['rate'] for r in peers])}")
            print(f"  rotel server CPU us/record       {_spread([r['cpu_us'] for r in peers])}")
        if ceilings:
            ratios = [h["rate"] / c["rate"] for h, c in zip(hops, ceilings, strict=False)]
            by_cpu = [c["cpu_us"] / h["cpu_us"] for h, c in zip(hops, ceilings, strict=False)]
            print(f"  raw insert ceiling rows/s        {_spread([c['rate'] for c in ceilings])}")
            print(f"  raw insert ceiling CPU us/row    {_spread([c['cpu_us'] for c in ceilings])}")
            merged = [h["merged_rate"] / c["merged_rate"] for h, c in zip(hops, ceilings, strict=False)]
            merged_cpu = [c["merged_cpu_us"] / h["merged_cpu_us"] for h, c in zip(hops, ceilings, strict=False)]
            print(f"  ratio hopscope / ceiling         {_spread(ratios, 2)}")
            print(f"  ... by CPU a record (ceiling's / hopscope's) {_spread(by_cpu, 2)}")
            print(f"  merges caught up s after: hopscope {_spread([h['merges_s'] for h in hops])}, "
                  f"ceiling {_spread([c['merges_s'] for c in ceilings])}")  # fmt: skip
            print(f"  ... records/s: hopscope {_spread([h['merged_rate'] for h in hops])}, "
                  f"ceiling {_spread([c['merged_rate'] for c in ceilings])}")  # fmt: skip
            print(f"  ... CPU us/record: hopscope {_spread([h['merged_cpu_us'] for h in hops])}, "
                  f"ceiling {_spread([c['merged_cpu_us'] for c in ceilings])}")  # fmt: skip
            print(f"  ratio with the merges caught up  {_spread(merged, 2)} (by CPU {_spread(merged_cpu, 2)})")
        if not all(r["stored_ok"] for r in hops):
            print("  WARNING: a run stored a different count than it acknowledged", file=sys.stderr)


if __name__ == "__main__":
    os.environ.setdefault("HOPSCOPE_LOG_LEVEL", "warning")
    main()
