"""Issue 15, points 1–3, on a recorded copy of the live demo's data (`hopscope up --demo`,
`hopscope fault ledger_timeout on`): the ledger's lock is one problem — not one group per partial
trace, no peer named by its address, the payment client's dropped connections listed under it."""

from __future__ import annotations

import time
import uuid

from tests.demo import recorded

PB = {"Content-Type": "application/x-protobuf"}


def _post(collector, spans, logs) -> None:
    assert collector.post("/v1/traces", content=spans.SerializeToString(), headers=PB).status_code == 200
    if logs.resource_logs:
        assert collector.post("/v1/logs", content=logs.SerializeToString(), headers=PB).status_code == 200


def _failures(collector, tag: str) -> list[dict]:
    body = collector.get("/api/v1/failures", params={"since": "15m", "service": f"payment-{tag}"}).json()
    return body["groups"]


def test_the_ledger_lock_is_one_problem_with_its_peers_named(collector):
    tag = uuid.uuid4().hex[:8]
    traces = recorded.load()
    end = time.time_ns() - 10**9

    # Spans arrive service by service: everything but the frontend first (its spans end last).
    below = recorded.replay(traces, tag, end, keep=lambda s: s["service"] != "frontend", together=True)
    _post(collector, *below)
    assert _failures(collector, tag) == []  # no root yet, nothing settled: not shown in parts

    _post(collector, *recorded.replay(traces, tag, end, keep=lambda s: s["service"] == "frontend", together=True))
    groups = _failures(collector, tag)
    assert len(groups) == 1, [(g["origin"], g["path"]) for g in groups]
    group = groups[0]
    assert (group["origin"]["service"], group["origin"]["operation"]) == (f"ledger-{tag}", "INSERT")
    assert group["path"] == [f"{s}-{tag}" for s in ("frontend", "checkout", "payment", "ledger")]
    assert group["entry_points"][0]["service"] == f"frontend-{tag}" and not group["partial"]
    # The payment client that lost its connection to the ledger: named, and listed as a symptom.
    [symptom] = group["symptoms"]
    assert symptom["origin"]["service"] == f"payment-{tag}" and symptom["origin"]["error_type"] == "httpx.ReadError"
    assert symptom["origin"]["peer"] == f"ledger-{tag}"
    assert symptom["origin"]["peer_address"].startswith("127.0.0.1:") and len(symptom["origin"]["peer_address"]) > 14
    failing = {t["trace_id"] for t in traces if any(s["status_code"] == "Error" for s in t["spans"])}
    assert group["traces"] == len(failing)

    # The service map has no node for the ledger's address.
    edges = collector.get("/api/v1/service-map", params={"since": "15m"}).json()["edges"]
    mine = {(e["caller"], e["callee"]) for e in edges if e["caller"].endswith(tag)}
    assert (f"payment-{tag}", f"ledger-{tag}") in mine
    assert not [callee for _, callee in mine if callee.startswith("127.0.0.1")], mine


def test_a_trace_seen_only_at_the_payment_client_counts_with_the_symptom(collector):
    """A trace whose callers' spans never arrived (lost), shown once settled: its ledger failure and
    the payment client's dropped connection count with the whole problem, not as problems of their own."""
    tag = uuid.uuid4().hex[:8]
    traces = recorded.load()
    with_drop = [t for t in traces if any("ReadError" in (s["status_message"] or "") or
                                          any(e["attributes"].get("exception.type") == "httpx.ReadError" for e in s["events"])
                                          for s in t["spans"])]  # fmt: skip
    lone = with_drop[-1]
    whole = [t for t in traces if t is not lone]
    end = time.time_ns() - 11 * 10**9  # older than the grace period for traces without a root
    _post(collector, *recorded.replay(whole, tag, end))
    before = _failures(collector, tag)
    below_checkout = recorded.replay([lone], tag, end, keep=lambda s: s["service"] in ("payment", "ledger"))
    _post(collector, *below_checkout)
    after = _failures(collector, tag)
    assert len(after) == len(before) == 1, [(g["origin"], g["path"]) for g in after]
    assert before[0]["symptoms"], before
    assert after[0]["traces"] == before[0]["traces"] + 1 and not after[0]["partial"]
    assert (
        len(after[0]["symptoms"]) == 1 and after[0]["symptoms"][0]["traces"] == before[0]["symptoms"][0]["traces"] + 1
    )
    assert after[0]["path"] == before[0]["path"] and after[0]["entry_points"] == before[0]["entry_points"]


def test_stored_analyses_give_the_same_one_problem(quiet_collector):
    """The same incident once the background analysis has stored every trace's chains: /failures
    aggregates them in ClickHouse and must tell the same story — one problem, the symptom under it
    (also when a filter leaves only the symptom's traces)."""
    tag = uuid.uuid4().hex[:8]
    traces = recorded.load()
    _post(quiet_collector, *recorded.replay(traces, tag, time.time_ns() - 30 * 10**9))
    live = _failures(quiet_collector, tag)
    assert quiet_collector.analyzer.run_once() >= len(traces) // 2
    stored = _failures(quiet_collector, tag)
    assert len(stored) == 1 and stored[0]["signature"] == live[0]["signature"]
    assert stored[0]["traces"] == live[0]["traces"] and stored[0]["symptoms"] == live[0]["symptoms"]
    assert stored[0]["symptoms"][0]["origin"]["peer"] == f"ledger-{tag}"
    absorbed = quiet_collector.get(
        "/api/v1/failures", params={"since": "15m", "service": f"payment-{tag}", "kind": "absorbed"}
    ).json()["groups"]
    assert all(g["per_minute"] and g["entry_points"] for g in absorbed)  # never a group without its breakdowns
