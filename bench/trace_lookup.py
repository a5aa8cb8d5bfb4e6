"""What one trace lookup costs the engine, query by query, on a store `bench/query.py --keep` loaded.

    python bench/trace_lookup.py DIR [--lookups 60]

Opens DIR's embedded ClickHouse (no collector may hold it) and runs, for --lookups of the traces
`bench/query.py` sampled, each query of the trace detail alone, one after another: the spans by id,
its logs by id (and their evidence), the traces linking to it; and the trace's bounds from the lookup
table (what the logs were read within before migration 024).
Prints per query the wall time (p50) and, from ClickHouse's own counters (system.events), the engine
CPU, rows read and bytes decompressed per lookup: where a lookup's time goes when the two cores are
the limit.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.types import TimeRange  # noqa: E402
from diagnosis.async_hops import LINK_WINDOW_NS, MAX_LINKED_TRACES  # noqa: E402
from storage.connection import connect  # noqa: E402
from storage.log_reader import LogReader  # noqa: E402
from storage.trace_reader import TraceBounds, TraceReader, trace_bounds  # noqa: E402

COUNTERS = {
    "OSCPUVirtualTimeMicroseconds": ("engine CPU", 1e-3, "ms"),
    "SelectedRows": ("rows read", 1, ""),
    "CompressedReadBufferBytes": ("decompressed", 1 / 1024**2, "MiB"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", type=Path, help="the directory given to bench/query.py --keep")
    parser.add_argument("--lookups", type=int, default=60)
    args = parser.parse_args()
    client = connect("chdb://" + str((args.dir / "clickhouse").resolve()))
    trace_ids = json.loads((args.dir / "bench-query.json").read_text())["trace_ids"][: args.lookups]
    traces, logs = TraceReader(client), LogReader(client)
    bounds: dict[str, TraceBounds] = {}
    for trace_id in trace_ids:
        found = trace_bounds(client, trace_id)
        if found is None:
            raise SystemExit(f"trace {trace_id} is not in {args.dir}: load it with bench/query.py --keep")
        bounds[trace_id] = found

    def linking(t: str) -> list[str]:
        first, last = bounds[t].first_s * 10**9, (bounds[t].last_s + 1) * 10**9
        return traces.linking_traces([t], TimeRange(first - LINK_WINDOW_NS, last + LINK_WINDOW_NS), MAX_LINKED_TRACES)

    steps = {
        "spans by id": traces.spans,
        "bounds": lambda t: trace_bounds(client, t),
        "logs by id (with their evidence)": lambda t: logs.of_trace(t).evidence(bounds[t]),
        "traces linking to it": linking,
    }

    def counters() -> dict[str, int]:
        return {event: value for event, value in client.query("SELECT event, value FROM system.events").result_rows}

    for name, step in steps.items():
        step(trace_ids[0])  # warm
        walls, totals = [], dict.fromkeys(COUNTERS, 0)
        for trace_id in trace_ids:
            before = counters()
            started = time.perf_counter()
            step(trace_id)
            walls.append((time.perf_counter() - started) * 1000)
            after = counters()
            for key in COUNTERS:
                totals[key] += after.get(key, 0) - before.get(key, 0)
        figures = "  ".join(
            f"{label} {totals[key] * scale / len(trace_ids):,.1f} {unit}".rstrip()
            for key, (label, scale, unit) in COUNTERS.items()
        )
        print(f"{name:28} p50 {statistics.median(walls):6.2f} ms  {figures}", flush=True)


if __name__ == "__main__":
    main()
