"""The inserter moving a backlog out of the write-ahead log, in one process: how a segment is cut
into INSERTs, measured.

    python bench/backlog.py [--signals traces,metrics] [--bodies 136] [--rounds 2]

For each signal, round and cut (alternating, each in a fresh process and data directory, as chDB
opens one path per process): --bodies request bodies of 5,000 records (bench/otlp_load.py) are
appended to a write-ahead log (segments of ~32 MiB, as the collector's), then one
`Inserter.run_once` on two lanes moves them all into ClickHouse. Prints records/s (wall), the
process's CPU µs a record (ClickHouse's included: it runs in this process), INSERTs made and the
peak RSS. The cuts:

- `equal`: what the inserter does (`storage.inserter._runs`, HOPSCOPE_INSERT_MAX_BYTES 24 MiB): as
  few runs as the limit allows, of about equal size;
- `greedy16`: the cut before it: runs filled in order up to 16 MiB (`storage.inserter._chunks`),
  a ~32.8 MiB segment as 15.5 + 15.5 MiB and then 1.8 MiB.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.otlp_load import MAKERS  # noqa: E402
from bench.scratch import scratch_dir  # noqa: E402

CUTS = ("greedy16", "equal")
RECORDS = 5000


def one(signal: str, cut: str, bodies: int) -> dict:
    """Runs in a process of its own."""
    from google.protobuf.message import Message
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    import storage.inserter as inserter_module
    from storage.connection import connect
    from storage.ingest import row_encoder
    from storage.migrations import migrate
    from storage.wal import WriteAheadLog

    request: dict[str, type[Message]] = {"traces": ExportTraceServiceRequest, "logs": ExportLogsServiceRequest,
                                         "metrics": ExportMetricsServiceRequest}  # fmt: skip
    tmp = scratch_dir("hopscope-backlog-")
    client = connect("chdb://" + tmp + "/clickhouse")
    migrate(client, 7)
    encoder = row_encoder(client, 7)
    payloads = [request[signal].FromString(MAKERS[signal](RECORDS, seed)) for seed in range(8)]
    wal = WriteAheadLog(Path(tmp) / "wal").open()
    for i in range(bodies):
        wal.append(encoder.rows(signal, payloads[i % len(payloads)]).blocks).result(30)
    if cut == "greedy16":
        inserter_module._runs = lambda members, max_bytes: inserter_module._chunks(members, 16 * 1024**2)  # type: ignore[assignment]
    inserter = inserter_module.Inserter(wal, client, python_blocks=encoder.python_blocks,
                                        lanes=[connect("chdb://" + tmp + "/clickhouse")])  # fmt: skip
    segments = len(wal.seal())
    cpu, started = time.process_time(), time.monotonic()
    inserter.run_once()
    wall, cpu = time.monotonic() - started, time.process_time() - cpu
    assert wal.stats().records == 0, "the backlog was not moved"
    records = bodies * RECORDS
    return {"segments": segments, "inserts": inserter.stats.inserts, "rate": records / wall,
            "cpu_us": cpu / records * 1e6, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signals", default="traces,metrics")
    parser.add_argument("--bodies", type=int, default=136)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--one", nargs=2, metavar=("SIGNAL", "CUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one[0], args.one[1], args.bodies)))
        return
    for signal in args.signals.split(","):
        results: dict[str, list[dict]] = {cut: [] for cut in CUTS}
        for _ in range(args.rounds):
            for cut in CUTS:
                out = subprocess.run([sys.executable, __file__, "--one", signal, cut, "--bodies", str(args.bodies)],
                                     capture_output=True, text=True, check=True)  # fmt: skip
                result = json.loads(out.stdout.strip().splitlines()[-1])
                results[cut].append(result)
                print(f"{signal} {cut}: {json.dumps({k: round(v, 2) for k, v in result.items()})}", flush=True)
        for cut, runs in results.items():
            figures = {key: statistics.median(r[key] for r in runs) for key in ("rate", "cpu_us", "rss_mib", "inserts")}
            print(f"{signal:8} {cut:9} median: {figures['rate']:>10,.0f} records/s  {figures['cpu_us']:5.2f} µs a record"
                  f"  {figures['inserts']:4.0f} INSERTs  peak RSS {figures['rss_mib']:,.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
