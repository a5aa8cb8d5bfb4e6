"""The failure-chain definitions, checked on the analysis functions directly (no storage, no I/O):
every scenario of the library, and the rules one by one."""

from __future__ import annotations

import pytest

from analysis.chains import failure_chains, is_failed
from analysis.grouping import failure_groups
from analysis.signature import normalize_message
from core.types import Span
from tests.analysis.scenarios import ERROR, OK, SCENARIOS, S, Scenario, to_spans

TRACE = "0af7651916cd43dd8448eb211c80319c"


def _summary(chains) -> list[tuple]:
    return sorted((f"{c.origin.service} {c.origin.operation}", c.services, c.propagated) for c in chains)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_scenario(scenario: Scenario):
    spans = to_spans(scenario.spans, TRACE)
    twice = {spec.id for spec in scenario.spans if spec.id in scenario.send_twice}
    spans += to_spans([spec for spec in scenario.spans if spec.id in twice], TRACE)
    chains = failure_chains(spans)
    assert _summary(chains) == sorted((c.origin, c.path, c.propagated) for c in scenario.chains)
    for want in scenario.chains:
        chain = next(c for c in chains if f"{c.origin.service} {c.origin.operation}" == want.origin)
        if want.error:
            assert chain.origin.normalized_error == want.error
        assert chain.orphaned_entry == want.orphaned
        assert chain.hops[-1].span_id == chain.origin.span_id and chain.hops[0].via == "entry"


def _one(**kwargs) -> Span:
    return to_spans([S("x", "svc", "op", **kwargs)], TRACE)[0]


@pytest.mark.parametrize(
    ("spec", "failed"),
    [
        ({"status": ERROR}, True),
        ({}, False),
        ({"attrs": {"http.response.status_code": 503}}, True),
        ({"attrs": {"http.status_code": 500}}, True),
        ({"attrs": {"http.response.status_code": 404}}, False),
        ({"attrs": {"http.response.status_code": 503}, "status": OK}, False),
        ({"kind": "Client", "attrs": {"http.response.status_code": 503}}, False),
        ({"exception": ("ValueError", "bad")}, True),
        ({"exception": ("ValueError", "bad"), "status": OK}, False),
    ],
)
def test_failed_rule(spec: dict, failed: bool):
    assert is_failed(_one(**spec)) is failed


def test_a_failing_client_with_nothing_below_is_its_own_origin_named_by_its_peer():
    spans = to_spans(
        [
            S("root", "api", "GET /", status=ERROR),
            S("db", "api", "SELECT", kind="Client", parent="root", status=ERROR, attrs={"db.system": "postgresql"}),
        ],
        TRACE,
    )
    [chain] = failure_chains(spans)
    assert chain.origin.peer == "postgresql" and chain.propagated and [h.via for h in chain.hops] == ["entry", "child"]


def test_structure_decides_not_timestamps():
    skewed = to_spans(
        [
            S("root", "a", "GET /", status=ERROR, start_ms=500),
            S("call", "a", "GET", kind="Client", parent="root", status=ERROR, start_ms=-900),
            S("leaf", "b", "GET /b", parent="call", status=ERROR, exception=("IOError", "disk"), start_ms=-5000),
        ],
        TRACE,
    )
    [chain] = failure_chains(skewed)
    assert chain.origin.service == "b" and chain.services == ("a", "b")


def test_a_parent_cycle_terminates():
    spans = to_spans([S("a", "x", "one", parent="b", status=ERROR), S("b", "x", "two", parent="a")], TRACE)
    assert len(failure_chains(spans)) == 1


def test_signature_ignores_ids_and_numbers():
    assert normalize_message("order 8f3a2b1c9d7e timed out after 30s") == normalize_message(
        "order 1234abcd5678 timed out after 12s"
    )


def test_grouping_counts_traces_and_orders_by_impact():
    def trace(tid: str, absorbed: bool) -> list[Span]:
        specs = [
            S("root", "web", "GET /", status=0 if absorbed else ERROR),
            S("call", "web", "GET", kind="Client", parent="root", status=ERROR),
            S("db", "db-svc", "GET /q", parent="call", status=ERROR, exception=("Timeout", "slow")),
        ]
        return to_spans(specs, tid)

    traces = [trace(f"{i:032x}", absorbed=i % 3 == 0) for i in range(1, 10)]
    [group] = failure_groups(traces)
    assert (group.traces, group.propagated_traces, group.absorbed_traces) == (9, 6, 3)
    assert group.path == ("web", "db-svc") and group.origin.error_type == "Timeout"
    assert failure_groups(traces, propagated=False)[0].traces == 3
    assert failure_groups(traces, service="elsewhere") == []
