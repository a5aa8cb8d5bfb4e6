"""Child processes and the network around them: free ports, the loopback address of a listen
address, waiting for a URL to answer, stopping a child, and reading a stopped collector's
embedded store. Used by the command line, the launchers, the benchmarks and the tests.
"""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

_WILDCARDS = ("0.0.0.0", "::", "")


class ProcessExited(RuntimeError):
    """The process being waited for exited first."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def local_url(host: str, port: int) -> str:
    """The URL a process on this machine uses to reach a server listening on `host:port`."""
    reachable = "127.0.0.1" if host in _WILDCARDS else host
    if ":" in reachable:
        reachable = f"[{reachable}]"
    return f"http://{reachable}:{port}"


def wait_http_ok(
    url: str, timeout: float = 120.0, process: subprocess.Popen | None = None, verify: ssl.SSLContext | bool = True
) -> None:
    """Return once `url` answers 200. TimeoutError after `timeout` seconds; ProcessExited as soon
    as `process` (the server expected to answer) has exited. `verify`: the TLS context for https."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise ProcessExited(f"the process exited with {process.returncode} before {url} answered")
        try:
            if httpx.get(url, timeout=1, verify=verify).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")
        time.sleep(0.1)


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> int:
    """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return process.returncode


_READ_SCRIPT = r"""
import json, sys
import clickhouse_connect
client = clickhouse_connect.get_client(dsn="chdb://" + sys.argv[1])
result = client.query(sys.argv[2])
def plain(v):
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, (bytes, bytearray)):
        return v.hex()
    if isinstance(v, (int, float, str, bool)) or v is None:
        return v
    return str(v)
print(json.dumps([dict(zip(result.column_names, map(plain, row))) for row in result.result_rows]))
"""


def query_data_dir(data_dir: Path, sql: str) -> list[dict]:
    """Run one query against the embedded ClickHouse under `data_dir` while no collector holds it.

    chDB opens one data path per process, and the caller may hold its own: so the query runs in a
    short-lived process of its own. Rows come back as dicts of JSON values (bytes as hex)."""
    path = str((Path(data_dir) / "clickhouse").resolve())
    out = subprocess.run(
        [sys.executable, "-c", _READ_SCRIPT, path, sql], capture_output=True, text=True, timeout=120, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"query failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout)
