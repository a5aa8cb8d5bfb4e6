"""Retake the README's screenshots from the live demo with a fault on (not from seeded data).

    .venv/bin/python docs/screenshots/take.py [--fault ledger_timeout] [--wait 60]

Starts `hopscope up --demo` on free ports in a fresh data directory, waits for the load, switches
the fault on, waits `--wait` seconds (the failure spreads, the demo's alerts fire), then opens each
page in Debian's headless Chromium and writes docs/screenshots/<page>.png. Stops everything after.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from hopscope_cli.processes import free_port, wait_http_ok  # noqa: E402

OUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fault", default="ledger_timeout")
    parser.add_argument("--wait", type=float, default=60.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="hopscope-shots-"))
    port, dash = free_port(), free_port()
    hopscope = [sys.executable, "-m", "hopscope_cli"]
    up = subprocess.Popen(
        [*hopscope, "up", "--demo", "--port", str(port), "--grpc-port", str(free_port()),
         "--dashboard-port", str(dash), "--data-dir", str(tmp / "data")],
        stdout=open(tmp / "up.log", "w"), stderr=subprocess.STDOUT,  # noqa: SIM115
    )  # fmt: skip
    api, ui = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{dash}"
    try:
        wait_http_ok(ui + "/_stcore/health", timeout=180, process=up)
        while "[load]" not in (tmp / "up.log").read_text():
            time.sleep(1)
        time.sleep(30)  # some healthy traffic first
        subprocess.run([*hopscope, "fault", args.fault, "on", "--data-dir", str(tmp / "data")], check=True)
        time.sleep(args.wait)
        groups = httpx.get(api + "/api/v1/failures", params={"since": "15m"}, timeout=60).json()["groups"]
        example = groups[0]["example_trace_ids"][0]
        origin = groups[0]["origin"]
        pages = {
            "overview": ("/", "Top failure chains"),
            "failures": ("/failures", "Related symptoms"),
            "trace": (f"/trace?trace_id={example}", "Span details"),
            "traces": ("/traces", "traces, newest first"),
            "logs": ("/logs", "Search"),
            "metrics": ("/metrics", "Rate, errors, duration"),
            "alerts": ("/alerts", "Recent notifications"),
            "compare": (f"/compare?service={origin['service']}&operation={origin['operation']}", "failing"),
        }
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
            )
            for name, (path, text) in pages.items():
                page = browser.new_page(viewport={"width": 1500, "height": 1000})
                page.goto(ui + path)
                page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
                page.wait_for_timeout(2500)  # charts and the map finish drawing
                page.screenshot(path=str(OUT / f"{name}.png"), full_page=name != "trace")
                page.close()
                print(f"wrote {OUT / name}.png", flush=True)
            browser.close()
        subprocess.run([*hopscope, "fault", args.fault, "off", "--data-dir", str(tmp / "data")], check=True)
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)


if __name__ == "__main__":
    main()
