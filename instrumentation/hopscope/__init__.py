"""hopscope: one import to send a Python service's traces, metrics and logs over OTLP.

    import hopscope.auto          # first line of the service: configure from the environment

    handle = hopscope.configure(service_name="checkout", endpoint="http://collector:4318")
    ...
    handle.shutdown()             # flushes; waits at most the shutdown timeout

Contract: nothing here raises into the host service or blocks it. Exporting runs on background
threads with bounded queues; process exit waits at most HOPSCOPE_SHUTDOWN_TIMEOUT (1.0 s) for a
final flush. Configuring twice returns the first handle. Forked workers (gunicorn, uvicorn
--workers) keep exporting: the SDK's processors restart their threads after fork.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping

from hopscope._settings import ClientSettings, resolve

__all__ = ["Handle", "configure"]
__version__ = "0.1.0"

log = logging.getLogger("hopscope")
_lock = threading.Lock()
_handle: Handle | None = None


class Handle:
    """What `configure()` set up. `shutdown()` and `force_flush()` return whether they finished
    within the timeout (default: the settings' shutdown timeout); they never raise."""

    def __init__(self, settings: ClientSettings, providers=None, instrumented: tuple[str, ...] = ()) -> None:
        self.settings = settings
        self.instrumented = instrumented
        self._providers = providers

    @property
    def enabled(self) -> bool:
        return self._providers is not None

    @property
    def tracer_provider(self):
        return self._providers.tracer_provider if self._providers else None

    @property
    def meter_provider(self):
        return self._providers.meter_provider if self._providers else None

    @property
    def logger_provider(self):
        return self._providers.logger_provider if self._providers else None

    def force_flush(self, timeout: float | None = None) -> bool:
        if self._providers is None:
            return True
        return self._providers.force_flush(self.settings.shutdown_timeout if timeout is None else timeout)

    def shutdown(self, timeout: float | None = None) -> bool:
        if self._providers is None:
            return True
        return self._providers.shutdown(self.settings.shutdown_timeout if timeout is None else timeout)


def configure(
    service_name: str | None = None,
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
    *,
    service_version: str | None = None,
    environment: str | None = None,
    instrument: bool = True,
    span_exporter=None,
    metric_readers=None,
    log_exporter=None,
) -> Handle:
    """Configure traces, metrics and logs and instrument installed libraries; see the module doc.

    Explicit arguments win over OTEL_* variables, which win over HOPSCOPE_* ones. `span_exporter`,
    `metric_readers` and `log_exporter` replace the OTLP exporters (for example with the SDK's
    console or in-memory ones). Only the first call in a process configures anything.
    """
    global _handle
    with _lock:
        if _handle is not None:
            return _handle
        settings = resolve(service_name=service_name, service_version=service_version,
                           environment=environment, endpoint=endpoint, headers=headers)  # fmt: skip
        if settings.disabled:
            _handle = Handle(settings)
            return _handle
        try:
            _handle = _configure(settings, instrument, span_exporter, metric_readers, log_exporter)
        except Exception as exc:  # never break the host service
            log.warning("hopscope: telemetry disabled, configuration failed: %s", exc)
            _handle = Handle(settings)
        return _handle


def _configure(settings, instrument, span_exporter, metric_readers, log_exporter) -> Handle:
    from opentelemetry import _logs, metrics, trace

    from hopscope._instrument import instrument_installed
    from hopscope._providers import build_providers
    from hopscope._resource import build_resource
    from hopscope._signals import flush_on_stop

    # The SDK counts its own dropped and exported items only when asked to.
    os.environ.setdefault("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "true")
    providers = build_providers(settings, build_resource(settings), span_exporter=span_exporter,
                                metric_readers=metric_readers, log_exporter=log_exporter)  # fmt: skip
    trace.set_tracer_provider(providers.tracer_provider)
    metrics.set_meter_provider(providers.meter_provider)
    _logs.set_logger_provider(providers.logger_provider)
    instrumented: list[str] = []
    if instrument:
        instrumented = instrument_installed(providers.tracer_provider, providers.meter_provider,
                                            settings.log_correlation, settings.asgi_internal_spans)  # fmt: skip
    handle = Handle(settings, providers, tuple(instrumented))
    atexit.register(handle.shutdown)
    flush_on_stop()
    return handle
