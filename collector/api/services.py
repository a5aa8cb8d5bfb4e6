"""GET /api/v1/services and /api/v1/service-map."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Query

from collector.api import params
from collector.dependencies import ServiceReaderDep
from core.types import TimeRange
from storage.service_reader import Deploy, Edge

router = APIRouter(prefix="/api/v1", tags=["services"])
ACTIVE_FLOOR_S = 10.0


@dataclass(frozen=True)
class ServiceStats:
    name: str  # the service, or with ?service= the operation
    requests: int
    requests_per_second: float  # over the time it had traffic: from its first request in the range to the range's end
    active_seconds: float  # that time (at least 10 s)
    errors: int
    error_rate: float
    p50_ns: float
    p95_ns: float
    p99_ns: float


@dataclass(frozen=True)
class Services:
    since_ns: int
    until_ns: int
    service: str | None
    items: list[ServiceStats]  # worst error rate first


@dataclass(frozen=True)
class ServiceMap:
    since_ns: int
    until_ns: int
    nodes: list[dict]  # {"name": ..., "type": "service" | "database" | "queue" | "external"}
    edges: list[Edge]


@router.get("/services", response_model=Services, summary="Request rate, error rate and latency per service")
def get_services(
    services: ServiceReaderDep,
    since: str | None = None,
    until: str | None = None,
    service: str | None = Query(None, description="break this service down by operation"),
) -> Services:
    window = params.time_range(since, until)
    stats = services.red(window, service or "")
    items = [
        ServiceStats(
            s.name,
            s.requests,
            s.requests / _active_seconds(s.first_ns, window),
            _active_seconds(s.first_ns, window),
            s.errors,
            s.errors / s.requests if s.requests else 0.0,
            s.p50_ns,
            s.p95_ns,
            s.p99_ns,
        )
        for s in stats
    ]
    return Services(window.since_ns, window.until_ns, service, items)


def _active_seconds(first_ns: int, window: TimeRange) -> float:
    """A rate over the whole range understates a service that started (or was noticed) in it: the
    demo's 2 requests/s read 0.04 over an hour. Its traffic counts from its first request on."""
    return max((window.until_ns - max(first_ns, window.since_ns)) / 1e9, ACTIVE_FLOOR_S)


@router.get("/service-map", response_model=ServiceMap, summary="Calls between services, databases and queues")
def get_service_map(services: ServiceReaderDep, since: str | None = None, until: str | None = None) -> ServiceMap:
    window = params.time_range(since, until)
    edges = services.edges(window)
    nodes: dict[str, str] = {}
    for edge in edges:
        nodes.setdefault(edge.caller, "service")
        if nodes.get(edge.callee) in (None, "external"):
            nodes[edge.callee] = edge.callee_type
    return ServiceMap(
        window.since_ns, window.until_ns, [{"name": n, "type": t} for n, t in sorted(nodes.items())], edges
    )


@dataclass(frozen=True)
class Deploys:
    since_ns: int
    until_ns: int
    deploys: list[Deploy]  # oldest first


@router.get("/deploys", response_model=Deploys, summary="Versions of services first seen in the range (deploy markers)")
def get_deploys(
    services: ServiceReaderDep,
    since: str | None = None,
    until: str | None = None,
    service: str | None = Query(None, description="only this service's versions"),
) -> Deploys:
    """A deploy is the first appearance of a `service.version` on a service's spans."""
    window = params.time_range(since, until)
    return Deploys(window.since_ns, window.until_ns, services.deploys(window, service or ""))
