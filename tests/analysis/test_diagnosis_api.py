"""The second level of diagnosis through OTLP -> ClickHouse -> the query API and alert payloads:
evidence beyond the status, attempts, latency causes, versions and deploy onset."""

from __future__ import annotations

import os
import time

from alerting.evaluator import _evidence
from alerting.notifications import describe_onset
from analysis.deploys import with_deploys
from analysis.grouping import failure_groups
from tests.analysis.scenarios import ERROR, SCENARIOS, S, to_logs_request, to_request

PB = {"Content-Type": "application/x-protobuf"}
MINUTE_NS = 60 * 10**9


def _send(collector, spans: list[S], base_ns: int) -> str:
    trace_id = os.urandom(16).hex()
    body = to_request(spans, trace_id, base_ns).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
    logs = to_logs_request(spans, trace_id, base_ns)
    if logs.resource_logs:
        assert collector.post("/v1/logs", content=logs.SerializeToString(), headers=PB).status_code == 200
    return trace_id


def _renamed(prefix: str, service: str) -> list[S]:
    """A scenario's spans, every service renamed into this test's own namespace."""
    scenario = next(s for s in SCENARIOS if s.name.startswith(prefix))
    return [S(**{**vars(span), "service": f"{service}-{span.service}"}) for span in scenario.spans]


def _groups(collector, service: str) -> list[dict]:
    response = collector.get("/api/v1/failures", params={"since": "2h", "service": service})
    assert response.status_code == 200, response.text
    return response.json()["groups"]


def test_failures_carry_log_evidence_attempts_and_latency_cause(collector, service_name):
    now = time.time_ns()
    log_trace = _send(collector, _renamed("exception only in a log record", service_name), now - 5 * MINUTE_NS)
    for i in range(3):
        _send(collector, _renamed("retries that all fail", service_name), now - (4 - i) * MINUTE_NS)
    for i in range(2):
        _send(collector, _renamed("timeout with a slow database call", service_name), now - (3 - i) * MINUTE_NS)

    logged = _groups(collector, f"{service_name}-shop")
    [group] = logged
    assert group["origin"]["operation"] == "charge card" and group["origin"]["error_type"] == "CardDeclined"
    assert group["origin"]["evidence"]["log"]["exception_type"] == "CardDeclined"
    assert group["example_trace_ids"] == [log_trace] and group["propagated_traces"] == 1

    [retried] = _groups(collector, f"{service_name}-payment")
    assert (retried["traces"], retried["attempts"]) == (3, 9)

    [timeout] = [
        g for g in _groups(collector, f"{service_name}-checkout") if g["origin"]["service"].endswith("checkout")
    ]
    assert timeout["origin"]["evidence"]["kind"] == "timeout"
    cause = timeout["latency_cause"]
    assert (cause["service"], cause["operation"], cause["traces"]) == (f"{service_name}-ledger", "INSERT entries", 2)
    assert cause["median_self_ns"] == 940 * 10**6


def test_trace_detail_has_the_critical_path(collector, service_name):
    trace_id = _send(collector, _renamed("timeout with a slow database call", service_name), time.time_ns() - MINUTE_NS)
    body = collector.get(f"/api/v1/traces/{trace_id}").json()
    names = {s["span"]["span_id"]: s["span"]["name"] for s in body["spans"]}
    # The root's own time, then the timed-out call, the ledger's handler and its INSERT (clamped).
    assert [names[step["span_id"]] for step in body["critical_path"]] == [
        "POST /orders",
        "POST",
        "POST /entries",
        "SELECT accounts",
        "INSERT entries",
    ]
    assert sum(step["self_ns"] for step in body["critical_path"]) == 1100 * 10**6
    [chain] = body["failure_chains"]
    assert chain["latency_cause"]["outlived_caller"] is True


def test_a_deploy_that_starts_a_failure(collector, service_name):
    now = time.time_ns()
    api, ledger = f"{service_name}-api", f"{service_name}-ledger"

    def trace(version: str, failing: bool, at_ns: int) -> str:
        spans = [
            S("root", api, "POST /pay", status=ERROR if failing else 0),
            S("call", api, "POST", kind="Client", parent="root", status=ERROR if failing else 0),
            S("in", ledger, "POST /entries", parent="call", version=version,
              status=ERROR if failing else 0, exception=("LockTimeout", "row locked") if failing else None),
        ]  # fmt: skip
        return _send(collector, spans, at_ns)

    trace("2.3.0", False, now - 40 * MINUTE_NS)  # the old version, healthy
    trace("2.4.0", False, now - 10 * MINUTE_NS)  # 2.4.0 appears...
    trace("2.4.0", True, now - 7 * MINUTE_NS)  # ...and three minutes later the failures begin
    trace("2.4.0", True, now - 6 * MINUTE_NS)

    [group] = _groups(collector, ledger)
    assert group["versions"][0]["version"] == "2.4.0" and group["versions"][0]["traces"] == 2
    onset = group["deploy_onset"]
    assert onset["version"] == "2.4.0" and abs(onset["lead_ns"] - 3 * MINUTE_NS) < 10**9

    deploys = collector.get("/api/v1/deploys", params={"since": "1h", "service": ledger}).json()["deploys"]
    assert [d["version"] for d in deploys] == ["2.3.0", "2.4.0"]
    assert collector.get("/api/v1/deploys", params={"since": "5m", "service": ledger}).json()["deploys"] == []

    # The same failures on a version that had run for half an hour: no deploy onset.
    store = collector.app.state.store
    groups = failure_groups([store.traces.get_trace(trace("2.3.0", True, now - 5 * MINUTE_NS))])
    [old] = with_deploys(groups, store.services.version_first_seen((ledger,)))
    assert old.versions[0].version == "2.3.0" and old.deploy_onset is None
    assert "3 min before the first failure" in describe_onset(
        onset["version"], onset["first_seen_ns"], onset["lead_ns"]
    )
    assert _evidence(old) == "status Error, exception LockTimeout"


def test_compare_ranks_what_failing_requests_have_in_common(collector, service_name):
    """200 requests: failures are mostly free-tier users on node-7; each carries a unique request id."""
    now = time.time_ns()
    spans, expected_free = [], [0, 0]
    for i in range(200):
        failing = i % 4 == 0  # 50 failing, 150 healthy
        tier = "free" if (failing and i % 20 != 0) or (not failing and i % 10 == 1) else "paid"
        expected_free[failing] += tier == "free"
        attrs = {
            "user.tier": tier,
            "request.id": f"req-{i}",
            "http.response.status_code": 500 if failing else 200,
            "net.host": "node-7" if failing and i % 8 == 0 else f"node-{i % 5}",
        }
        spans.append(
            S(f"s{i}", service_name, "POST /checkout", attrs=attrs, status=ERROR if failing else 0, start_ms=i)
        )
    _send(collector, spans, now - 10 * MINUTE_NS)

    response = collector.get(
        "/api/v1/compare", params={"since": "1h", "service": service_name, "operation": "POST /checkout"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["failing_spans"], body["healthy_spans"]) == (50, 150)
    assert (body["sampled_failing"], body["sampled_healthy"]) == (50, 150)
    top = body["deltas"][0]
    assert (top["key"], top["value"], top["source"]) == ("user.tier", "free", "span")
    assert top["failing_share"] == round(expected_free[True] / 50, 4)
    assert top["healthy_share"] == round(expected_free[False] / 150, 4)
    keys = {d["key"] for d in body["deltas"]}
    assert "request.id" not in keys and "http.response.status_code" not in keys
    assert any(d["key"] == "net.host" and d["value"] == "node-7" for d in body["deltas"])
    assert all(d["failing_share"] > d["healthy_share"] for d in body["deltas"])

    [group] = _groups(collector, service_name)
    assert group["attribute_deltas"][0]["value"] == "free" and len(group["attribute_deltas"]) <= 3

    # A filter by attribute narrows both sides; nothing failing leaves nothing to compare.
    narrowed = collector.get(
        "/api/v1/compare", params={"since": "1h", "service": service_name, "attr": "user.tier=paid"}
    ).json()
    assert narrowed["failing_spans"] + narrowed["healthy_spans"] == 200 - sum(expected_free)
    empty = collector.get("/api/v1/compare", params={"since": "1h", "service": service_name + "-none"}).json()
    assert empty["deltas"] == [] and empty["failing_spans"] == 0
    assert collector.get("/api/v1/compare", params={"since": "yesterday"}).status_code == 400


def test_async_failure_two_hops_past_the_consumer(collector, service_name):
    web, shipping, carrier = (f"{service_name}-{s}" for s in ("web", "shipping", "carrier"))
    producer, consumer = os.urandom(16).hex(), os.urandom(16).hex()
    now = time.time_ns()
    for trace_id, spans, at in (
        (
            producer,
            [S("root", web, "POST /orders"), S("pub", web, "orders publish", kind="Producer", parent="root")],
            0,
        ),
        (
            consumer,
            [
                S("con", shipping, "orders process", kind="Consumer", links=(f"{producer}/pub",), status=ERROR),
                S("call", shipping, "POST", kind="Client", parent="con", status=ERROR),
                S("label", carrier, "POST /labels", parent="call", status=ERROR, exception=("LabelError", "no label")),
            ],
            2,
        ),
    ):
        body = to_request(spans, trace_id, now - (5 - at) * MINUTE_NS).SerializeToString()
        assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200

    expected = [(web, "entry"), (web, "child"), (shipping, "async"), (shipping, "child"), (carrier, "child")]
    # The consumer's chain shows the producer's path before the broker...
    [chain] = collector.get(f"/api/v1/traces/{consumer}").json()["failure_chains"]
    assert [(h["service"], h["via"]) for h in chain["hops"]] == expected
    assert chain["upstream_traces"] == [producer] and chain["hops"][0]["trace_id"] == producer
    # ...the producer's trace lists the consumer's failure...
    detail = collector.get(f"/api/v1/traces/{producer}").json()
    assert detail["failure_chains"] == [] and not detail["async_cut"]
    [downstream] = detail["async_failure_chains"]
    assert downstream["trace_id"] == consumer and downstream["origin"]["service"] == carrier
    # ...and /failures groups it by the consumer-side origin, with the whole path.
    [group] = _groups(collector, carrier)
    assert group["path"] == [web, shipping, carrier] and group["hops"][2]["via"] == "async"
    assert _groups(collector, web)[0]["signature"] == group["signature"]
