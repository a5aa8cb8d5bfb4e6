"""What ClickHouse spends planning the landing views, which it does again on every insert.

    python bench/view_planning.py [--repeat 5]

In a fresh data directory: for each signal, the fixed cost of a landing insert (one 10-record body,
p50), the time to analyse and plan its converting view's query alone (`SELECT … LIMIT 0` on the
empty Null table: no data), the size of its query tree (`EXPLAIN QUERY TREE` lines), and the same
two with the attribute conversion (`hopscope_attributes`, migration 014) swapped for one that only
takes the string values: the share of the planning the attribute conversion's inline expansion
costs. (The swap is for the measurement only: it would not convert the values right.)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.otlp_load import MAKERS  # noqa: E402
from bench.scratch import scratch_dir  # noqa: E402
from storage.connection import connect  # noqa: E402
from storage.migrations import load_migrations, migrate  # noqa: E402
from storage.otlp_schema import LANDING_TABLES, delimited, insert_settings  # noqa: E402

# The view that converts each signal's requests: (migration, view name).
VIEWS = {
    "traces": (14, "otlp_traces_in_mv"),
    "logs": (15, "otlp_logs_in_mv"),
    "metrics": (23, "otlp_metrics_in_points_mv"),
}

PLAIN_ATTRIBUTES = """CREATE FUNCTION hopscope_plain_attributes AS (attrs) ->
    mapFromArrays(arrayMap(a -> tupleElement(a, 'k'), attrs), arrayMap(a -> tupleElement(tupleElement(a, 'v'), 's'), attrs))"""


def _view_query(version: int, view: str) -> str:
    [statement] = [
        s for m in load_migrations(7) if m.version == version for s in m.statements if view in s.split(" AS")[0]
    ]
    return statement[statement.index(" AS\n") + 4 :]


def _p50_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    client = connect("chdb://" + scratch_dir("hopscope-planning-"))
    migrate(client, 7)
    client.command(PLAIN_ATTRIBUTES)
    for signal, (version, view) in VIEWS.items():
        table = LANDING_TABLES[signal]
        body = delimited(MAKERS[signal](10, 1))
        settings = insert_settings(table)
        insert = _p50_ms(
            lambda t=table, b=body, s=settings: client.raw_insert(t, None, insert_block=b, fmt="Protobuf", settings=s),
            args.repeat,
        )
        query = _view_query(version, view)
        plain = query.replace("hopscope_attributes(", "hopscope_plain_attributes(")
        planned = {
            name: (
                _p50_ms(lambda q=q: client.query(q + " LIMIT 0"), args.repeat),
                len(client.query("EXPLAIN QUERY TREE " + q).result_rows),
            )
            for name, q in (("as shipped", query), ("plain attributes", plain))
        }
        print(
            f"{signal:8} insert of 10 records p50 {insert:6.1f} ms;  "
            + ";  ".join(
                f"{name}: planned in {ms:6.1f} ms, query tree {lines:,} lines" for name, (ms, lines) in planned.items()
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
