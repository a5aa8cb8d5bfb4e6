"""What ClickHouse spends planning the landing views, which it does again on every insert.

    python bench/view_planning.py [--repeat 5]

In a fresh data directory: for each signal, the fixed cost of a landing insert (one 10-record body,
p50), and the time to analyse and plan its converting view's query alone (`SELECT … LIMIT 0` on the
empty Null table: no data) with the size of its query tree (`EXPLAIN QUERY TREE` lines), twice: as
the view stores it (what every insert runs: the SQL functions written out, ClickHouse copies each
argument wherever a function's body names it) and as the migrations write it (with the functions'
names), the same query.
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

# The view that converts each signal's requests.
VIEWS = {"traces": "otlp_traces_in_mv", "logs": "otlp_logs_in_mv", "metrics": "otlp_metrics_in_points_mv"}


def _written_query(view: str) -> str:
    """The view's query as the last migration that set it writes it."""
    statements = [s for m in load_migrations(7) for s in m.statements
                  if s.startswith((f"ALTER TABLE {view} MODIFY QUERY", f"CREATE MATERIALIZED VIEW IF NOT EXISTS {view} "))]  # fmt: skip
    last = statements[-1]
    return last[last.index("MODIFY QUERY") + 12 :] if "MODIFY QUERY" in last else last[last.index(" AS\n") + 4 :]


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
    for signal, view in VIEWS.items():
        table = LANDING_TABLES[signal]
        body = delimited(MAKERS[signal](10, 1))
        settings = insert_settings(table)
        insert = _p50_ms(
            lambda t=table, b=body, s=settings: client.raw_insert(t, None, insert_block=b, fmt="Protobuf", settings=s),
            args.repeat,
        )
        stored = client.query(
            "SELECT as_select FROM system.tables WHERE database = currentDatabase() AND name = {v:String}",
            parameters={"v": view},
        ).result_rows[0][0]
        planned = {
            name: (
                _p50_ms(lambda q=q: client.query(q + " LIMIT 0"), args.repeat),
                len(client.query("EXPLAIN QUERY TREE " + q).result_rows),
                len(q),
            )
            for name, q in (("as stored", stored), ("as written", _written_query(view)))
        }
        print(
            f"{signal:8} insert of 10 records p50 {insert:6.1f} ms;  "
            + ";  ".join(
                f"{name}: planned in {ms:6.1f} ms, query tree {lines:,} lines, {chars:,} characters"
                for name, (ms, lines, chars) in planned.items()
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
