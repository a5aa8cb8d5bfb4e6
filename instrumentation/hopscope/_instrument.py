"""Instrument every installed library that an upstream `opentelemetry-instrumentation-*` package
supports, found through their `opentelemetry_instrumentor` entry points (as `opentelemetry-instrument`
does). A library that is not installed is skipped by the instrumentor's own dependency check."""

from __future__ import annotations

import logging
import os
from importlib.metadata import entry_points

from opentelemetry.instrumentation.dependencies import get_dependency_conflicts

log = logging.getLogger("hopscope")

# FastAPI apps are Starlette apps: instrumenting both would give every request two server spans.
_SUPERSEDED_BY = {"starlette": "fastapi"}


def instrument_installed(
    tracer_provider, meter_provider, log_correlation: bool, asgi_internal_spans: bool = False
) -> list[str]:
    """Returns the names of the instrumentations that are now active. Never raises."""
    disabled = {name.strip() for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(",")}
    active: list[str] = []
    points = sorted(entry_points(group="opentelemetry_instrumentor"), key=lambda ep: ep.name in _SUPERSEDED_BY)
    for point in points:
        if point.name in disabled or _SUPERSEDED_BY.get(point.name) in active:
            continue
        kwargs = {"tracer_provider": tracer_provider, "meter_provider": meter_provider}
        if point.name in ("fastapi", "starlette") and not asgi_internal_spans:
            # One server span per request, without an internal span for every ASGI send/receive.
            kwargs["exclude_spans"] = ["receive", "send"]
        if point.name == "logging":
            # Trace ids on the service's own log lines (only if it has not configured logging) and
            # every log record exported over OTLP with its trace and span ids.
            kwargs.update(set_logging_format=log_correlation, inject_trace_context=True)
        try:
            instrumentor = point.load()()
            if get_dependency_conflicts(instrumentor.instrumentation_dependencies()):
                continue  # the library is not installed (or not a supported version)
            if instrumentor.is_instrumented_by_opentelemetry:
                active.append(point.name)
                continue
            instrumentor.instrument(**kwargs)
            if instrumentor.is_instrumented_by_opentelemetry:
                active.append(point.name)
        except Exception as exc:  # an instrumentation must never break the service
            log.debug("hopscope: instrumentation %s skipped: %s", point.name, exc)
    return active
