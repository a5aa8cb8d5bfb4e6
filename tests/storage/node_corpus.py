"""OTLP requests made by the OpenTelemetry JavaScript SDK (tests/storage/node_sdk/emit.mjs), as its
OTLP/HTTP protobuf exporters send them: the script runs under Node.js and exports to a server here
that keeps each request body.

scripts/test installs the SDK (`npm ci` in tests/storage/node_sdk); without Node.js or without the
installed SDK there are no requests, and `missing()` says why.
"""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import subprocess
import threading
from pathlib import Path

from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

SDK_DIR = Path(__file__).resolve().parent / "node_sdk"
MESSAGES: dict[str, type[Message]] = {
    "traces": ExportTraceServiceRequest,
    "logs": ExportLogsServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}


def missing() -> str | None:
    """Why the JavaScript SDK cannot run here, or None."""
    if shutil.which("node") is None:
        return "Node.js is not installed"
    if not (SDK_DIR / "node_modules" / "@opentelemetry" / "sdk-trace-base").is_dir():
        return f"the OpenTelemetry JavaScript SDK is not installed (npm ci --prefix {SDK_DIR})"
    return None


class _Capture(http.server.BaseHTTPRequestHandler):
    bodies: list[tuple[str, bytes]]

    def do_POST(self) -> None:  # noqa: N802 (the http.server name)
        body = self._body()
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        self.bodies.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self) -> bytes:
        if self.headers.get("Content-Length") is not None:
            return self.rfile.read(int(self.headers["Content-Length"]))
        chunks = []  # Node's http client sends the body chunked
        while size := int(self.rfile.readline().split(b";")[0].strip(), 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the http.server name)
        pass


@functools.cache
def requests() -> list[tuple[str, Message]]:
    """(signal, request) for each distinct body the SDK's exporters sent; empty when `missing()`."""
    if missing() is not None:
        return []
    bodies: list[tuple[str, bytes]] = []
    handler = type("Capture", (_Capture,), {"bodies": bodies})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        done = subprocess.run(["node", str(SDK_DIR / "emit.mjs"), url], capture_output=True, text=True, timeout=120)
    finally:
        server.shutdown()
        server.server_close()
    if done.returncode != 0:
        raise RuntimeError(f"emit.mjs exited {done.returncode}: {done.stderr[-2000:]}")
    out, seen = [], set()
    for path, body in bodies:
        if body not in seen:
            seen.add(body)
            signal = path.rsplit("/", 1)[-1]
            out.append((signal, MESSAGES[signal].FromString(body)))
    return out
