"""OTLP/gRPC receivers: the TraceService, LogsService and MetricsService `Export` methods on
`grpc_port` (4317), through the same pipeline as OTLP/HTTP.

Bodies stay bytes until a worker decodes them (the method handlers take the serialized request),
so gRPC costs the event loop no more than HTTP does. Status codes follow the OTLP specification:
OK with `partial_success` for records refused one by one, INVALID_ARGUMENT for undecodable data,
UNAVAILABLE with a `google.rpc.RetryInfo` detail when the collector sheds load or its write-ahead
log is full (a short delay: the Python exporter gives up when the delay exceeds its timeout),
RESOURCE_EXHAUSTED for a message over the size limit (grpc itself enforces it). gzip is handled
by grpc.
"""

from __future__ import annotations

import time

import grpc
from google.protobuf import duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from collector import otlp_codec
from collector.auth import KeyRing
from collector.errors import OtlpError
from collector.pipeline import IngestPipeline
from collector.receiving import receive, response_for
from collector.selfmetrics import SelfMetrics
from collector.settings import Settings
from collector.shedding import InflightBudget
from storage.store import Store

_SERVICES = {
    "traces": "opentelemetry.proto.collector.trace.v1.TraceService",
    "logs": "opentelemetry.proto.collector.logs.v1.LogsService",
    "metrics": "opentelemetry.proto.collector.metrics.v1.MetricsService",
}
_CODES = {
    400: grpc.StatusCode.INVALID_ARGUMENT,
    413: grpc.StatusCode.RESOURCE_EXHAUSTED,
    415: grpc.StatusCode.UNIMPLEMENTED,
    499: grpc.StatusCode.CANCELLED,
    503: grpc.StatusCode.UNAVAILABLE,
}


def _identity(data: bytes) -> bytes:
    return data


class _Receivers:
    def __init__(
        self, settings: Settings, store: Store, pipeline: IngestPipeline, budget: InflightBudget, metrics: SelfMetrics
    ) -> None:
        self._settings, self._store, self._pipeline, self._budget = settings, store, pipeline, budget
        self._metrics = metrics

    def handler(self, signal_name: str):
        async def export(raw: bytes, context: grpc.aio.ServicerContext):
            settings, started = self._settings, time.monotonic()
            if not self._budget.try_take(len(raw)):
                shed = OtlpError(503, "collector is overloaded, retry later", settings.retry_after_seconds)
                self._metrics.exported(signal_name, "grpc", started, len(raw), None, shed)
                await _abort(context, shed)
            finished = False
            try:
                rows = await receive(signal_name, raw, None, otlp_codec.PROTOBUF, settings, self._store,
                                     self._pipeline, gone=lambda: _gone(context))  # fmt: skip
                finished = True
            except OtlpError as exc:
                self._metrics.exported(signal_name, "grpc", started, len(raw), None, exc)
                await _abort(context, exc)
            finally:
                self._budget.release(len(raw), finished)
            self._metrics.exported(signal_name, "grpc", started, len(raw), rows, None)
            return response_for(signal_name, rows)

        return export


async def _gone(context: grpc.aio.ServicerContext) -> bool:
    return context.done() or context.cancelled()


async def _abort(context: grpc.aio.ServicerContext, error: OtlpError):
    code = _CODES.get(error.status, grpc.StatusCode.INTERNAL)
    if error.retry_after:
        # Short on purpose: the OpenTelemetry exporters give up when the delay passes their timeout.
        retry = error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=min(error.retry_after, 2)))
        detail = status_pb2.Status(code=code_pb2.UNAVAILABLE, message=error.message)
        detail.details.add().Pack(retry)
        await context.abort(
            code, error.message, trailing_metadata=(("grpc-status-details-bin", detail.SerializeToString()),)
        )
    await context.abort(code, error.message)


class _Tokens(grpc.aio.ServerInterceptor):
    """The `authorization` metadata must carry a token with the ingest scope (when there are tokens)."""

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    async def intercept_service(self, continuation, details):
        if not self._keys.enabled:
            return await continuation(details)
        metadata = {k.lower(): v for k, v in (details.invocation_metadata or ())}
        caller = self._keys.caller(metadata.get("authorization"))
        if caller is not None and caller.may("ingest"):
            return await continuation(details)
        code = grpc.StatusCode.UNAUTHENTICATED if caller is None else grpc.StatusCode.PERMISSION_DENIED
        message = "a valid bearer token is needed" if caller is None else "this token lacks the ingest scope"

        async def refuse(_request: bytes, context: grpc.aio.ServicerContext) -> None:
            await context.abort(code, message)

        return grpc.unary_unary_rpc_method_handler(refuse, request_deserializer=_identity)


def grpc_server(
    settings: Settings,
    store: Store,
    pipeline: IngestPipeline,
    budget: InflightBudget,
    keys: KeyRing,
    metrics: SelfMetrics,
) -> grpc.aio.Server:
    """An unstarted server on `settings.host:settings.grpc_port` (call `start()` in the event loop),
    over TLS when the settings name a certificate."""
    limit = settings.max_body_bytes
    server = grpc.aio.server(
        options=[("grpc.max_receive_message_length", limit), ("grpc.max_send_message_length", 4 * 1024 * 1024)],
        compression=None,
        interceptors=[_Tokens(keys)],
    )
    receivers = _Receivers(settings, store, pipeline, budget, metrics)
    handlers = []
    for signal_name, service in _SERVICES.items():
        method = grpc.unary_unary_rpc_method_handler(
            receivers.handler(signal_name),
            request_deserializer=_identity,
            response_serializer=lambda message: message.SerializeToString(),
        )
        handlers.append(grpc.method_handlers_generic_handler(service, {"Export": method}))
    server.add_generic_rpc_handlers(handlers)
    address = f"{settings.host}:{settings.grpc_port}"
    if settings.tls_cert is not None and settings.tls_key is not None:
        pair = (settings.tls_key.read_bytes(), settings.tls_cert.read_bytes())
        server.add_secure_port(address, grpc.ssl_server_credentials([pair]))
    else:
        server.add_insecure_port(address)
    return server
