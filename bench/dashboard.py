"""Time until the dashboard's Failures page shows its content, over the query benchmark's dataset.

    python bench/query.py --keep /tmp/qb          # once: 10M spans over 24 h
    python bench/dashboard.py --data /tmp/qb [--repeat 5]

Starts `hopscope up` (collector + dashboard) on that data directory, then loads /failures in
Debian's headless Chromium (Playwright) and measures from navigation until the first failure group's
heading is visible, --repeat times, each in a fresh page.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hopscope_cli.processes import free_port, wait_http_ok  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a data directory filled by bench/query.py --keep")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    port, dash_port = free_port(), free_port()
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hopscope_cli",
            "up",
            "--port",
            str(port),
            "--grpc-port",
            str(free_port()),
            "--dashboard-port",
            str(dash_port),
            "--data-dir",
            str(args.data),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{dash_port}/failures"
    try:
        wait_http_ok(f"http://127.0.0.1:{dash_port}/_stcore/health", timeout=180, process=up)
        times = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            for i in range(args.repeat + 1):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                started = time.perf_counter()
                page.goto(url)
                page.locator("h3").filter(has_text="—").first.wait_for(timeout=60_000)
                took = time.perf_counter() - started
                if i:  # the first load warms Streamlit and the engine's caches
                    times.append(took)
                print(f"load {i}: {took:.2f} s{' (warm-up)' if not i else ''}", flush=True)
                page.close()
            browser.close()
        print(f"Failures page: p50 {statistics.median(times):.2f} s, max {max(times):.2f} s over {len(times)} loads")
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)


if __name__ == "__main__":
    main()
