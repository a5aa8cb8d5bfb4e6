"""TraceReader against the embedded ClickHouse: one trace by id, failing traces, search."""

from __future__ import annotations

import os
import time

from core.types import TimeRange
from storage.trace_reader import _LINKING_TRACES, _TRACE_SPANS, TraceQuery, TraceReader
from tests.analysis.scenarios import ERROR, S, to_request

PB = {"Content-Type": "application/x-protobuf"}


def _send(collector, spans: list[S], base_ns: int) -> str:
    trace_id = os.urandom(16).hex()
    body = to_request(spans, trace_id, base_ns).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
    return trace_id


def _window(base_ns: int) -> TimeRange:
    return TimeRange(base_ns - 60 * 10**9, base_ns + 60 * 10**9)


def test_get_trace_returns_every_span_with_nanoseconds_and_attributes(collector, ch, service_name):
    base = time.time_ns() - 30 * 10**9 + 123
    trace_id = _send(
        collector,
        [S("root", service_name, "GET /", attrs={"http.route": "/"}), S("db", service_name, "SELECT", parent="root")],
        base,
    )
    spans = TraceReader(ch).get_trace(trace_id)
    assert sorted(s.name for s in spans) == ["GET /", "SELECT"]
    root = next(s for s in spans if s.name == "GET /")
    assert root.start_ns == base and root.attributes["http.route"] == "/" and root.parent_span_id == ""
    assert TraceReader(ch).get_trace(os.urandom(16).hex()) == []
    bounds = TraceReader(ch).bounds(trace_id)  # what the API reads once for the spans and the logs
    assert bounds is not None and bounds.first_s == base // 10**9 <= bounds.last_s
    assert TraceReader(ch).bounds(os.urandom(16).hex()) is None


def test_a_trace_is_found_through_the_trace_id_projection_not_the_days_bloom_filters(collector, ch, service_name):
    # Other traces' spans beside it: with a single granule in the table there is nothing to narrow.
    ch.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName) "
               "SELECT now64(9), lower(hex(randomString(16))), 'filler', {s:String}, 'op' FROM numbers(5000)",
               parameters={"s": service_name})  # fmt: skip
    base = time.time_ns() - 30 * 10**9
    trace_ids = [_send(collector, [S("root", service_name, f"GET /{n}")], base + n) for n in range(3)]
    plan = "\n".join(
        row[0]
        for row in ch.query(
            "EXPLAIN indexes = 1, projections = 1 " + _TRACE_SPANS, parameters={"trace_id": trace_ids[1]}
        ).result_rows
    )
    assert "trace_id_order" in plan and "idx_trace_id" not in plan, plan
    assert [s.name for s in TraceReader(ch).get_trace(trace_ids[1])] == ["GET /1"]


def test_traces_linking_to_a_trace_are_found_by_the_links_key(ch, service_name):
    # Consumers' spans link to their producers' traces; 30,000 of them so that the links table holds
    # several granules for the key to narrow (migration 025).
    producers = [f"{service_name}-p{n}" for n in range(1000)]
    ch.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, `Links.TraceId`, `Links.SpanId`) "
               "SELECT now64(9) - number % 600, {s:String} || '-c' || toString(number), 'c', {s:String}, 'process', "
               "[{s:String} || '-p' || toString(number % 1000)], ['send'] FROM numbers(30000)",
               parameters={"s": service_name})  # fmt: skip
    now = time.time_ns()
    reader = TraceReader(ch)
    found = reader.linking_traces([producers[7]], TimeRange(now - 3600 * 10**9, now + 60 * 10**9), 100)
    assert sorted(found) == sorted(f"{service_name}-c{n}" for n in range(7, 30000, 1000))
    assert len(reader.linking_traces([producers[7]], TimeRange(now - 3600 * 10**9, now), 5)) == 5  # the limit
    # A trace whose span links within the trace is not its own consumer; a window before the links finds none.
    ch.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, `Links.TraceId`, `Links.SpanId`) "
               "SELECT now64(9), {t:String}, 'self', {s:String}, 'retry', [{t:String}], ['first']",
               parameters={"s": service_name, "t": producers[8]})  # fmt: skip
    assert producers[8] not in reader.linking_traces(
        [producers[8]], TimeRange(now - 3600 * 10**9, now + 60 * 10**9), 100
    )
    assert len(reader.linking_traces([producers[8]], TimeRange(now - 3600 * 10**9, now + 60 * 10**9), 100)) == 30
    assert reader.linking_traces([producers[7]], TimeRange(now - 7200 * 10**9, now - 3600 * 10**9), 5) == []
    params = {"trace_ids": [producers[7]], "since": now - 3600 * 10**9, "until": now, "limit": 100}
    plan = "\n".join(
        row[0] for row in ch.query("EXPLAIN indexes = 1 " + _LINKING_TRACES, parameters=params).result_rows
    )
    assert "otel_traces_links" in plan and "binary search" in plan, plan
    key = plan[plan.index("PrimaryKey") :]
    selected, total = (int(n) for n in key.split("Granules: ", 1)[1].split()[0].split("/"))
    assert selected < total, key


def test_failing_traces_carry_the_derived_columns(collector, ch, service_name):
    base = time.time_ns() - 30 * 10**9
    failing = _send(collector, [S("root", service_name, "GET /", status=ERROR)], base)
    healthy = _send(collector, [S("root", service_name, "GET /")], base)
    found = TraceReader(ch).failing_traces(_window(base), limit=1000)
    assert failing in found and healthy not in found
    [span] = found[failing]
    assert span.failed is True and span.attributes == {} and span.http_status == 0


def test_search_filters_by_service_status_duration_and_attribute(collector, ch, service_name):
    base = time.time_ns() - 30 * 10**9
    slow = _send(collector, [S("r", service_name, "GET /a", duration_ms=900, attrs={"tier": "free"})], base)
    fast = _send(collector, [S("r", service_name, "GET /b", duration_ms=2, status=ERROR)], base + 1000)
    reader, window = TraceReader(ch), _window(base)

    def ids(**filters) -> list[str]:
        return [t.trace_id for t in reader.search(TraceQuery(service=service_name, **filters), window, 10)]

    assert ids() == [fast, slow]  # newest first
    assert ids(status="error") == [fast] and ids(status="ok") == [slow]
    assert ids(min_duration_ns=500 * 10**6) == [slow] and ids(max_duration_ns=10**7) == [fast]
    assert ids(attributes=(("tier", "free"),)) == [slow] and ids(operation="GET /b") == [fast]
    [summary] = reader.search(TraceQuery(service=service_name, status="error"), window, 10)
    assert summary.failed and summary.root_service == service_name and summary.spans == 1
