"""Tracer, meter and logger providers with OTLP exporters (HTTP, or gRPC when asked), and a
shutdown that never blocks the host process for longer than it is allowed to.

The upstream SDK shuts its providers down at exit and waits for the exporters, which retry for
up to their timeout (10 s each by default) when the collector is down or silent. Here the
providers are created with `shutdown_on_exit=False`, and `shutdown()` runs the three shutdowns on
daemon threads and waits for them at most `timeout` seconds: with a reachable collector the data is
flushed in milliseconds; without one, exit is delayed by at most the timeout.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from hopscope._settings import ClientSettings


def _exporter_kwargs(settings: ClientSettings, signal: str) -> dict:
    kwargs: dict = {}
    if settings.endpoint:
        grpc = settings.protocol == "grpc"
        kwargs["endpoint"] = settings.endpoint if grpc else f"{settings.endpoint}/v1/{signal}"
        if grpc:
            kwargs["insecure"] = not settings.endpoint.startswith("https://")
    if settings.headers is not None:
        kwargs["headers"] = settings.headers
    return kwargs


def _exporters(settings: ClientSettings) -> tuple[type, type, type]:
    """(span, metric, log) exporter classes for the protocol."""
    if settings.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter as GrpcMetrics
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans

        return GrpcSpans, GrpcMetrics, GrpcLogs
    return OTLPSpanExporter, OTLPMetricExporter, OTLPLogExporter


@dataclass
class Providers:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    logger_provider: LoggerProvider
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _run_bounded(self, method: str, timeout: float) -> bool:
        threads = []
        for provider in (self.tracer_provider, self.logger_provider, self.meter_provider):
            thread = threading.Thread(target=_quietly, args=(getattr(provider, method),),
                                      name=f"hopscope-{method}", daemon=True)  # fmt: skip
            thread.start()
            threads.append(thread)
        deadline = timeout
        for thread in threads:
            started = time.monotonic()
            thread.join(max(0.0, deadline))
            deadline -= time.monotonic() - started
        return not any(t.is_alive() for t in threads)

    def force_flush(self, timeout: float) -> bool:
        return self._run_bounded("force_flush", timeout)

    def shutdown(self, timeout: float) -> bool:
        with self._lock:
            return self._run_bounded("shutdown", timeout)


def _quietly(call) -> None:
    try:
        call()
    except Exception:  # telemetry shutdown must never raise into the host
        pass


def build_providers(
    settings: ClientSettings,
    resource: Resource,
    *,
    span_exporter=None,
    metric_readers=None,
    log_exporter=None,
) -> Providers:
    """Providers exporting over OTLP (the settings' protocol), or to the given exporters/readers."""
    span_cls, metric_cls, log_cls = _exporters(settings)
    metric_readers = metric_readers or [
        PeriodicExportingMetricReader(
            metric_cls(**_exporter_kwargs(settings, "metrics")),
            export_interval_millis=settings.metric_export_interval_ms,
        )
    ]
    meter_provider = MeterProvider(metric_readers=metric_readers, resource=resource, shutdown_on_exit=False)
    tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False, meter_provider=meter_provider)
    # Bounded queues (2,048 spans / log records): when the collector is down or slow, new data is
    # dropped, never buffered without limit; drops are counted by the SDK's own
    # otel.sdk.processor.*.processed metrics (error.type=queue_full), exported with the rest.
    tracer_provider.add_span_processor(
        BatchSpanProcessor(
            span_exporter or span_cls(**_exporter_kwargs(settings, "traces"), meter_provider=meter_provider),
            schedule_delay_millis=settings.span_schedule_delay_ms,
            meter_provider=meter_provider,
        )
    )
    logger_provider = LoggerProvider(resource=resource, shutdown_on_exit=False, meter_provider=meter_provider)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(
            log_exporter or log_cls(**_exporter_kwargs(settings, "logs"), meter_provider=meter_provider),
            schedule_delay_millis=settings.span_schedule_delay_ms,
            meter_provider=meter_provider,
        )
    )
    return Providers(tracer_provider, meter_provider, logger_provider)
