"""`hopscope collector` as a child process on a free port, for the benchmarks and the tests."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx

from hopscope_cli.processes import ProcessExited, free_port, stop_process, wait_http_ok


class CollectorProcess:
    """A collector in a subprocess on a free port, ready once `/readyz` answers; a context manager.

    `stop()` sends SIGTERM: the collector flushes everything it accepted and exits 0."""

    def __init__(self, data_dir: Path, *args: str, env: dict | None = None, ca: Path | None = None) -> None:
        """`ca`: the certificate to trust when the collector serves TLS (`--tls-cert`)."""
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.grpc_port = free_port()
        self.verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=str(ca)) if ca else True
        self.url = f"{'https' if ca else 'http'}://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, "HOPSCOPE_FLUSH_INTERVAL_SECONDS": "0.2", **(env or {})}
        self.proc: subprocess.Popen | None = None
        self.log_path = self.data_dir.parent / f"collector-{self.port}.log"
        self._log: IO[str] | None = None

    def start(self, timeout: float = 60.0) -> CollectorProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        cmd = [sys.executable, "-m", "hopscope_cli", "collector", "--port", str(self.port),
               "--grpc-port", str(self.grpc_port), "--data-dir", str(self.data_dir), *self.args]  # fmt: skip
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env)
        try:
            wait_http_ok(self.url + "/readyz", timeout, self.proc, self.verify)
        except ProcessExited:
            code = self.stop()
            raise AssertionError(f"collector exited with {code}: {self.log()}") from None
        except TimeoutError:
            self.stop()
            raise AssertionError(f"collector not ready after {timeout}s: {self.log()}") from None
        return self

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then wait (SIGKILL after `timeout`); returns the exit code."""
        if self.proc is None:
            return 0
        code = stop_process(self.proc, timeout)
        if self._log is not None:
            self._log.close()
        self.proc = None
        return code

    def wait_stored(self, timeout: float = 60.0) -> None:
        """Return once the write-ahead log is empty: everything acknowledged is in ClickHouse."""
        wait_http_ok(self.url + "/readyz", timeout, self.proc, self.verify)
        deadline = time.monotonic() + timeout
        while httpx.get(self.url + "/readyz", timeout=10, verify=self.verify).json()["wal"]["records"]:
            if time.monotonic() >= deadline:
                raise TimeoutError(f"the write-ahead log did not empty within {timeout:.0f}s")
            time.sleep(0.05)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:] if self.log_path.exists() else ""

    def __enter__(self) -> CollectorProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
