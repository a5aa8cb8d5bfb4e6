"""A minimal OTLP/HTTP receiver for the client's tests: a real HTTP server on a free port that
decodes what the exporters send, so the client is tested without the hopscope server."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

_TYPES = {
    "/v1/traces": ExportTraceServiceRequest,
    "/v1/logs": ExportLogsServiceRequest,
    "/v1/metrics": ExportMetricsServiceRequest,
}


class OtlpSink:
    def __init__(self) -> None:
        self.requests: dict[str, list] = {path: [] for path in _TYPES}
        self.headers: list[dict[str, str]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if self.path in _TYPES:
                    sink.requests[self.path].append(_TYPES[self.path].FromString(body))
                    sink.headers.append(dict(self.headers))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> OtlpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()

    def spans(self) -> list[tuple[dict, object]]:
        """(resource attributes, span) for every span received."""
        out = []
        for request in self.requests["/v1/traces"]:
            for rs in request.resource_spans:
                attrs = {kv.key: kv.value.string_value or kv.value.int_value for kv in rs.resource.attributes}
                out.extend((attrs, span) for ss in rs.scope_spans for span in ss.spans)
        return out

    def log_records(self) -> list:
        return [
            r
            for req in self.requests["/v1/logs"]
            for rl in req.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]

    def metric_names(self) -> set[str]:
        return {
            m.name
            for req in self.requests["/v1/metrics"]
            for rm in req.resource_metrics
            for sm in rm.scope_metrics
            for m in sm.metrics
        }
