"""Ingest benchmark: durable spans/s through the collector vs. a raw insert ceiling, and how long
an acknowledgement takes.

    python bench/ingest.py [--duration 20] [--senders 16] [--spans-per-request 2000]

1. Starts `hopscope collector` (embedded ClickHouse, fresh data directory) on a free port.
2. A separate sender process posts pre-generated OTLP protobuf requests from several threads for
   `--duration` seconds, counting acknowledged spans (200 = durable in the write-ahead log) and
   timing every acknowledgement (p50/p99).
3. Stops the collector (SIGTERM), counts the rows in ClickHouse, and reads its peak RSS.
4. In another fresh process and data directory, inserts the same spans, pre-encoded, straight
   into otel_traces for the same duration (the raw insert ceiling), and times decode + convert +
   encode of the requests on one core (the per-worker cost).
Prints both rates and their ratio; the ratio is the figure to compare across machines.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.otlp_load import make_request  # noqa: E402
from hopscope_cli.collector_process import CollectorProcess  # noqa: E402
from hopscope_cli.processes import query_data_dir  # noqa: E402


def _payloads(count: int, spans: int) -> list[bytes]:
    return [make_request(spans, seed) for seed in range(count)]


def _sender(url: str, duration: float, senders: int, payloads: list[bytes], spans: int, out) -> None:
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
                    response = client.post(
                        url + "/v1/traces",
                        content=payloads[i % len(payloads)],
                        headers={"Content-Type": "application/x-protobuf"},
                    )
                except httpx.HTTPError:
                    errors[k] += 1
                    continue
                if response.status_code == 200:
                    acked[k] += spans
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
    out.put(
        {
            "acked": sum(acked),
            "refused": sum(refused),
            "errors": sum(errors),
            "elapsed": time.monotonic() - started,
            "ack_p50_ms": waited[len(waited) // 2] * 1000,
            "ack_p99_ms": waited[int(len(waited) * 0.99)] * 1000,
        }
    )


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry.name))
        except (OSError, ValueError):
            continue
    return kids


def storage_ceiling(data_dir: str, duration: float, spans: int, count: int) -> dict:
    """Runs in its own process (one chDB path per process): the raw insert ceiling — prepared
    Native blocks of 20,000 rows inserted into the same table, nothing else."""
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from storage.connection import connect
    from storage.migrations import migrate
    from storage.model import spans_to_batch
    from storage.native import NativeEncoder, read_schema

    payloads = _payloads(count, spans)
    client = connect("chdb://" + data_dir)
    migrate(client, 7)
    encoder = NativeEncoder(read_schema(client, ["otel_traces"]))
    started = time.perf_counter()
    blocks = [encoder.encode(spans_to_batch(ExportTraceServiceRequest.FromString(p))[0]) for p in payloads]
    convert_us = (time.perf_counter() - started) / (count * spans) * 1e6
    per_insert = max(1, 20_000 // spans)
    batch = b"".join(blocks[i % count].data for i in range(per_insert))
    inserts, started = 0, time.monotonic()
    while time.monotonic() - started < duration:
        # The same block again and again: a token of its own per insert, as the inserter sends, or
        # ClickHouse would deduplicate it (migration 011).
        client.raw_insert("otel_traces", blocks[0].columns, insert_block=batch, fmt="Native",
                          settings={"insert_deduplication_token": f"ceiling-{inserts}"})  # fmt: skip
        inserts += 1
    elapsed = time.monotonic() - started
    stored = client.query("SELECT count() FROM otel_traces").result_rows[0][0]
    return {"stored": stored, "elapsed": elapsed, "inserts": inserts, "convert_us": convert_us}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--senders", type=int, default=16)
    parser.add_argument("--spans-per-request", type=int, default=2000)
    parser.add_argument("--payloads", type=int, default=8)
    args = parser.parse_args()
    spans = args.spans_per_request
    payloads = _payloads(args.payloads, spans)
    print(f"{len(payloads)} requests of {spans} spans, {sum(map(len, payloads)) // len(payloads) // 1024} KiB each")

    with tempfile.TemporaryDirectory(prefix="hopscope-bench-") as tmp:
        collector = CollectorProcess(Path(tmp) / "data", env={"HOPSCOPE_LOG_LEVEL": "warning"}).start()
        queue: mp.Queue = mp.Queue()
        sender = mp.get_context("fork").Process(
            target=_sender, args=(collector.url, args.duration, args.senders, payloads, spans, queue)
        )
        sender.start()
        result = queue.get()
        sender.join()
        assert collector.proc is not None
        rss = _peak_rss_mib(collector.proc.pid)
        worker_rss = sum((_peak_rss_mib(child) for child in _children(collector.proc.pid)), 0.0)
        code = collector.stop()
        stored = query_data_dir(Path(tmp) / "data", "SELECT count() AS n FROM otel_traces")[0]["n"]
        collector_rate = result["acked"] / result["elapsed"]

        ceiling_args = (str(Path(tmp) / "ceiling"), args.duration, spans, args.payloads)
        with mp.get_context("spawn").Pool(1) as pool:
            ceiling = pool.apply(storage_ceiling, ceiling_args)
        ceiling_rate = ceiling["stored"] / ceiling["elapsed"]

    print(json.dumps({"collector": result, "stored": stored, "collector_exit": code}, indent=None))
    print(
        f"collector: {collector_rate:,.0f} durable spans/s ({stored:,} spans in {result['elapsed']:.1f} s, "
        f"{result['refused']} requests refused with 503, {result['errors']} errors)"
    )
    print(f"acknowledgement latency: p50 {result['ack_p50_ms']:.1f} ms, p99 {result['ack_p99_ms']:.1f} ms")
    print(
        f"collector peak RSS: {rss:.0f} MiB main process, {worker_rss:.0f} MiB in its worker processes (sum of peaks)"
    )
    print(
        f"raw insert ceiling (pre-encoded blocks): {ceiling_rate:,.0f} spans/s "
        f"({ceiling['stored']:,} spans, {ceiling['inserts']} inserts)"
    )
    print(
        f"decode + convert + encode on one core: {ceiling['convert_us']:.1f} us/span "
        f"({1e6 / ceiling['convert_us']:,.0f} spans/s per worker)"
    )
    print(f"ratio collector / storage ceiling: {collector_rate / ceiling_rate:.2f}")
    if stored != result["acked"]:
        print(f"WARNING: {result['acked']} spans acknowledged but {stored} stored", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    os.environ.setdefault("HOPSCOPE_LOG_LEVEL", "warning")
    main()
