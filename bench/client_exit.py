"""How long a process waits at exit for its telemetry when the collector is down: the upstream
OpenTelemetry SDK's defaults against `import hopscope.auto`, measured in one run.

    python bench/client_exit.py

Each case is a fresh process that sets up traces, metrics and logs, emits 200 spans and log
records, prints the time, and ends; the figure is the time from that line to the process's exit.
"refused": nothing listens on the collector port. "silent": a socket accepts connections and
never answers (a hung collector or a black-holing network).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time

UPSTREAM = """
from opentelemetry import _logs, metrics, trace
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
tp = TracerProvider(); tp.add_span_processor(BatchSpanProcessor(OTLPSpanExporter())); trace.set_tracer_provider(tp)
metrics.set_meter_provider(MeterProvider(metric_readers=[PeriodicExportingMetricReader(OTLPMetricExporter())]))
lp = LoggerProvider(); lp.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter())); _logs.set_logger_provider(lp)
"""
HOPSCOPE = "import hopscope.auto"
WORK = """
import json, time
from opentelemetry import _logs, metrics, trace
counter = metrics.get_meter("bench").create_counter("work")
for i in range(200):
    with trace.get_tracer("bench").start_as_current_span(f"s{i}"):
        counter.add(1)
        _logs.get_logger("bench").emit(body=f"line {i}")
print(json.dumps({"done": time.monotonic()}), flush=True)
"""


def _exit_delay(setup: str, endpoint: str) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "HOPSCOPE_"))}
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    code = textwrap.dedent(setup) + textwrap.dedent(WORK)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    ended = time.monotonic()
    done = json.loads([line for line in out.stdout.splitlines() if line.startswith("{")][-1])["done"]
    return ended - done


def main() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1024)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        refused_port = probe.getsockname()[1]
    endpoints = {"refused": f"http://127.0.0.1:{refused_port}", "silent": f"http://127.0.0.1:{silent.getsockname()[1]}"}
    print(f"{'collector':10} {'upstream SDK defaults':>22} {'import hopscope.auto':>22}")
    for mode, endpoint in endpoints.items():
        upstream = _exit_delay(UPSTREAM, endpoint)
        ours = _exit_delay(HOPSCOPE, endpoint)
        print(f"{mode:10} {upstream:21.2f}s {ours:21.2f}s")
    silent.close()


if __name__ == "__main__":
    main()
