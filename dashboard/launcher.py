"""Run the dashboard: `hopscope dashboard` in the foreground, or beside the collector in `hopscope up`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

APP = Path(__file__).resolve().parent / "app.py"


def command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--global.developmentMode",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "minimal",
    ]


def environment(api_url: str) -> dict[str, str]:
    return {**os.environ, "HOPSCOPE_API_URL": api_url}


def run(host: str, port: int, api_url: str) -> int:
    """Serve in the foreground until interrupted (the process becomes Streamlit)."""
    print(f"hopscope dashboard: http://{host}:{port}  (query API: {api_url})", flush=True)
    os.execve(sys.executable, command(host, port), environment(api_url))
    return 0  # not reached


class DashboardCompanion:
    """The dashboard as a child process of `hopscope up`."""

    def __init__(self, host: str, port: int, api_url: str) -> None:
        self.host, self.port, self.api_url = host, port, api_url
        self.url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
        self._proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        self._proc = subprocess.Popen(
            command(self.host, self.port),
            env=environment(self.api_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._proc.poll() is None:
            try:
                if httpx.get(self.url + "/_stcore/health", timeout=1).status_code == 200:
                    print(f"dashboard: {self.url}", flush=True)
                    return
            except httpx.HTTPError:
                time.sleep(0.3)
        print(f"hopscope: the dashboard did not start on {self.url}", file=sys.stderr, flush=True)

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
