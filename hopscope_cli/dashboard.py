"""Run the dashboard: `hopscope dashboard` in the foreground, or beside the collector in `hopscope up`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dashboard
from hopscope_cli.processes import local_url, stop_process, wait_http_ok

APP = Path(dashboard.__file__).resolve().parent / "app.py"


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
        self.url = local_url(host, port)
        self._proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        self._proc = subprocess.Popen(
            command(self.host, self.port),
            env=environment(self.api_url),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_http_ok(self.url + "/_stcore/health", timeout, self._proc)
        except (TimeoutError, RuntimeError) as exc:
            print(f"hopscope: the dashboard did not start on {self.url}: {exc}", file=sys.stderr, flush=True)
            return
        print(f"dashboard: {self.url}", flush=True)

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc, 10)
