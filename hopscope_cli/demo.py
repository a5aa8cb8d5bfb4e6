"""Start and stop the demo shop: every service as its own process on a free local port, sending
telemetry to the collector; plus the load generator. Used by `hopscope up --demo` and the tests.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from demo.faults import FAULTS
from hopscope_cli.processes import ProcessExited, free_port, wait_http_ok

# service name -> module under demo.services
MODULES = {
    "frontend": "frontend",
    "checkout": "checkout",
    "payment": "payment",
    "ledger": "ledger",
    "inventory": "inventory",
    "queue": "broker",
    "shipping": "shipping",
}
STATE_FILE = "demo.json"


@dataclass
class Demo:
    """The demo services, started together. `collector_url` is the collector's OTLP/HTTP base URL."""

    collector_url: str
    data_dir: Path
    faults: tuple[str, ...] = ()
    ingest_token: str | None = None  # sent by every service when the collector wants tokens
    urls: dict[str, str] = field(default_factory=dict)
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    _load: subprocess.Popen | None = None

    def start(self, timeout: float = 90.0) -> Demo:
        unknown = set(self.faults) - FAULTS.keys()
        if unknown:
            raise ValueError(f"unknown fault(s) {', '.join(sorted(unknown))}; known: {', '.join(FAULTS)}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        self.urls = {name: f"http://127.0.0.1:{free_port()}" for name in MODULES}
        env = {
            **os.environ,
            **{f"DEMO_{name.upper()}_URL": url for name, url in self.urls.items()},
            "DEMO_DATA_DIR": str(self.data_dir),
            "DEMO_FAULTS": ",".join(self.faults),
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.collector_url,
            "HOPSCOPE_ENVIRONMENT": "demo",
            "HOPSCOPE_SERVICE_VERSION": "1.0.0",
            **({"HOPSCOPE_API_KEY": self.ingest_token} if self.ingest_token else {}),
            # Probes, fault switches and the worker's queue polling are plumbing, not traffic.
            "OTEL_PYTHON_FASTAPI_EXCLUDED_URLS": "/healthz,/control/,/topics/orders/poll,/topics/orders$",
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        }
        for name, module in MODULES.items():
            port = self.urls[name].rsplit(":", 1)[1]
            log = open(self.data_dir / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - owned by the child
            self._procs[name] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    f"demo.services.{module}:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    port,
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ],
                env={**env, "OTEL_SERVICE_NAME": name},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            log.close()
        self._wait_healthy(timeout)
        (self.data_dir / STATE_FILE).write_text(json.dumps({"services": self.urls}, indent=2))
        try:
            pointer_file().parent.mkdir(parents=True, exist_ok=True)
            pointer_file().write_text(str(self.data_dir.resolve()))
        except OSError:
            pass  # `hopscope fault --data-dir` still finds it
        return self

    def _wait_healthy(self, timeout: float) -> None:
        """Every service answers /healthz (they start in parallel, so one deadline for all)."""
        deadline = time.monotonic() + timeout
        for name, url in self.urls.items():
            try:
                wait_http_ok(url + "/healthz", max(0.1, deadline - time.monotonic()), self._procs[name])
            except ProcessExited:
                self.stop()
                raise RuntimeError(f"demo service {name} exited; see {self.log_path(name)}") from None
            except TimeoutError:
                self.stop()
                raise RuntimeError(f"demo service {name} not healthy after {timeout:.0f}s") from None

    def log_path(self, name: str) -> Path:
        return self.data_dir / "logs" / f"{name}.log"

    def set_fault(self, name: str, enabled: bool) -> None:
        set_fault(self.urls, name, enabled)

    def start_load(self, rate: float, count: int = 0) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "demo.load", "--url", self.urls["frontend"], "--rate", str(rate)]
        if count:
            cmd += ["--count", str(count)]
        self._load = subprocess.Popen(cmd)
        return self._load

    def stop(self, timeout: float = 10.0) -> dict[str, float]:
        """SIGTERM every process; returns how long each took to exit (their telemetry is flushed)."""
        procs = dict(self._procs)
        if self._load is not None:
            procs["load"] = self._load
        started = time.monotonic()
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        took = {}
        for name, proc in procs.items():
            try:
                proc.wait(max(0.1, timeout - (time.monotonic() - started)))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            took[name] = time.monotonic() - started
        self._procs.clear()
        self._load = None
        (self.data_dir / STATE_FILE).unlink(missing_ok=True)
        try:
            if pointer_file().read_text().strip() == str(self.data_dir.resolve()):
                pointer_file().unlink()
        except OSError:
            pass
        return took


def set_fault(urls: dict[str, str], name: str, enabled: bool) -> list[str]:
    """Switch a named fault on every service that is up; returns the services that took it."""
    if name not in FAULTS:
        raise ValueError(f"unknown fault {name!r}; known: {', '.join(FAULTS)}")
    done = []
    for service, url in urls.items():
        try:
            response = httpx.put(f"{url}/control/faults/{name}", json={"enabled": enabled}, timeout=5)
            if response.status_code == 200:
                done.append(service)
        except httpx.HTTPError:
            continue
    return done


def running_services(data_dir: Path) -> dict[str, str]:
    """The services of the demo started with this data directory (from its state file)."""
    path = Path(data_dir) / STATE_FILE
    if not path.exists():
        raise FileNotFoundError(f"no demo running for {data_dir} (no {path}); start one with `hopscope up --demo`")
    return json.loads(path.read_text())["services"]


def pointer_file() -> Path:
    """Where the running demo records its directory for `hopscope fault` run from anywhere."""
    state = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state) / "hopscope" / "running-demo"


def find_demo(demo_dir: Path, look_elsewhere: bool = True) -> dict[str, str]:
    """The services of the demo in `demo_dir`; failing that (and `look_elsewhere`), of the demo
    last started on this machine, wherever its data directory is."""
    try:
        return running_services(demo_dir)
    except FileNotFoundError:
        pointer = pointer_file()
        if not look_elsewhere or not pointer.exists():
            raise
        return running_services(Path(pointer.read_text().strip()))


def active_faults(services: dict[str, str]) -> set[str] | None:
    """The faults switched on in the running demo (asked of its services), None if none answers."""
    for url in services.values():
        try:
            response = httpx.get(f"{url}/control/faults", timeout=5)
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            return set(response.json()["active"])
    return None


class DemoCompanion:
    """The demo as `hopscope up --demo` runs it beside the collector: services, then load."""

    def __init__(
        self,
        collector_url: str,
        data_dir: Path,
        rate: float,
        faults: tuple[str, ...] = (),
        ingest_token: str | None = None,
    ) -> None:
        self.demo = Demo(collector_url, Path(data_dir).resolve() / "demo", faults, ingest_token)
        self.rate = rate

    def start(self) -> None:
        try:
            self.demo.start()
        except (RuntimeError, ValueError) as exc:
            print(f"hopscope: the demo did not start: {exc}", file=sys.stderr, flush=True)
            return
        print("demo shop running:", flush=True)
        for name, url in self.demo.urls.items():
            print(f"  {name:10} {url}", flush=True)
        print(
            f"  logs in {self.demo.data_dir / 'logs'}; faults: `hopscope fault` lists them, "
            "`hopscope fault ledger_timeout on` switches one on",
            flush=True,
        )
        self.demo.start_load(self.rate)

    def stop(self) -> None:
        self.demo.stop()
