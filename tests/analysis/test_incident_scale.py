"""Incident scale: failing traces are analysed once, when complete, their chains stored, and groups
counted exactly from them however many traces fail; late spans make a trace analysed again."""

from __future__ import annotations

import os
import time

from core.types import TimeRange
from tests.analysis.scenarios import ERROR, S, to_request

PB = {"Content-Type": "application/x-protobuf"}
MINUTE_NS = 60 * 10**9


def _failing(service: str, i: int) -> list[S]:
    return [
        S("root", f"{service}-api", "POST /pay", status=ERROR),
        S("call", f"{service}-api", "POST", kind="Client", parent="root", status=ERROR),
        S("db", f"{service}-ledger", "INSERT", kind="Client", attrs={"db.system": "postgresql"}, parent="call",
          status=ERROR, exception=("LockTimeout", f"row {i} locked")),
    ]  # fmt: skip


def _post(client, spans_by_trace: dict[str, list[S]], base_ns: int) -> None:
    request = None
    for trace_id, spans in spans_by_trace.items():
        part = to_request(spans, trace_id, base_ns)
        if request is None:
            request = part
        else:
            request.resource_spans.extend(part.resource_spans)
    assert request is not None
    assert client.post("/v1/traces", content=request.SerializeToString(), headers=PB).status_code == 200


def test_six_thousand_failing_traces_are_counted_exactly(quiet_collector, service_name):
    base = time.time_ns() - 5 * MINUTE_NS
    traces = {os.urandom(16).hex(): _failing(service_name, i) for i in range(6_000)}
    for chunk in range(0, 6_000, 2_000):
        _post(quiet_collector, dict(list(traces.items())[chunk : chunk + 2_000]), base)
    params = {"since": "1h", "service": f"{service_name}-ledger", "max_traces": 1000, "deltas": "false"}

    before = quiet_collector.get("/api/v1/failures", params=params).json()
    # Analysed live: only the newest 1,000 failing traces (of every service) count before the analyzer ran.
    assert before["truncated"] and before["groups"][0]["traces"] <= 1000

    assert quiet_collector.analyzer.run_once() >= 6_000
    after = quiet_collector.get("/api/v1/failures", params=params).json()
    [group] = after["groups"]
    assert (group["traces"], group["propagated_traces"], after["truncated"]) == (6_000, 6_000, False)
    assert after["traces_analyzed"] == 6_000 and group["origin"]["error_type"] == "LockTimeout"
    assert group["path"] == [f"{service_name}-api", f"{service_name}-ledger"]
    assert sum(n for _, n in group["per_minute"]) == 6_000 and len(group["example_trace_ids"]) == 5
    assert quiet_collector.analyzer.run_once() == 0  # nothing changed: nothing analysed again


def test_late_spans_make_a_trace_analysed_again(quiet_collector, service_name):
    frontend, checkout, ledger = (f"{service_name}-{s}" for s in ("frontend", "checkout", "ledger"))
    trace_id = os.urandom(16).hex()
    root = [
        S("fe", frontend, "POST /checkout", status=ERROR, attrs={"http.status_code": 500}),
        S("fe-c", frontend, "POST", kind="Client", parent="fe", status=ERROR),
    ]
    below = [
        S("co", checkout, "POST /orders", parent="fe-c", status=ERROR),
        S("co-c", checkout, "POST", kind="Client", parent="co", status=ERROR),
        S("led", ledger, "POST /entries", parent="co-c", status=ERROR, exception=("DatabaseLocked", "locked")),
    ]
    base = time.time_ns() - 2 * MINUTE_NS
    _post(quiet_collector, {trace_id: below}, base)  # the frontend has not exported yet
    assert quiet_collector.analyzer.run_once() == 1

    def paths() -> list[tuple[list[str], int]]:
        body = quiet_collector.get("/api/v1/failures", params={"since": "1h", "service": ledger}).json()
        return [(g["path"], g["traces"]) for g in body["groups"]]

    assert paths() == [([checkout, ledger], 1)]
    _post(quiet_collector, {trace_id: root}, base)
    # Until the analyzer's next pass the trace counts as last analysed, once.
    assert paths() == [([checkout, ledger], 1)]
    assert quiet_collector.analyzer.run_once() == 1
    assert paths() == [([frontend, checkout, ledger], 1)]
    client = quiet_collector.app.state.store.chains._client
    [(analyses, newest)] = client.query(
        "SELECT uniqExact(AnalyzedAt), toUnixTimestamp64Milli(max(AnalyzedAt)) FROM hopscope_failure_chains "
        "WHERE TraceId = {t:String}",
        parameters={"t": trace_id},
    ).result_rows
    assert analyses == 2 and abs(newest / 1000 - time.time()) < 60


def test_a_trace_still_arriving_waits_for_the_analyzer_but_is_answered_live(quiet_collector, service_name):
    trace_id = os.urandom(16).hex()
    _post(quiet_collector, {trace_id: _failing(service_name, 0)}, time.time_ns() - 2 * 10**9)
    assert quiet_collector.analyzer.run_once() == 0  # its newest span is 2 s old: not settled
    body = quiet_collector.get("/api/v1/failures", params={"since": "1h", "service": f"{service_name}-ledger"}).json()
    assert body["groups"][0]["example_trace_ids"] == [trace_id]
    store = quiet_collector.app.state.store
    window = TimeRange(time.time_ns() - 3600 * 10**9, time.time_ns())
    assert [p.trace_id for p in store.chains.pending(window, time.time_ns() + 1, 10_000) if p.trace_id == trace_id] == [
        trace_id
    ]
    assert trace_id in store.chains.unanalysed(window, 10_000)


def test_a_pass_that_stops_early_leaves_the_rest_for_the_next(quiet_collector, service_name):
    """While inserts are behind the analyzer stops after a batch (collector.shedding.BackgroundYield);
    what it left is analysed by the next pass, nothing twice."""
    from diagnosis.analyzer import ChainAnalyzer

    store = quiet_collector.app.state.store
    base = time.time_ns() - 5 * MINUTE_NS
    _post(quiet_collector, {os.urandom(16).hex(): _failing(service_name, i) for i in range(1_500)}, base)
    behind = [True]
    analyzer = ChainAnalyzer(store.traces, store.chains, settle=10.0, batch=500, stop_early=lambda: behind[0])
    assert analyzer.run_once() == 500
    behind[0] = False
    assert analyzer.run_once() >= 1_000
    params = {"since": "1h", "service": f"{service_name}-ledger", "deltas": "false"}
    [group] = quiet_collector.get("/api/v1/failures", params=params).json()["groups"]
    assert group["traces"] == 1_500 and analyzer.run_once() == 0


def test_a_batch_reads_at_most_its_spans_budget_into_memory(quiet_collector, service_name):
    """A burst's failing traces are read a bounded number of spans at a time (a trace larger than
    the budget alone), every one of them analysed once."""
    from diagnosis.analyzer import ChainAnalyzer
    from storage.trace_reader import TraceReader

    store = quiet_collector.app.state.store
    read: list[int] = []

    class CountingReader(TraceReader):
        def spans_of_traces(self, trace_ids, time_range):
            spans = super().spans_of_traces(trace_ids, time_range)
            read.append(sum(len(s) for s in spans.values()))
            return spans

    base = time.time_ns() - 5 * MINUTE_NS
    traces = {os.urandom(16).hex(): _failing(service_name, i) for i in range(40)}
    deep = [S("root", f"{service_name}-api", "POST /pay", status=ERROR)] + [
        S(f"s{i}", f"{service_name}-api", "GET", kind="Client", parent="root") for i in range(29)
    ]
    traces[os.urandom(16).hex()] = deep
    _post(quiet_collector, traces, base)
    analyzer = ChainAnalyzer(CountingReader(store.traces._client), store.chains, settle=10.0, batch_spans=10)
    assert analyzer.run_once() == 41
    assert sorted(read, reverse=True)[0] == 30 and all(n <= 10 for n in sorted(read, reverse=True)[1:])
    assert sum(read) == 40 * 3 + 30
    params = {"since": "1h", "service": f"{service_name}-ledger", "deltas": "false"}
    [group] = quiet_collector.get("/api/v1/failures", params=params).json()["groups"]
    assert group["traces"] == 40 and analyzer.run_once() == 0


def test_an_answer_reads_the_traces_it_analyses_live_a_bounded_number_of_spans_at_a_time(
    quiet_collector, service_name, monkeypatch
):
    """Before the background analysis has caught up, /failures analyses the failing traces it has not
    reached itself: their spans are read a bounded number at a time, the groups the same."""
    from diagnosis import report
    from storage.trace_reader import TraceReader

    store = quiet_collector.app.state.store
    read: list[tuple[int, int]] = []  # (traces, spans) of each read

    class CountingReader(TraceReader):
        def spans_of_traces(self, trace_ids, time_range):
            spans = super().spans_of_traces(trace_ids, time_range)
            read.append((len(trace_ids), sum(len(s) for s in spans.values())))
            return spans

    base = time.time_ns() - 5 * MINUTE_NS
    _post(quiet_collector, {os.urandom(16).hex(): _failing(service_name, i) for i in range(60)}, base)
    window = TimeRange(time.time_ns() - 3600 * 10**9, time.time_ns())

    def groups() -> list[tuple[str, int, tuple[str, ...]]]:
        answer = report.failure_report(CountingReader(store.traces._client), store.services, None, window, 5_000,
                                       f"{service_name}-ledger", None, store.chains)  # fmt: skip
        return sorted((g.signature, g.traces, g.path) for g in answer.groups)

    whole = groups()
    # Other tests' failing traces share the store and the hour: only this service's are counted.
    [(_, spans_in_one_read)] = read
    assert spans_in_one_read >= 180 and sum(n for _, n, _ in whole) == 60
    read.clear()
    monkeypatch.setattr(report, "LIVE_SPANS_PER_READ", 20)
    monkeypatch.setattr(report, "FIRST_READ_SPANS_PER_TRACE", 5)
    assert groups() == whole
    assert read[0][0] == 4 and len(read) >= 9 and sum(spans for _, spans in read) == spans_in_one_read
    assert all(spans <= 20 or traces == 1 for traces, spans in read)
