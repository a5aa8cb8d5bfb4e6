"""Landing inserts alone, in one process: what ClickHouse's conversion of OTLP bodies costs.

    python bench/landing_insert.py [--signal metrics] [--bodies 100] [--per-insert 25] [--records 5000]
                                   [--setting max_block_size=65409 ...] [--without WHAT ...] [--merge]
                                   [--points-per-metric 50] [--metrics-per-resource 1]

In a fresh data directory (one chDB path per process: run it once per variant), inserts --bodies
request bodies of --records records each into the signal's landing table, --per-insert bodies per
INSERT, as the inserter does; then 8 inserts of a single body (the fixed cost of an insert). Prints
records/s, ClickHouse CPU µs a record, the process's peak RSS and the single-body insert times.

Where the time goes: each --without takes one part of the work away before the inserts (compare
the CPU a record with a run without it, alternating, on a noisy machine):
  write        the views write into Null copies of the signal's tables (their MATERIALIZED columns
               still computed): decoding and converting only
  conversion   the landing views dropped: the bodies are decoded into the landing table only
  skip-indexes the stored tables' skip indexes dropped
  projections  the stored tables' projections dropped
  side-views   the views that read the stored tables dropped (lookup tables, service versions, ...)
--merge then merges each stored table's parts into one (OPTIMIZE FINAL) and prints its CPU a record:
one merge; background merges rewrite a record about that often again under load.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import sys
import time
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.otlp_load import MAKERS, TABLES, make_metrics_request  # noqa: E402
from bench.scratch import scratch_dir  # noqa: E402
from storage.connection import connect  # noqa: E402
from storage.migrations import migrate  # noqa: E402
from storage.otlp_schema import LANDING_TABLES, delimited, insert_settings  # noqa: E402

_VIEWS = "SELECT name, create_table_query, as_select FROM system.tables WHERE database = currentDatabase() AND engine = 'MaterializedView'"


def _views_from(client, tables: list[str]) -> list[tuple[str, str, str]]:
    """The materialized views reading any of `tables`: (name, CREATE statement, SELECT)."""
    reading = {view for (deps,) in client.query(
        "SELECT dependencies_table FROM system.tables WHERE database = currentDatabase() AND name IN {t:Array(String)}",
        parameters={"t": tables}).result_rows for view in deps}  # fmt: skip
    return [row for row in client.query(_VIEWS).result_rows if row[0] in reading]


def _without(client, signal: str, what: str) -> None:
    stored = TABLES[signal]
    if what == "conversion":
        for name, _, _ in _views_from(client, [LANDING_TABLES[signal]]):
            client.command(f"DROP VIEW {name}")
    elif what == "write":
        for name, create, select in client.query(_VIEWS).result_rows:
            target = re.search(r" TO (?:\w+\.)?(\w+) ", create)
            if target and target.group(1) in stored:
                sink = target.group(1) + "_null"
                client.command(f"CREATE TABLE IF NOT EXISTS {sink} AS {target.group(1)} ENGINE = Null")
                client.command(f"DROP VIEW {name}")
                client.command(f"CREATE MATERIALIZED VIEW {name} TO {sink} AS {select}")
    elif what == "side-views":
        for name, _, _ in _views_from(client, stored):
            client.command(f"DROP VIEW {name}")
    else:  # skip-indexes, projections (argparse allows nothing else)
        catalog, kind = ("data_skipping_indices", "INDEX") if what == "skip-indexes" else ("projections", "PROJECTION")
        for table in stored:
            for (name,) in client.query(f"SELECT name FROM system.{catalog} WHERE database = currentDatabase() "
                                        "AND table = {t:String}", parameters={"t": table}).result_rows:  # fmt: skip
                client.command(f"ALTER TABLE {table} DROP {kind} {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--signal", choices=sorted(MAKERS), default="metrics")
    parser.add_argument("--bodies", type=int, default=100)
    parser.add_argument("--per-insert", type=int, default=25)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a ClickHouse setting for the inserts, over the inserter's own (repeatable)")  # fmt: skip
    parser.add_argument("--without", action="append", default=[],
                        choices=["write", "conversion", "skip-indexes", "projections", "side-views"])  # fmt: skip
    parser.add_argument("--merge", action="store_true", help="then merge the stored parts and time it")
    parser.add_argument("--points-per-metric", type=int, default=50, help="metrics: points in each metric")
    parser.add_argument("--metrics-per-resource", type=int, default=1,
                        help="metrics: metrics under each resource (an SDK's request: one resource, dozens)")  # fmt: skip
    args = parser.parse_args()
    table = LANDING_TABLES[args.signal]
    client = connect("chdb://" + scratch_dir("hopscope-landing-"))
    migrate(client, 7)
    for what in args.without:
        _without(client, args.signal, what)
    make = MAKERS[args.signal]
    if args.signal == "metrics":
        make = partial(make_metrics_request, per_metric=args.points_per_metric,
                       metrics_per_resource=args.metrics_per_resource)  # fmt: skip
    bodies = [delimited(make(args.records, seed)) for seed in range(args.bodies)]
    settings = insert_settings(table)
    settings.update(dict(setting.split("=", 1) for setting in args.setting))
    client.raw_insert(table, None, insert_block=delimited(MAKERS[args.signal](10, 999)), fmt="Protobuf",
                      settings=settings)  # fmt: skip
    wall, cpu = time.perf_counter(), time.process_time()
    for at in range(0, args.bodies, args.per_insert):
        client.raw_insert(table, None, insert_block=b"".join(bodies[at : at + args.per_insert]), fmt="Protobuf",
                          settings=settings)  # fmt: skip
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stored = sum(client.query(f"SELECT count() FROM {name}").result_rows[0][0] for name in TABLES[args.signal])
    records = args.bodies * args.records  # the requests' own count: with `--without write` nothing is stored
    if "write" not in args.without and "conversion" not in args.without and stored - 10 != records:
        raise SystemExit(f"{records} records sent, {stored - 10} stored")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    merge = None
    if args.merge and stored:
        started = time.process_time()
        for name in TABLES[args.signal]:
            client.command(f"OPTIMIZE TABLE {name} FINAL")
        merge = round((time.process_time() - started) / stored * 1e6, 2)
    single = []
    for body in bodies[:8]:
        started = time.perf_counter()
        client.raw_insert(table, None, insert_block=body, fmt="Protobuf", settings=settings)
        single.append(round(time.perf_counter() - started, 2))
    print(json.dumps({
        "without": args.without,
        "records": records,
        "records_per_s": round(records / wall),
        "cpu_us_per_record": round(cpu / records * 1e6, 1),
        "peak_rss_mib": round(peak),
        "mib_per_insert": round(sum(map(len, bodies[: args.per_insert])) / 2**20, 1),
        "single_body_insert_s": single,
        "merge_cpu_us_per_record": merge,
    }))  # fmt: skip


if __name__ == "__main__":
    main()
