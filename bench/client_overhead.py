"""Per-request cost of `import hopscope.auto` on a small FastAPI endpoint, against the same service
with a plain upstream OpenTelemetry setup and with no telemetry at all, measured in one run.

    python bench/client_overhead.py [--duration 10] [--rounds 2] [--concurrency 8]

Each variant runs as its own uvicorn process (one worker) on a free port; all export to one local
OTLP/HTTP sink that answers 200 at once, so only the client side is measured. A load process
sends GET requests from `--concurrency` keep-alive connections for `--duration` seconds per
round; variants are interleaved round by round so machine noise hits all three alike.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

APP = """
{setup}
from fastapi import FastAPI

app = FastAPI()


@app.get("/items/{{item_id}}")
def item(item_id: int) -> dict:
    return {{"id": item_id, "name": f"item-{{item_id}}", "price": item_id * 1.5}}
"""

SETUPS = {
    "none": "",
    "upstream": """
from opentelemetry import metrics, trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

resource = Resource.create({"service.name": "bench"})
tracer_provider = TracerProvider(resource=resource)
tracer_provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
trace.set_tracer_provider(tracer_provider)
metrics.set_meter_provider(MeterProvider(resource=resource,
                                         metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]))
FastAPIInstrumentor().instrument()
""",
    "hopscope": "import hopscope.auto  # noqa: F401",
}

LOAD = r"""
import json, sys, threading, time
import httpx
url, duration, concurrency = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
latencies, stop_at = [], time.monotonic() + duration
def run(k):
    with httpx.Client(timeout=10) as client:
        i = k
        while time.monotonic() < stop_at:
            t0 = time.perf_counter()
            client.get(f"{url}/items/{i % 1000}").raise_for_status()
            latencies.append(time.perf_counter() - t0)
            i += concurrency
threads = [threading.Thread(target=run, args=(k,)) for k in range(concurrency)]
started = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
latencies.sort()
print(json.dumps({"requests": len(latencies), "elapsed": time.monotonic() - started,
                  "p50": latencies[len(latencies) // 2] * 1000, "p99": latencies[int(len(latencies) * 0.99)] * 1000}))
"""


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(name: str, app_dir: Path, sink_url: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "HOPSCOPE_"))}
    env.update(
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": sink_url,
            "OTEL_SERVICE_NAME": "bench",
            "PYTHONPATH": str(app_dir),
            "HOPSCOPE_LOG_CORRELATION": "false",
        }
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"app_{name}:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, url
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    sink = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    sink_url = f"http://127.0.0.1:{sink.server_address[1]}"
    results: dict[str, list[dict]] = {name: [] for name in SETUPS}
    with tempfile.TemporaryDirectory() as tmp:
        for name, setup in SETUPS.items():
            Path(tmp, f"app_{name}.py").write_text(APP.format(setup=textwrap.dedent(setup)))
        servers = {name: _serve(name, Path(tmp), sink_url) for name in SETUPS}
        try:
            for _ in range(args.rounds):
                for name, (_, url) in servers.items():
                    subprocess.run(
                        [sys.executable, "-c", LOAD, url, "2", str(args.concurrency)], check=True, capture_output=True
                    )  # warm-up
                    out = subprocess.run(
                        [sys.executable, "-c", LOAD, url, str(args.duration), str(args.concurrency)],
                        check=True,
                        capture_output=True,
                        text=True,
                    )
                    results[name].append(json.loads(out.stdout))
        finally:
            for proc, _ in servers.values():
                proc.terminate()
                proc.wait(10)
    sink.shutdown()
    print(f"{'setup':10} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}   (median of {args.rounds} interleaved rounds)")
    summary = {}
    for name, runs in results.items():
        rps = statistics.median(r["requests"] / r["elapsed"] for r in runs)
        p50 = statistics.median(r["p50"] for r in runs)
        p99 = statistics.median(r["p99"] for r in runs)
        summary[name] = rps
        print(f"{name:10} {rps:8.0f} {p50:8.2f} {p99:8.2f}")
    print(
        f"hopscope / upstream throughput: {summary['hopscope'] / summary['upstream']:.2f}; "
        f"upstream / none: {summary['upstream'] / summary['none']:.2f}"
    )


if __name__ == "__main__":
    main()
