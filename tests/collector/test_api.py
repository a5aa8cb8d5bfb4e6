"""The query API over seeded data in the real embedded ClickHouse, and every bad parameter."""

from __future__ import annotations

import os
import time
import uuid

import pytest

from tests.analysis.scenarios import ERROR, S, to_request

PB = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def names():
    tag = uuid.uuid4().hex[:6]
    return {role: f"{role}-{tag}" for role in ("web", "api", "db", "inv")}


def _send(collector, spans, base_ns: int | None = None):
    trace_id = os.urandom(16).hex()
    body = to_request(spans, trace_id, base_ns or time.time_ns() - 30 * 10**9).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
    return trace_id


def _broken(n: dict, message: str = "deadlock on row 42") -> list[S]:
    return [
        S("root", n["web"], "GET /", status=ERROR, attrs={"http.status_code": 500}),
        S("call", n["web"], "GET", kind="Client", parent="root", status=ERROR),
        S("api", n["api"], "GET /data", parent="call", status=ERROR),
        S(
            "q",
            n["api"],
            "SELECT",
            kind="Client",
            parent="api",
            status=ERROR,
            message=message,
            attrs={"db.system": "postgresql"},
        ),
    ]


def _fallback(n: dict) -> list[S]:
    return [
        S("root", n["web"], "GET /"),
        S("call", n["web"], "GET", kind="Client", parent="root", status=ERROR),
        S("inv", n["inv"], "GET /stock", parent="call", attrs={"http.status_code": 503}),
    ]


def test_failures_are_grouped_by_signature_with_counts_paths_and_examples(collector, names):
    broken = [_send(collector, _broken(names, f"deadlock on row {i}")) for i in range(3)]
    absorbed = [_send(collector, _fallback(names)) for _ in range(2)]
    body = collector.get("/api/v1/failures", params={"since": "15m", "service": names["web"]}).json()
    assert body["traces_analyzed"] >= 5 and not body["truncated"]
    groups = body["groups"]
    assert len(groups) == 2
    first, second = groups  # by impact: the failure users saw comes first
    assert (first["traces"], first["propagated_traces"], first["absorbed_traces"]) == (3, 3, 0)
    assert first["origin"]["service"] == names["api"] and first["origin"]["operation"] == "SELECT"
    assert first["origin"]["peer"] == "postgresql" and first["origin"]["normalized_error"] == "deadlock on row <n>"
    assert first["origin"]["message"].startswith("deadlock on row ")
    assert first["path"] == [names["web"], names["api"]]
    assert [h["operation"] for h in first["hops"]] == ["GET /", "GET", "GET /data", "SELECT"]
    assert first["entry_points"] == [{"service": names["web"], "operation": "GET /", "traces": 3}]
    assert set(first["example_trace_ids"]) == set(broken)
    assert sum(count for _, count in first["per_minute"]) == 3
    assert first["first_seen_ns"] <= first["last_seen_ns"]
    assert (second["traces"], second["absorbed_traces"]) == (2, 2)
    assert set(second["example_trace_ids"]) == set(absorbed)
    assert second["origin"]["normalized_error"] == "HTTP 503"

    only_absorbed = collector.get(
        "/api/v1/failures", params={"since": "15m", "service": names["web"], "kind": "absorbed"}
    ).json()["groups"]
    assert [g["signature"] for g in only_absorbed] == [second["signature"]]


def test_services_report_rate_errors_and_latency(collector, names):
    for _ in range(3):
        _send(collector, _broken(names))
    _send(collector, _fallback(names))
    items = {i["name"]: i for i in collector.get("/api/v1/services", params={"since": "15m"}).json()["items"]}
    web, inv = items[names["web"]], items[names["inv"]]
    assert (web["requests"], web["errors"]) == (4, 3) and web["error_rate"] == pytest.approx(0.75)
    assert (inv["requests"], inv["errors"]) == (1, 1)
    assert web["p50_ns"] == pytest.approx(10e6, rel=0.01) and web["requests_per_second"] > 0
    ops = collector.get("/api/v1/services", params={"since": "15m", "service": names["api"]}).json()
    assert [(o["name"], o["requests"], o["errors"]) for o in ops["items"]] == [("GET /data", 3, 3)]


def test_requests_per_second_counts_the_time_a_service_had_traffic(collector, service_name):
    """40 requests over the last 20 s read ~2/s in an hour's range, not 40/3600 (the demo's 0.04)."""
    now = time.time_ns()
    spans = [S(f"r{i}", service_name, "GET /", start_ms=i * 500) for i in range(40)]
    body = to_request(spans, os.urandom(16).hex(), now - 21 * 10**9).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
    [item] = [
        i
        for i in collector.get("/api/v1/services", params={"since": "1h"}).json()["items"]
        if i["name"] == service_name
    ]
    assert item["requests"] == 40 and 19 <= item["active_seconds"] <= 40
    assert 1.0 <= item["requests_per_second"] <= 2.2
    # A lone request a moment ago: the rate is over at least 10 s.
    other = service_name + "-once"
    body = to_request([S("x", other, "GET /")], os.urandom(16).hex(), time.time_ns() - 10**9).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
    [once] = [
        i for i in collector.get("/api/v1/services", params={"since": "1h"}).json()["items"] if i["name"] == other
    ]
    assert once["active_seconds"] == 10.0 and once["requests_per_second"] == pytest.approx(0.1)


def test_service_map_has_services_databases_and_error_counts(collector, names):
    for _ in range(2):
        _send(collector, _broken(names))
    _send(collector, _fallback(names))
    body = collector.get("/api/v1/service-map", params={"since": "15m"}).json()
    edges = {(e["caller"], e["callee"]): e for e in body["edges"]}
    web_api = edges[(names["web"], names["api"])]
    assert (web_api["calls"], web_api["errors"], web_api["callee_type"]) == (2, 2, "service")
    api_db = edges[(names["api"], "postgresql")]
    assert (api_db["calls"], api_db["callee_type"]) == (2, "database")
    assert edges[(names["web"], names["inv"])]["calls"] == 1
    nodes = {n["name"]: n["type"] for n in body["nodes"]}
    assert nodes[names["api"]] == "service" and nodes["postgresql"] == "database"


def test_trace_detail_keeps_nanoseconds_and_includes_logs(collector, names):
    base_ns = time.time_ns() - 30 * 10**9 + 123  # not a whole microsecond
    trace_id = _send(collector, _broken(names), base_ns)
    body = collector.get(f"/api/v1/traces/{trace_id.upper()}").json()
    assert body["trace_id"] == trace_id
    assert [s["span"]["start_ns"] for s in body["spans"]] == [base_ns] * 4  # nanoseconds kept exactly
    assert [s["span"]["duration_ns"] for s in body["spans"]] == [10_000_000] * 4
    assert [s["failed"] for s in body["spans"]] == [True, True, True, True]
    assert body["logs"] == []


def test_trace_detail_shows_the_trace_logs_and_a_span_failed_by_its_error_log(collector, service_name):
    trace_id = _send(collector, [S("root", service_name, "POST /orders"), S("pay", service_name, "charge", parent="root")],
                     time.time_ns() - 30 * 10**9)  # fmt: skip
    spans = {s["span"]["name"]: s for s in collector.get(f"/api/v1/traces/{trace_id}").json()["spans"]}
    assert not spans["charge"]["failed"] and spans["charge"]["span"]["log_evidence"] is None
    charge = spans["charge"]["span"]["span_id"]
    _logs(collector, service_name, [("card declined", 17, trace_id, {"exception.type": "CardDeclined"})], charge)
    body = collector.get(f"/api/v1/traces/{trace_id}").json()
    spans = {s["span"]["name"]: s for s in body["spans"]}
    assert spans["charge"]["failed"] and spans["charge"]["span"]["log_evidence"]["exception_type"] == "CardDeclined"
    assert not spans["POST /orders"]["failed"]
    assert [(r["body"], r["span_id"]) for r in body["logs"]] == [("card declined", charge)]
    [chain] = body["failure_chains"]
    assert (
        chain["origin"]["operation"] == "charge"
        and chain["origin"]["evidence"]["log"]["exception_type"] == "CardDeclined"
    )


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/api/v1/traces/xyz", 400, "invalid trace id"),
        ("/api/v1/traces/" + "0" * 32, 400, "invalid trace id"),
        ("/api/v1/traces/" + "g" * 32, 400, "invalid trace id"),
        ("/api/v1/traces/" + "5ca1ab1e" * 4, 404, "trace not found"),  # never sent by any test
        ("/api/v1/failures?since=yesterday", 400, "invalid time"),
        ("/api/v1/failures?since=1h&until=2h", 400, "invalid time range"),
        ("/api/v1/failures?since=60d", 400, "invalid time range"),
        ("/api/v1/failures?until=2026-13-45T00:00:00Z", 400, "invalid time"),
        ("/api/v1/failures?max_traces=0", 400, "invalid limit"),
        ("/api/v1/failures?max_traces=1000000", 400, "invalid limit"),
        ("/api/v1/failures?max_traces=many", 400, "invalid parameter"),
        ("/api/v1/failures?kind=sideways", 400, "invalid parameter"),
        ("/api/v1/services?since=%27;DROP%20TABLE%20otel_traces", 400, "invalid time"),
        ("/api/v1/service-map?until=-5m", 400, "invalid time"),
    ],
)
def test_bad_parameters_are_4xx_with_error_and_detail(collector, path, status, error):
    response = collector.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error and body["detail"]


def test_rfc3339_and_relative_times_are_accepted(collector):
    now = time.time()
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 600))
    assert collector.get("/api/v1/services", params={"since": since, "until": "now"}).status_code == 200
    assert collector.get("/api/v1/services", params={"since": "2d"}).status_code == 200


def test_openapi_documents_the_query_api(collector):
    paths = collector.get("/openapi.json").json()["paths"]
    assert {"/api/v1/traces/{trace_id}", "/api/v1/failures", "/api/v1/services", "/api/v1/service-map"} <= set(paths)


def test_trace_search_filters_and_summaries(collector, names):
    slow = _send(
        collector,
        [
            S("root", names["web"], "GET /slow", attrs={"http.route": "/slow"}, duration_ms=900),
            S("c", names["web"], "GET", kind="Client", parent="root", duration_ms=5),
        ],
    )
    broken = _send(collector, _broken(names))
    fast = _send(collector, [S("root", names["web"], "GET /fast", attrs={"http.route": "/fast"}, duration_ms=2)])

    def search(**params):
        body = collector.get("/api/v1/traces", params={"since": "15m", **params})
        assert body.status_code == 200, body.text
        return [t["trace_id"] for t in body.json()["traces"]]

    assert search(service=names["web"]) == [fast, broken, slow]  # newest first (sent in this order)
    assert search(service=names["web"], status="error") == [broken]
    assert search(service=names["web"], min_duration="500ms") == [slow]
    assert search(service=names["web"], max_duration="3ms") == [fast]
    assert search(attr=["http.route=/slow", f"service.name={names['web']}"]) == [slow]
    assert search(service=names["web"], operation="GET /fast") == [fast]
    assert search(service=names["web"], limit=1) == [fast]
    [summary] = collector.get("/api/v1/traces", params={"since": "15m", "service": names["api"]}).json()["traces"]
    assert summary["trace_id"] == broken and summary["failed"] and summary["spans"] == 4
    assert (summary["root_service"], summary["root_operation"]) == (names["web"], "GET /")
    assert sorted(summary["services"]) == sorted([names["web"], names["api"]])


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("min_duration=fast", "invalid duration"),
        ("max_duration=10", "invalid duration"),
        ("attr=novalue", "invalid attribute filter"),
        ("attr==x", "invalid attribute filter"),
        ("status=maybe", "invalid parameter"),
        ("limit=5000", "invalid limit"),
    ],
)
def test_trace_search_bad_parameters(collector, query, error):
    response = collector.get("/api/v1/traces?" + query)
    assert response.status_code == 400 and response.json()["error"] == error


def _logs(collector, service: str, records: list[tuple[str, int, str, dict]], span_id: str = ""):
    """(body, severity number, trace id, attributes) for each record, a millisecond apart, each
    written in span `span_id` when given."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.common.v1.common_pb2 import AnyValue

    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    scope = rl.scope_logs.add()
    base = time.time_ns() - 20 * 10**9
    for i, (body, severity, trace_id, attrs) in enumerate(records):
        record = scope.log_records.add(
            time_unix_nano=base + i * 10**6,
            severity_number=severity,
            trace_id=bytes.fromhex(trace_id) if trace_id else b"",
            span_id=bytes.fromhex(span_id),
        )
        record.body.string_value = body
        for key, value in attrs.items():
            record.attributes.add(key=key, value=AnyValue(string_value=value))
    assert collector.post("/v1/logs", content=request.SerializeToString(), headers=PB).status_code == 200


def test_log_search_by_words_severity_trace_and_attributes_with_paging(collector, names):
    trace_id = os.urandom(16).hex()
    _logs(
        collector,
        names["api"],
        [
            ("Payment DECLINED for order 7", 17, trace_id, {"order": "7"}),
            ("payment accepted for order 8", 9, "", {"order": "8"}),
            ("cache warmed", 5, "", {}),
            ("Payment declined again, order 9", 17, "", {"order": "9"}),
        ],
    )

    def search(**params):
        response = collector.get("/api/v1/logs", params={"since": "15m", "service": names["api"], **params})
        assert response.status_code == 200, response.text
        return response.json()

    assert [r["body"] for r in search()["records"]][0] == "Payment declined again, order 9"  # newest first
    assert [r["body"] for r in search(q="payment declined")["records"]] == [
        "Payment declined again, order 9",
        "Payment DECLINED for order 7",
    ]
    assert len(search(severity="error")["records"]) == 2
    assert len(search(severity="debug")["records"]) == 4
    assert [r["body"] for r in search(trace_id=trace_id)["records"]] == ["Payment DECLINED for order 7"]
    assert [r["body"] for r in search(attr="order=8")["records"]] == ["payment accepted for order 8"]
    seen, cursor = [], None
    while True:
        page = search(limit=1, **({"cursor": cursor} if cursor else {}))
        seen += [r["body"] for r in page["records"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 4 and len(set(seen)) == 4


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("q=%20%20", "invalid search"),
        ("severity=loud", "invalid parameter"),
        ("cursor=%25%25", "invalid cursor"),
        ("cursor=bm9wZQ", "invalid cursor"),
        ("trace_id=123", "invalid trace id"),
        ("limit=0", "invalid limit"),
        ("attr=x", "invalid attribute filter"),
    ],
)
def test_log_search_bad_parameters(collector, query, error):
    response = collector.get("/api/v1/logs?" + query)
    assert response.status_code == 400 and response.json()["error"] == error


def test_spans_written_by_the_opentelemetry_collector_exporter_are_analysed_alike(collector, ch, names):
    """Rows inserted straight into otel_traces, as the official ClickHouse exporter writes them
    (its column list, its value formats), without going through hopscope's collector."""
    trace_id = os.urandom(16).hex()
    now = time.time_ns() - 20 * 10**9
    rows = [
        # Timestamp, TraceId, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, SpanAttributes, Duration,
        # StatusCode, StatusMessage, Events.Timestamp, Events.Name, Events.Attributes
        [
            now,
            trace_id,
            "a" * 16,
            "",
            "GET /",
            "Server",
            names["web"],
            {"http.status_code": "500"},
            9000,
            "Unset",
            "",
            [],
            [],
            [],
        ],
        [now + 1, trace_id, "b" * 16, "a" * 16, "GET", "Client", names["web"], {}, 8000, "Error", "", [], [], []],
        [
            now + 2,
            trace_id,
            "c" * 16,
            "b" * 16,
            "GET /x",
            "Server",
            names["api"],
            {},
            7000,
            "Unset",
            "",
            [now + 3],
            ["exception"],
            [{"exception.type": "KeyError", "exception.message": "'k'"}],
        ],
    ]
    columns = [
        "Timestamp",
        "TraceId",
        "SpanId",
        "ParentSpanId",
        "SpanName",
        "SpanKind",
        "ServiceName",
        "SpanAttributes",
        "Duration",
        "StatusCode",
        "StatusMessage",
        "Events.Timestamp",
        "Events.Name",
        "Events.Attributes",
    ]
    ch.insert("otel_traces", rows, column_names=columns)
    [chain] = collector.get(f"/api/v1/traces/{trace_id}").json()["failure_chains"]
    assert chain["origin"]["service"] == names["api"] and chain["origin"]["error_type"] == "KeyError"
    assert chain["services"] == [names["web"], names["api"]] and chain["propagated"]
    groups = collector.get("/api/v1/failures", params={"since": "15m", "service": names["api"]}).json()["groups"]
    assert [g["traces"] for g in groups] == [1]  # found by the HopscopeFailed column ClickHouse computed
