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
        assert chain.attempts == want.attempts
        if want.cause:
            assert chain.latency_cause is not None
            assert f"{chain.latency_cause.service} {chain.latency_cause.operation}" == want.cause


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
        ({"kind": "Client", "attrs": {"http.response.status_code": 503}}, True),
        ({"kind": "Client", "attrs": {"http.status_code": 404}}, True),
        ({"kind": "Client", "attrs": {"http.status_code": 404}, "status": OK}, False),
        ({"kind": "Internal", "attrs": {"http.status_code": 500}}, False),
        ({"attrs": {"rpc.grpc.status_code": 4}}, True),  # DEADLINE_EXCEEDED
        ({"attrs": {"rpc.grpc.status_code": 15}}, True),  # DATA_LOSS
        ({"attrs": {"rpc.grpc.status_code": 5}}, False),  # NOT_FOUND: the client's problem
        ({"attrs": {"rpc.grpc.status_code": 0}}, False),
        ({"kind": "Client", "attrs": {"rpc.grpc.status_code": 5}}, True),
        ({"kind": "Client", "attrs": {"rpc.grpc.status_code": 0}}, False),
        ({"kind": "Client", "attrs": {"rpc.grpc.status_code": 14}, "status": OK}, False),
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


def _scenario(prefix: str) -> list[Span]:
    return to_spans(next(s for s in SCENARIOS if s.name.startswith(prefix)).spans, TRACE)


def test_latency_cause_is_the_largest_self_time_clamped_to_the_caller():
    [chain] = failure_chains(_scenario("timeout with a slow database call"))
    cause = chain.latency_cause
    assert cause is not None and chain.origin.evidence is not None and chain.origin.evidence.kind == "timeout"
    # The call gave up at 1,010 ms; the INSERT ran from 70 ms (and on until 1,570 ms): 940 ms count.
    assert cause.self_ns == 940 * 10**6 and cause.share == 0.94
    assert cause.outlived_caller and not cause.failed


def test_cancellations_under_a_timeout_are_effects():
    [chain] = failure_chains(_scenario("cancellation cascade"))
    assert chain.origin.evidence is not None and chain.origin.evidence.grpc_status == "DEADLINE_EXCEEDED"
    assert chain.latency_cause is not None and chain.latency_cause.failed  # the cancelled query itself failed
    # Without the timeout above, the cancelled server span is an origin of its own.
    alone = failure_chains([s for s in _scenario("cancellation cascade") if s.service == "recs"])
    assert [(c.origin.operation, c.origin.evidence and c.origin.evidence.kind) for c in alone] == [
        ("SELECT history", "cancelled")
    ]


def test_critical_path_walks_back_from_the_end():
    from analysis.critical_path import trace_critical_path

    spans = to_spans(
        [
            S("root", "a", "GET /", duration_ms=100),
            S("early", "a", "one", kind="Internal", parent="root", start_ms=0, duration_ms=30),
            S("late", "a", "two", kind="Internal", parent="root", start_ms=40, duration_ms=50),
            S(
                "overlap", "a", "three", kind="Internal", parent="root", start_ms=35, duration_ms=10
            ),  # ends before `late` ends
            S("leaf", "a", "four", kind="Internal", parent="late", start_ms=45, duration_ms=20),
        ],
        TRACE,
    )
    names = {s.span_id: s.name for s in spans}
    steps = [(names[s.span_id], s.self_ns // 10**6) for s in trace_critical_path(spans)]
    # root: 90..100 and 30..35 are its own; late (40..90) minus leaf (45..65); overlap clamped to 35..40.
    assert steps == [("GET /", 15), ("one", 30), ("three", 5), ("two", 30), ("four", 20)]
    assert sum(self for _, self in steps) == 100


def test_log_evidence_names_the_origin_error():
    [chain] = failure_chains(_scenario("exception only in a log record"))
    evidence = chain.origin.evidence
    assert evidence is not None and evidence.log is not None and evidence.log.exception_type == "CardDeclined"
    assert chain.origin.message == "card 4242 declined" and chain.origin.error_type == "CardDeclined"


def _async_traces(producer: str, consumer: str) -> tuple[list[Span], list[Span]]:
    """A producer trace publishing an order; a consumer trace (linked to the publish span) whose
    failure starts two hops past the consumer span."""
    produced = to_spans(
        [S("root", "web", "POST /orders"), S("pub", "web", "orders publish", kind="Producer", parent="root")],
        producer,
    )
    consumed = to_spans(
        [
            S("con", "shipping", "orders process", kind="Consumer", links=(f"{producer}/pub",), status=ERROR),
            S("call", "shipping", "POST", kind="Client", parent="con", status=ERROR),
            S("label", "carrier", "POST /labels", parent="call", status=ERROR, exception=("LabelError", "no label")),
        ],
        consumer,
    )
    return produced, consumed


def test_a_consumer_chain_continues_up_through_its_producer():
    from analysis.chains import with_upstream

    producer, consumer = "1" * 32, "2" * 32
    produced, consumed = _async_traces(producer, consumer)
    [chain] = failure_chains(consumed)
    traces = {producer: {s.span_id: s for s in produced}, consumer: {s.span_id: s for s in consumed}}
    full = with_upstream(chain, traces)
    assert [(h.service, h.operation, h.via) for h in full.hops] == [
        ("web", "POST /orders", "entry"),
        ("web", "orders publish", "child"),
        ("shipping", "orders process", "async"),
        ("shipping", "POST", "child"),
        ("carrier", "POST /labels", "child"),
    ]
    assert [h.trace_id for h in full.hops] == [producer] * 2 + [consumer] * 3
    assert full.services == ("web", "shipping", "carrier") and full.upstream_traces == (producer,)
    assert full.signature == chain.signature and full.propagated and not full.async_cut
    # Without the producer trace at hand the chain starts at the consumer; with depth 0 it says it was cut.
    assert with_upstream(chain, {consumer: traces[consumer]}) == chain
    assert with_upstream(chain, traces, max_depth=0).async_cut
