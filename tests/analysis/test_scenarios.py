"""Every scenario of the library, sent over OTLP to the collector (real embedded ClickHouse) and
read back through GET /api/v1/traces/{id}."""

from __future__ import annotations

import os
import time

import pytest

from tests.analysis.scenarios import ERROR, SCENARIOS, S, Scenario, to_logs_request, to_request

PB = {"Content-Type": "application/x-protobuf"}


def _send(collector, spans: list[S], trace_id: str, twice: tuple[str, ...] = (), base_ns: int | None = None):
    response = collector.post(
        "/v1/traces", content=to_request(spans, trace_id, base_ns).SerializeToString(), headers=PB
    )
    assert response.status_code == 200
    logs = to_logs_request(spans, trace_id, base_ns)
    if logs.resource_logs:
        response = collector.post("/v1/logs", content=logs.SerializeToString(), headers=PB)
        assert response.status_code == 200, response.text
    if twice:
        again = [s for s in spans if s.id in twice]
        assert (
            collector.post(
                "/v1/traces", content=to_request(again, trace_id, base_ns).SerializeToString(), headers=PB
            ).status_code
            == 200
        )


def _chains(collector, trace_id: str) -> list[dict]:
    response = collector.get(f"/api/v1/traces/{trace_id}")
    assert response.status_code == 200, response.text
    return response.json()["failure_chains"]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(collector, scenario: Scenario):
    trace_id = os.urandom(16).hex()
    _send(collector, scenario.spans, trace_id, scenario.send_twice, base_ns=time.time_ns() - 60 * 10**9)
    got = _chains(collector, trace_id)
    summary = sorted(
        (f"{c['origin']['service']} {c['origin']['operation']}", tuple(c["services"]), c["propagated"]) for c in got
    )
    expected = sorted((c.origin, c.path, c.propagated) for c in scenario.chains)
    assert summary == expected
    for want in scenario.chains:
        chain = next(c for c in got if f"{c['origin']['service']} {c['origin']['operation']}" == want.origin)
        if want.error:
            assert chain["origin"]["normalized_error"] == want.error
        assert chain["orphaned_entry"] == want.orphaned
        assert chain["hops"][-1]["span_id"] == chain["origin"]["span_id"]
        assert chain["hops"][0]["via"] == "entry"
        assert chain["attempts"] == want.attempts
        if want.cause:
            cause = chain["latency_cause"]
            assert f"{cause['service']} {cause['operation']}" == want.cause


def test_async_hop_is_reached_through_the_link(collector):
    scenario = next(s for s in SCENARIOS if s.name.startswith("failing consumer"))
    trace_id = os.urandom(16).hex()
    _send(collector, scenario.spans, trace_id)
    [chain] = _chains(collector, trace_id)
    assert [(h["service"], h["kind"], h["via"]) for h in chain["hops"]] == [
        ("checkout", "Server", "entry"),
        ("checkout", "Producer", "child"),
        ("shipping", "Consumer", "link"),
    ]


def test_database_origin_is_named_by_its_peer(collector):
    scenario = next(s for s in SCENARIOS if s.name.startswith("failing database"))
    trace_id = os.urandom(16).hex()
    _send(collector, scenario.spans, trace_id)
    [chain] = _chains(collector, trace_id)
    assert chain["origin"]["peer"] == "postgresql" and chain["origin"]["kind"] == "Client"


def test_messages_differing_only_in_ids_share_one_signature(collector):
    messages = [
        "order 8f3a2b1c9d7e timed out after 30s (request 'a1b2')",
        "order 1234abcd5678 timed out after 12s (request 'zz')",
        'order 0c6f9e3a-1b2d-4c5e-9f8a-7b6c5d4e3f21 timed out after 7s (request "x")',
    ]
    signatures = set()
    for message in messages:
        trace_id = os.urandom(16).hex()
        _send(collector, [S("root", "orders", "GET /order", status=ERROR, message=message)], trace_id)
        [chain] = _chains(collector, trace_id)
        assert chain["origin"]["message"] == message
        signatures.add(chain["signature"])
    assert len(signatures) == 1
    other = os.urandom(16).hex()
    _send(collector, [S("root", "orders", "GET /order", status=ERROR, message="order not found")], other)
    assert _chains(collector, other)[0]["signature"] not in signatures


def test_a_ten_thousand_span_trace(collector):
    """10,000 spans: a fan-out three levels deep, with one failing leaf far down."""
    spans = [S("root", "batch", "POST /import", status=ERROR)]
    for i in range(99):
        spans.append(S(f"c{i}", "batch", "POST", kind="Client", parent="root"))
        spans.append(S(f"w{i}", "worker", "POST /rows", parent=f"c{i}"))
        for j in range(99):
            spans.append(
                S(f"r{i}.{j}", "worker", "INSERT", kind="Client", parent=f"w{i}", attrs={"db.system": "postgresql"})
            )
    spans[-1] = S(
        spans[-1].id,
        "worker",
        "INSERT",
        kind="Client",
        parent=spans[-1].parent,
        status=ERROR,
        attrs={"db.system": "postgresql"},
        exception=("UniqueViolation", "duplicate key"),
    )
    assert len(spans) == 10_000
    trace_id = os.urandom(16).hex()
    for start in range(0, len(spans), 2000):
        _send(collector, spans[start : start + 2000], trace_id)
    started = time.monotonic()
    response = collector.get(f"/api/v1/traces/{trace_id}")
    took = time.monotonic() - started
    body = response.json()
    assert len(body["spans"]) == len(spans)
    [chain] = body["failure_chains"]
    assert chain["origin"]["operation"] == "INSERT" and chain["services"] == ["batch", "worker"]
    assert not chain["propagated"] and len(chain["hops"]) == 4
    assert took < 10, f"{took:.1f}s for a 10,000-span trace"


def big_trace_spans(chain_length: int = 200, total: int = 20_000) -> list[S]:
    """A 200-hop chain (server -> client -> server ... across 10 services) whose last span fails
    with a timeout over a slow query, and the rest of the 20,000 spans fanned out under its hops."""
    spans: list[S] = []
    for d in range(chain_length):
        service = f"svc{d // 2 % 10}"
        server = d % 2 == 0
        spans.append(
            S(
                f"h{d}",
                service,
                f"GET /hop{d}" if server else "GET",
                kind="Server" if server else "Client",
                parent=f"h{d - 1}" if d else "",
                status=ERROR,
                exception=("ReadTimeout", "timed out") if d == chain_length - 1 else None,
                start_ms=d,
                duration_ms=5000 - d,
            )
        )
    spans.append(S("q", "svc9", "SELECT slow", kind="Client", parent=f"h{chain_length - 1}", start_ms=300, duration_ms=4000,
                   attrs={"db.system": "postgresql"}))  # fmt: skip
    for i in range(total - len(spans)):
        spans.append(S(f"f{i}", f"svc{i % 10}", "cache get", kind="Internal", parent=f"h{i % (chain_length - 1)}",
                       start_ms=i % chain_length, duration_ms=1))  # fmt: skip
    return spans


def test_a_twenty_thousand_span_trace_with_a_200_hop_chain(collector):
    spans = big_trace_spans()
    assert len(spans) == 20_000
    trace_id = os.urandom(16).hex()
    for start in range(0, len(spans), 4000):
        _send(collector, spans[start : start + 4000], trace_id)
    started = time.monotonic()
    body = collector.get(f"/api/v1/traces/{trace_id}").json()
    took = time.monotonic() - started
    assert len(body["spans"]) == 20_000
    [chain] = body["failure_chains"]
    assert len(chain["hops"]) == 200 and chain["propagated"] and chain["origin"]["operation"] == "GET"
    assert chain["latency_cause"]["operation"] == "SELECT slow"
    on_path = {step["span_id"] for step in body["critical_path"]}
    assert {hop["span_id"] for hop in chain["hops"]} <= on_path
    print(f"20,000-span trace detail: {took * 1000:.0f} ms")
