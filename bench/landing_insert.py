"""Landing inserts alone, in one process: what ClickHouse's conversion of OTLP bodies costs.

    python bench/landing_insert.py [--signal metrics] [--bodies 100] [--per-insert 25] [--records 5000]
                                   [--setting max_block_size=65409 ...]

In a fresh data directory (one chDB path per process: run it once per variant), inserts --bodies
request bodies of --records records each into the signal's landing table, --per-insert bodies per
INSERT, as the inserter does; then 8 inserts of a single body (the fixed cost of an insert). Prints
records/s, ClickHouse CPU µs a record, the process's peak RSS and the single-body insert times.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.otlp_load import MAKERS, TABLES  # noqa: E402
from bench.scratch import scratch_dir  # noqa: E402
from storage.connection import connect  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from storage.otlp_schema import LANDING_TABLES, delimited, insert_settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signal", choices=sorted(MAKERS), default="metrics")
    parser.add_argument("--bodies", type=int, default=100)
    parser.add_argument("--per-insert", type=int, default=25)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a ClickHouse setting for the inserts, over the inserter's own (repeatable)")  # fmt: skip
    args = parser.parse_args()
    table = LANDING_TABLES[args.signal]
    client = connect("chdb://" + scratch_dir("hopscope-landing-"))
    migrate(client, 7)
    bodies = [delimited(MAKERS[args.signal](args.records, seed)) for seed in range(args.bodies)]
    settings = insert_settings(table, sum(map(len, bodies)) // len(bodies))
    settings.update(dict(setting.split("=", 1) for setting in args.setting))
    client.raw_insert(table, None, insert_block=delimited(MAKERS[args.signal](10, 999)), fmt="Protobuf",
                      settings=settings)  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    for at in range(0, args.bodies, args.per_insert):
        client.raw_insert(table, None, insert_block=b"".join(bodies[at : at + args.per_insert]), fmt="Protobuf",
                          settings=settings)  # fmt: skip
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stored = sum(client.query(f"SELECT count() FROM {name}").result_rows[0][0] for name in TABLES[args.signal])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    single = []
    for body in bodies[:8]:
        started = time.perf_counter()
        client.raw_insert(table, None, insert_block=body, fmt="Protobuf", settings=settings)
        single.append(round(time.perf_counter() - started, 2))
    print(json.dumps({
        "records": stored - 10,
        "records_per_s": round((stored - 10) / wall),
        "cpu_us_per_record": round(cpu / max(1, stored - 10) * 1e6, 1),
        "peak_rss_mib": round(peak),
        "mib_per_insert": round(sum(map(len, bodies[: args.per_insert])) / 2**20, 1),
        "single_body_insert_s": single,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
