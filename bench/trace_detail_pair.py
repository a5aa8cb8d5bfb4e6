"""Two versions of the trace detail side by side: on a noisy machine, compare them in the same moments.

    python bench/trace_detail_pair.py CHECKOUT_A:DIR_A CHECKOUT_B:DIR_B [--seconds 20] [--runs 3]

Starts a collector from each checkout (`git worktree add` the other version) on its own store, each
DIR a copy of one `bench/query.py --keep` store (one chDB path per process; the newer version
migrates its copy). One client then asks both for the same random traces in turn, alternating which
goes first, for --seconds; prints per collector the p50 and p90 and its CPU a lookup. Run it from
either checkout: each collector runs the code of its own (`python -m` puts the working directory
first on the module path).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import _threads  # noqa: E402
from hopscope_cli.processes import free_port, stop_process, wait_http_ok  # noqa: E402


def _cpu_seconds(pid: int) -> float:
    """CPU seconds of a collector (every thread, and its worker processes if any)."""
    return sum(seconds for _, seconds in _threads(pid).values())


def _start(checkout: Path, data: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(checkout), "HOPSCOPE_LOG_LEVEL": "warning"}
    cmd = [sys.executable, "-m", "hopscope_cli", "collector", "--port", str(port),
           "--grpc-port", str(free_port()), "--data-dir", str(data)]  # fmt: skip
    process = subprocess.Popen(cmd, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_http_ok(url + "/readyz", 120, process)
    return process, url


def _run(
    clients: list[httpx.Client], pids: list[int], ids: list[str], seconds: float
) -> list[tuple[float, float, float]]:
    for client in clients:  # warm: marks and indexes of the parts read
        for _ in range(30):
            client.get(f"/api/v1/traces/{random.choice(ids)}").raise_for_status()
    walls: list[list[float]] = [[] for _ in clients]
    cpu = [_cpu_seconds(pid) for pid in pids]
    deadline, turn = time.monotonic() + seconds, 0
    while time.monotonic() < deadline:
        trace_id = random.choice(ids)
        for i in (0, 1) if turn % 2 == 0 else (1, 0):
            started = time.perf_counter()
            clients[i].get(f"/api/v1/traces/{trace_id}").raise_for_status()
            walls[i].append((time.perf_counter() - started) * 1000)
        turn += 1
    return [
        (statistics.median(w), sorted(w)[int(len(w) * 0.9)], (_cpu_seconds(pid) - c) * 1000 / len(w))
        for w, pid, c in zip(walls, pids, cpu, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("variants", nargs=2, metavar="CHECKOUT:DIR")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    variants = [tuple(Path(p).resolve() for p in v.split(":", 1)) for v in args.variants]
    ids = json.loads((variants[0][1] / "bench-query.json").read_text())["trace_ids"]
    for run in range(args.runs):
        started = [_start(checkout, data) for checkout, data in variants]
        try:
            with httpx.Client(base_url=started[0][1]) as a, httpx.Client(base_url=started[1][1]) as b:
                results = _run([a, b], [p.pid for p, _ in started], ids, args.seconds)
        finally:
            for process, _ in started:
                stop_process(process, 60)
        for (checkout, data), (p50, p90, cpu) in zip(variants, results, strict=True):
            print(f"run {run + 1} {checkout} on {data}: p50 {p50:.1f} ms, p90 {p90:.1f} ms, "
                  f"collector CPU {cpu:.1f} ms a lookup", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
