"""A small typed client for the collector's query API (`/api/v1`). The dashboard's only way to data.

Errors: ApiUnavailable (the collector cannot be reached), ApiRejected (it answered 4xx/5xx; carries
the API's `error` and `detail`). Nothing else escapes.
"""

from __future__ import annotations

from typing import Any, TypedDict

import httpx

DEFAULT_API_URL = "http://127.0.0.1:4318"


class ApiUnavailable(Exception):
    """The collector did not answer (down, wrong URL, timeout)."""


class ApiRejected(Exception):
    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"{error}: {detail}")
        self.status, self.error, self.detail = status, error, detail


class Origin(TypedDict):
    span_id: str
    service: str
    operation: str
    kind: str
    peer: str | None
    error_type: str | None
    message: str
    normalized_error: str
    peer_address: str | None


class Hop(TypedDict):
    span_id: str
    service: str
    operation: str
    kind: str
    status_code: str
    failed: bool
    duration_ns: int
    via: str
    trace_id: str


class FailureGroup(TypedDict, total=False):
    signature: str
    traces: int
    propagated_traces: int
    absorbed_traces: int
    origin: Origin
    path: list[str]
    hops: list[Hop]
    entry_points: list[dict[str, Any]]
    first_seen_ns: int
    last_seen_ns: int
    per_minute: list[list[int]]
    example_trace_ids: list[str]
    attempts: int
    latency_cause: dict[str, Any] | None
    versions: list[dict[str, Any]]
    deploy_onset: dict[str, Any] | None
    attribute_deltas: list[dict[str, Any]]
    symptoms: list[dict[str, Any]]
    partial: bool


class ApiClient:
    """Thread-safe; one per dashboard session is fine. `token` is sent as a bearer token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def _get(self, path: str, **params: Any) -> Any:
        query = {k: v for k, v in params.items() if v not in (None, "", [])}
        try:
            response = self._http.get("/api/v1" + path, params=query)
        except httpx.HTTPError as exc:
            raise ApiUnavailable(f"cannot reach the collector at {self.base_url}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
                error, detail = body.get("error", "error"), body.get("detail", response.text)
            except ValueError:
                error, detail = f"HTTP {response.status_code}", response.text[:300]
            raise ApiRejected(response.status_code, error, detail)
        return response.json()

    def services(self, since: str, until: str | None = None, service: str | None = None) -> dict:
        return self._get("/services", since=since, until=until, service=service)

    def service_map(self, since: str, until: str | None = None) -> dict:
        return self._get("/service-map", since=since, until=until)

    def failures(
        self,
        since: str,
        until: str | None = None,
        service: str | None = None,
        kind: str | None = None,
        deltas: bool = True,
    ) -> list[FailureGroup]:
        """`deltas=False`: without the attribute values the failing requests have in common (the
        answer comes ~3× sooner at 10 M spans)."""
        return self._get(
            "/failures", since=since, until=until, service=service, kind=kind, deltas=None if deltas else "false"
        )["groups"]

    def compare(self, since: str, until: str | None = None, **filters: Any) -> dict:
        return self._get("/compare", since=since, until=until, **filters)

    def deploys(self, since: str, until: str | None = None, service: str | None = None) -> list[dict]:
        return self._get("/deploys", since=since, until=until, service=service)["deploys"]

    def trace(self, trace_id: str) -> dict:
        return self._get(f"/traces/{trace_id}")

    def traces(self, since: str, until: str | None = None, **filters: Any) -> list[dict]:
        return self._get("/traces", since=since, until=until, **filters)["traces"]

    def logs(self, since: str, until: str | None = None, **filters: Any) -> dict:
        return self._get("/logs", since=since, until=until, **filters)

    def metrics(self, since: str, until: str | None = None) -> list[dict]:
        return self._get("/metrics", since=since, until=until)["metrics"]

    def metric(self, name: str, since: str, until: str | None = None, **options: Any) -> dict:
        return self._get(f"/metrics/{name}", since=since, until=until, **options)

    def alerts(self) -> list[dict]:
        return self._get("/alerts")

    def notifications(self, limit: int = 50) -> list[dict]:
        return self._get("/alerts/notifications", limit=limit)

    def alert_rules(self) -> list[dict]:
        return self._get("/alert-rules")

    def silences(self) -> list[dict]:
        return self._get("/silences")
