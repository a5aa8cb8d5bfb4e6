"""ServiceReader and the roll-up against the embedded ClickHouse: RED per service and operation,
and the service map, live and rolled up."""

from __future__ import annotations

import os
import time
import uuid

from core.types import TimeRange
from storage.service_edges import MINUTE_NS
from storage.service_reader import ServiceReader
from tests.analysis.scenarios import ERROR, S, to_request

PB = {"Content-Type": "application/x-protobuf"}


def _send(collector, spans: list[S], base_ns: int) -> None:
    body = to_request(spans, os.urandom(16).hex(), base_ns).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200


def _call(web: str, api: str, failed: bool, duration_ms: int = 10) -> list[S]:
    status = ERROR if failed else 0
    return [
        S("root", web, "GET /", status=status, duration_ms=duration_ms),
        S("call", web, "GET", kind="Client", parent="root", status=status, duration_ms=duration_ms),
        S("api", api, "GET /x", parent="call", status=status),
        S("db", api, "SELECT", kind="Client", parent="api", attrs={"db.system": "postgresql"}),
    ]


def test_red_per_service_and_per_operation(collector, ch):
    tag = uuid.uuid4().hex[:6]
    web, api = f"web-{tag}", f"api-{tag}"
    base = time.time_ns() - 30 * 10**9
    for i in range(4):
        _send(collector, _call(web, api, failed=i == 0), base + i)
    window = TimeRange(base - 10**9, base + 10**9)
    stats = {s.name: s for s in ServiceReader(ch).red(window)}
    assert (stats[web].requests, stats[web].errors) == (4, 1) and stats[web].p50_ns == 10 * 10**6
    [operation] = ServiceReader(ch).red(window, service=api)
    assert operation.name == "GET /x" and operation.requests == 4


def test_edges_name_services_databases_and_count_errors(collector, ch):
    """Live edges (the last two minutes are never rolled up); the roll-up's equality with them is
    tests/collector/test_rollups.py, in a store of its own: a roll-up here would change the
    shared store's rolled-up range under the other tests."""
    tag = uuid.uuid4().hex[:6]
    web, api = f"web-{tag}", f"api-{tag}"
    base = time.time_ns() - 30 * 10**9
    for i in range(3):
        _send(collector, _call(web, api, failed=i == 0), base + i)
    window = TimeRange(base - 5 * MINUTE_NS, base + MINUTE_NS)
    edges = {(e.caller, e.callee): (e.calls, e.errors, e.callee_type) for e in ServiceReader(ch).edges(window)}
    assert edges[(web, api)] == (3, 1, "service") and edges[(api, "postgresql")] == (3, 0, "database")
