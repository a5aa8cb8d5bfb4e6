"""LogReader against the embedded ClickHouse: words, severity, attributes, paging, a trace's logs."""

from __future__ import annotations

import os
import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from core.types import TimeRange
from storage.log_reader import LogQuery, LogReader
from storage.trace_reader import TraceReader

PB = {"Content-Type": "application/x-protobuf"}


def _send_logs(collector, service: str, records: list[tuple[int, str, dict]], trace_id: bytes = b"") -> int:
    base = time.time_ns() - 20 * 10**9
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    scope = rl.scope_logs.add()
    for i, (severity, body, attrs) in enumerate(records):
        record = scope.log_records.add(time_unix_nano=base + i, severity_number=severity, trace_id=trace_id)
        record.body.string_value = body
        for key, value in attrs.items():
            record.attributes.add(key=key, value=AnyValue(string_value=value))
    assert collector.post("/v1/logs", content=request.SerializeToString(), headers=PB).status_code == 200
    return base


def test_search_by_words_severity_and_attribute_newest_first(collector, ch, service_name):
    base = _send_logs(
        collector,
        service_name,
        [(9, "cart loaded", {}), (17, "Payment DECLINED for cart", {"user": "u1"}), (13, "payment slow", {})],
    )
    reader, window = LogReader(ch), TimeRange(base - 10**9, base + 10**9)

    def bodies(**query) -> list[str]:
        return [r.body for r in reader.search(LogQuery(service=service_name, **query), window, 10)[0]]

    assert bodies() == ["payment slow", "Payment DECLINED for cart", "cart loaded"]
    assert bodies(words=("payment",)) == ["payment slow", "Payment DECLINED for cart"]
    assert bodies(words=("payment", "cart")) == ["Payment DECLINED for cart"]
    assert bodies(min_severity=13) == ["payment slow", "Payment DECLINED for cart"]
    assert bodies(attributes=(("user", "u1"),)) == ["Payment DECLINED for cart"]
    assert reader.count(LogQuery(service=service_name, min_severity=17), window) == 1


def test_pages_follow_the_cursor_without_gaps_or_repeats(collector, ch, service_name):
    base = _send_logs(collector, service_name, [(9, f"line {i}", {}) for i in range(7)])
    reader, window = LogReader(ch), TimeRange(base - 10**9, base + 10**9)
    seen, cursor = [], None
    while True:
        page, cursor = reader.search(LogQuery(service=service_name), window, 3, after=cursor)
        seen += [r.body for r in page]
        if cursor is None:
            break
    assert seen == [f"line {i}" for i in reversed(range(7))]


def test_for_trace_reads_the_logs_of_one_trace(collector, ch, service_name):
    from tests.analysis.scenarios import S, to_request

    trace_hex = os.urandom(16).hex()
    spans = to_request([S("root", service_name, "GET /")], trace_hex, time.time_ns() - 20 * 10**9)
    assert collector.post("/v1/traces", content=spans.SerializeToString(), headers=PB).status_code == 200
    _send_logs(collector, service_name, [(17, "inside the trace", {})], trace_id=bytes.fromhex(trace_hex))
    _send_logs(collector, service_name, [(17, "outside", {})])
    assert [r.body for r in LogReader(ch).of_trace(trace_hex).records] == ["inside the trace"]


def test_a_traces_logs_carry_the_same_evidence_the_evidence_query_finds(collector, ch, service_name, monkeypatch):
    """`of_trace` reads the trace's records by its id alone; its detail shows those within 900 s of
    its spans, and takes each span's evidence from them: the first ERROR record with an exception
    type, or FATAL one, written in the span within 300 s of the trace; the same as `log_evidence`
    (the query the analysis uses), which it falls back to when the records were cut short."""
    import storage.log_reader
    from storage.trace_reader import log_evidence, span_bounds
    from tests.analysis.scenarios import S, span_id, to_request

    trace_hex = os.urandom(16).hex()
    base = time.time_ns() - 30 * 60 * 10**9
    spans = to_request([S("root", service_name, "GET /"), S("db", service_name, "SELECT", "Client", "root")],
                       trace_hex, base)  # fmt: skip
    assert collector.post("/v1/traces", content=spans.SerializeToString(), headers=PB).status_code == 200
    root, db, elsewhere = span_id(trace_hex, "root"), span_id(trace_hex, "db"), os.urandom(8)
    records = [  # (seconds after the trace, span, severity, body, attributes)
        (0, db, 9, "querying", {}),
        (1, db, 17, "first", {"exception.type": "Locked", "exception.message": "database is locked"}),
        (2, db, 17, "second", {"exception.type": "Timeout"}),
        (3, root, 17, "an ERROR without an exception", {}),
        (4, root, 21, "FATAL: out of memory", {}),
        (600, elsewhere, 21, "FATAL, 10 minutes later", {}),  # among the trace's logs, not evidence
        (1500, root, 21, "FATAL, 25 minutes later", {}),  # the trace's, but too far from it to show
    ]
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service_name))
    scope = rl.scope_logs.add()
    for seconds, span, severity, body, attrs in records:
        record = scope.log_records.add(time_unix_nano=base + seconds * 10**9, severity_number=severity,
                                       trace_id=bytes.fromhex(trace_hex), span_id=span)  # fmt: skip
        record.body.string_value = body
        for key, value in attrs.items():
            record.attributes.add(key=key, value=AnyValue(string_value=value))
    assert collector.post("/v1/logs", content=request.SerializeToString(), headers=PB).status_code == 200

    reader = LogReader(ch)
    logs = reader.of_trace(trace_hex)
    assert [r.body for r in logs.records] == [body for _, _, _, body, _ in records] and not logs.cut
    bounds = span_bounds(TraceReader(ch).spans(trace_hex))
    assert [r.body for r in logs.near(bounds)] == [body for _, _, _, body, _ in records[:-1]]
    assert logs.evidence(bounds) == log_evidence(ch, trace_hex, bounds)
    found = {span: (e.time_ns, e.exception_type, e.message) for span, e in logs.evidence(bounds).items()}
    assert found == {db.hex(): (base + 10**9, "Locked", "database is locked"),
                     root.hex(): (base + 4 * 10**9, "", "FATAL: out of memory")}  # fmt: skip
    assert reader.evidence(trace_hex, logs, bounds) == logs.evidence(bounds)

    monkeypatch.setattr(storage.log_reader, "TRACE_LOG_LIMIT", 2)  # the db span's evidence is its 2nd record
    cut = reader.of_trace(trace_hex)
    assert cut.cut and [r.body for r in cut.records] == ["querying", "first"]
    assert list(cut.evidence(bounds)) == [db.hex()]  # the root's evidence lies past the limit
    assert reader.evidence(trace_hex, cut, bounds) == log_evidence(ch, trace_hex, bounds)


def test_a_traces_logs_are_found_through_the_trace_id_projection_not_the_bloom_filter(collector, ch, service_name):
    from storage.log_reader import _TRACE_LOGS, TRACE_LOG_LIMIT

    # Other traces' records beside it: with a single granule in the table there is nothing to narrow.
    ch.command("INSERT INTO otel_logs (Timestamp, TraceId, SpanId, ServiceName, Body) "
               "SELECT now64(9), lower(hex(randomString(16))), 'filler', {s:String}, 'x' FROM numbers(20000)",
               parameters={"s": service_name})  # fmt: skip
    trace_hex = os.urandom(16).hex()
    _send_logs(collector, service_name, [(9, "in the trace", {})], trace_id=bytes.fromhex(trace_hex))
    plan = "\n".join(
        row[0]
        for row in ch.query(
            "EXPLAIN indexes = 1, projections = 1 " + _TRACE_LOGS,
            parameters={"trace_id": trace_hex, "limit": TRACE_LOG_LIMIT},
        ).result_rows
    )
    assert "trace_id_order" in plan and "idx_trace_id" not in plan, plan
    assert [r.body for r in LogReader(ch).of_trace(trace_hex).records] == ["in the trace"]
