"""What the reliability review found, through the collector: one client's bad data does not fail
anyone else's request, every gzip member is read, no input answers 500, and a store outage is
ridden out in the write-ahead log."""

from __future__ import annotations

import gzip
import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.main import create_app
from tests.conftest import make_settings
from tests.polling import wait_until

PB = {"Content-Type": "application/x-protobuf"}
JSON = {"Content-Type": "application/json"}
DAY = 86_400 * 10**9


def _spans(service: str, n: int, first: int = 1, spread_days: int = 0) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    now = time.time_ns()
    for i in range(first, first + n):
        start = now - (i - first) * DAY if spread_days else now
        rs.scope_spans.add().spans.add(trace_id=i.to_bytes(16, "big"), span_id=i.to_bytes(8, "big"), name="op",
                                       start_time_unix_nano=start, end_time_unix_nano=start + 1)  # fmt: skip
    return request


def _count(ch, service: str, table: str = "otel_traces") -> int:
    sql = "SELECT count() FROM {t:Identifier} WHERE ServiceName = {s:String}"
    return ch.query(sql, parameters={"t": table, "s": service}).result_rows[0][0]


def test_a_150_day_request_among_innocent_ones_fails_nobody_else(collector, ch, service_name):
    """Finding 2: its records would make any insert they join fail ("too many partitions")."""
    bad = _spans(service_name + "-old", 150, first=10_000, spread_days=150).SerializeToString()

    def innocent(k: int) -> int:
        body = _spans(service_name, 10, first=1 + k * 10).SerializeToString()
        return collector.post("/v1/traces", content=body, headers=PB).status_code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(innocent, range(20)))
        old = collector.post("/v1/traces", content=bad, headers=PB)
    assert results == [200] * 20 and _count(ch, service_name) == 200
    answer = ExportTraceServiceResponse.FromString(old.content)
    assert old.status_code == 200 and answer.partial_success.rejected_spans == 143  # the last 7 days kept
    assert "retention" in answer.partial_success.error_message
    assert _count(ch, service_name + "-old") == 7


def test_every_gzip_member_is_read_and_garbage_after_the_stream_refused(collector, ch, service_name):
    """Finding 4: `cat a.gz b.gz` stored only the first member's spans and answered 200."""
    first = gzip.compress(_spans(service_name, 10, first=1).SerializeToString())
    second = gzip.compress(_spans(service_name, 10, first=11).SerializeToString())
    gz = {**PB, "Content-Encoding": "gzip"}
    assert collector.post("/v1/traces", content=first + second, headers=gz).status_code == 200
    assert _count(ch, service_name) == 20
    garbage = collector.post("/v1/traces", content=first + b"trailing junk", headers=gz)
    assert garbage.status_code == 400 and b"garbage after the gzip stream" in garbage.content


@pytest.mark.parametrize(
    ("path", "document", "field"),
    [
        ("/v1/logs", {"resourceLogs": [{"scopeLogs": [{"logRecords": [{"severityNumber": 1e400}]}]}]}, "severityNumber"),
        ("/v1/metrics", {"resourceMetrics": [{"scopeMetrics": [{"metrics": [{"name": "m", "sum": {
            "aggregationTemporality": 1e400, "dataPoints": []}}]}]}]}, "aggregationTemporality"),
        ("/v1/traces", {"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": 1e400}]}]}]}, "kind"),
        ("/v1/traces", {"resourceSpans": [{"scopeSpans": [{"spans": [{"kind": 1e30}]}]}]}, "kind"),
    ],
)  # fmt: skip
def test_json_numbers_out_of_range_are_400_naming_the_field(collector, path, document, field):
    """Finding 5: these answered 500."""
    body = json.dumps(document).replace("Infinity", "1e400").encode()
    response = collector.post(path, content=body, headers=JSON)
    assert response.status_code == 400 and field in response.json()["message"]


def _log(collector, service: str, body: str) -> None:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    rl.scope_logs.add().log_records.add(time_unix_nano=time.time_ns(), severity_number=17).body.string_value = body
    assert collector.post("/v1/logs", content=request.SerializeToString(), headers=PB).status_code == 200


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("user_id", True),
        ("hello_world", True),
        ("USER_ID=42", True),
        ("db-primary.internal/orders", True),
        ("50%", True),
        ('"timeout"', True),
        ("it's", True),
        ("user", True),  # a token of user_id
        ("user_name", False),
        ("%_%", False),
    ],
)
def test_log_search_takes_any_word(collector, service_name, q, found):
    """Finding 5: a word with `_` answered 500 (ClickHouse refuses separators in a token)."""
    _log(collector, service_name, "user_id=42 hello_world: timeout on db-primary.internal/orders at 50% it's")
    response = collector.get("/api/v1/logs", params={"q": q, "service": service_name, "since": "5m"})
    assert response.status_code == 200, response.text
    assert bool(response.json()["records"]) is found


def test_an_alert_rule_is_checked_by_the_search_it_will_run(collector):
    rule = {"name": "empty-search", "type": "log_count", "query": "   ", "threshold": 1}
    response = collector.post("/api/v1/alert-rules", json=rule)
    assert response.status_code == 400 and "no word to search for" in response.json()["detail"]
    ok = {"name": "underscores", "type": "log_count", "query": "user_id failed", "threshold": 1}
    assert collector.post("/api/v1/alert-rules", json=ok).status_code == 201
    assert collector.delete("/api/v1/alert-rules/underscores").status_code == 204


def test_a_store_outage_is_ridden_out_in_the_write_ahead_log(storage_url, ch, service_name, tmp_path):
    """Accepted while the table cannot be written, inserted once it can: nothing lost or doubled."""
    app = create_app(make_settings(storage_url, data_dir=tmp_path / "data"))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        ch.command("DETACH TABLE otel_logs")
        try:
            for i in range(5):
                _log(client, service_name, f"during the outage {i}")
            ready = client.get("/readyz").json()
            assert ready["status"] == "ready" and ready["wal"]["records"] >= 5
            inserter = client.app.state.store.inserter  # type: ignore[attr-defined]
            wait_until(lambda: inserter.stats.store_down_since is not None, 30, "the inserter to see the outage")
            assert client.get("/readyz").json()["wal"]["records"] >= 5
        finally:
            ch.command("ATTACH TABLE otel_logs")
        assert client.app.state.store.inserter.flush()  # type: ignore[attr-defined]
    assert _count(ch, service_name, "otel_logs") == 5
