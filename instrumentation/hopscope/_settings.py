"""Client settings, resolved once: explicit `configure()` arguments, then the standard `OTEL_*`
variables, then `HOPSCOPE_*`, then defaults.

- service name: OTEL_SERVICE_NAME, service.name in OTEL_RESOURCE_ATTRIBUTES, HOPSCOPE_SERVICE_NAME,
  else the program's name.
- service version / environment: service.version / deployment.environment in
  OTEL_RESOURCE_ATTRIBUTES, HOPSCOPE_SERVICE_VERSION / HOPSCOPE_ENVIRONMENT.
- protocol: OTEL_EXPORTER_OTLP_PROTOCOL, HOPSCOPE_PROTOCOL: `http/protobuf` (the default) or `grpc`
  (needs the `hopscope[grpc]` extra: opentelemetry-exporter-otlp-proto-grpc).
- endpoint: OTEL_EXPORTER_OTLP_ENDPOINT (and the per-signal OTEL_EXPORTER_OTLP_*_ENDPOINT, read by
  the exporters themselves), HOPSCOPE_ENDPOINT, else http://127.0.0.1:4318 (gRPC: :4317).
- headers: OTEL_EXPORTER_OTLP_HEADERS (read by the exporters), HOPSCOPE_HEADERS (`k=v,k2=v2`),
  HOPSCOPE_TOKEN or HOPSCOPE_API_KEY (sent as `Authorization: Bearer <token>`).
- disabled: HOPSCOPE_DISABLED=1 or OTEL_SDK_DISABLED=true.
- HOPSCOPE_SHUTDOWN_TIMEOUT (1.0 s): the most process exit waits for telemetry to flush.
- HOPSCOPE_ASGI_INTERNAL_SPANS (false): keep the ASGI instrumentation's internal span for every
  `send`/`receive` of a request (off: one server span per request).
- HOPSCOPE_LOG_CORRELATION (true): add trace ids to the service's own log lines when it has not
  configured logging itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"
PROTOCOLS = ("http/protobuf", "grpc")
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class ClientSettings:
    service_name: str
    service_version: str | None
    environment: str | None
    protocol: str  # "http/protobuf" or "grpc"
    endpoint: str | None  # None: the OTEL_EXPORTER_OTLP_* variables decide, as the exporters read them
    headers: dict[str, str] | None  # None: OTEL_EXPORTER_OTLP_HEADERS (or nothing) decides
    disabled: bool
    shutdown_timeout: float
    log_correlation: bool
    asgi_internal_spans: bool
    metric_export_interval_ms: int
    span_schedule_delay_ms: int


def _resource_attributes(env: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for item in env.get("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            out[unquote(key.strip())] = unquote(value.strip())
    return out


def _parse_headers(text: str) -> dict[str, str]:
    headers = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        if sep and key.strip():
            headers[unquote(key.strip())] = unquote(value.strip())
    return headers


def program_name(argv0: str | None = None) -> str:
    """`shop.py` -> `shop`; `python -m uvicorn` (…/uvicorn/__main__.py) -> `uvicorn`; an
    interactive or `-c` interpreter -> `unknown_service:python`, as the OpenTelemetry spec names it."""
    raw = argv0 if argv0 is not None else (sys.argv[0] if sys.argv else "")
    if raw in ("", "-c", "-m", "-"):
        return "unknown_service:python"
    path = Path(raw)
    if path.stem == "__main__":
        return path.parent.name or "unknown_service:python"
    return path.stem


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(env[name])
    except (KeyError, ValueError):
        return default


def resolve(
    env: Mapping[str, str] | None = None,
    *,
    service_name: str | None = None,
    service_version: str | None = None,
    environment: str | None = None,
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> ClientSettings:
    env = os.environ if env is None else env
    res = _resource_attributes(env)
    name = (
        service_name
        or env.get("OTEL_SERVICE_NAME")
        or res.get("service.name")
        or env.get("HOPSCOPE_SERVICE_NAME")
        or program_name()
    )
    version = service_version or res.get("service.version") or env.get("HOPSCOPE_SERVICE_VERSION")
    deployment = (
        environment
        or res.get("deployment.environment")
        or res.get("deployment.environment.name")
        or env.get("HOPSCOPE_ENVIRONMENT")
    )
    protocol = (env.get("OTEL_EXPORTER_OTLP_PROTOCOL") or env.get("HOPSCOPE_PROTOCOL") or "http/protobuf").strip()
    if protocol not in PROTOCOLS:
        protocol = "http/protobuf"  # http/json and typos: the exporters this client ships speak protobuf
    if endpoint is None and not env.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        default = DEFAULT_GRPC_ENDPOINT if protocol == "grpc" else DEFAULT_ENDPOINT
        endpoint = env.get("HOPSCOPE_ENDPOINT") or default
    resolved_headers = dict(headers) if headers is not None else None
    if resolved_headers is None and not env.get("OTEL_EXPORTER_OTLP_HEADERS"):
        if env.get("HOPSCOPE_HEADERS"):
            resolved_headers = _parse_headers(env["HOPSCOPE_HEADERS"])
        token = env.get("HOPSCOPE_TOKEN") or env.get("HOPSCOPE_API_KEY")
        if token:
            resolved_headers = {**(resolved_headers or {}), "Authorization": "Bearer " + token}
    disabled = (
        env.get("HOPSCOPE_DISABLED", "").strip().lower() in _TRUE
        or env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    )
    return ClientSettings(
        service_name=name,
        service_version=version,
        environment=deployment,
        protocol=protocol,
        endpoint=endpoint.rstrip("/") if endpoint else None,
        headers=resolved_headers,
        disabled=disabled,
        shutdown_timeout=max(0.1, _float(env, "HOPSCOPE_SHUTDOWN_TIMEOUT", 1.0)),
        log_correlation=env.get("HOPSCOPE_LOG_CORRELATION", "true").strip().lower() in _TRUE,
        asgi_internal_spans=env.get("HOPSCOPE_ASGI_INTERNAL_SPANS", "").strip().lower() in _TRUE,
        metric_export_interval_ms=int(_float(env, "OTEL_METRIC_EXPORT_INTERVAL", 10_000)),
        span_schedule_delay_ms=int(_float(env, "OTEL_BSP_SCHEDULE_DELAY", 1_000)),
    )
