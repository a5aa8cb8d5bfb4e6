"""Time until the dashboard's Failures page shows its content, over the query benchmark's dataset.

    python bench/query.py --keep /tmp/qb          # once: 10M spans over 24 h
    python bench/dashboard.py --data /tmp/qb [--repeat 5]

Starts `hopscope up` (collector + dashboard) on that data directory, then loads /failures in
Debian's headless Chromium (Playwright) and measures from navigation until the page title and the
first failure group's heading are visible, and the tenth's (the whole first screenful and what is
below it), --repeat times: cold (a new browser context each time, nothing cached) and warm (new
pages in one context, the dashboard's scripts cached).
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
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            # Cold: a new browser context per load (nothing cached, a first visit). Warm: one context,
            # a new page per load (the dashboard's scripts cached, as for anyone who opened it before).
            returning = browser.new_context(viewport={"width": 1400, "height": 1000})
            for kind, new_page in (
                ("cold", lambda: browser.new_page(viewport={"width": 1400, "height": 1000})),
                ("warm", returning.new_page),
            ):
                times, titles, tenths = [], [], []
                for i in range(args.repeat + 1):
                    page = new_page()
                    started = time.perf_counter()
                    page.goto(url)
                    page.locator("h1").first.wait_for(timeout=60_000)
                    title = time.perf_counter() - started
                    page.locator("h3").filter(has_text="—").first.wait_for(timeout=60_000)
                    took = time.perf_counter() - started
                    page.locator("h3").filter(has_text="—").nth(9).wait_for(timeout=60_000)
                    tenth = time.perf_counter() - started
                    if i:  # the first load warms Streamlit and the engine's caches
                        times.append(took)
                        titles.append(title)
                        tenths.append(tenth)
                    print(
                        f"{kind} load {i}: title {title:.2f} s, first card {took:.2f} s, tenth {tenth:.2f} s",
                        flush=True,
                    )
                    page.close()
                    time.sleep(2)  # one visitor at a time: the previous page's script has finished
                print(
                    f"Failures page, {kind}: first card p50 {statistics.median(times):.2f} s, max {max(times):.2f} s; "
                    f"title (Streamlit's session start) p50 {statistics.median(titles):.2f} s; "
                    f"tenth card p50 {statistics.median(tenths):.2f} s; {len(times)} loads",
                    flush=True,
                )
            browser.close()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)


if __name__ == "__main__":
    main()
