"""The OTLP/HTTP receivers, served in-process, storing into the real embedded ClickHouse."""

from __future__ import annotations

import gzip
import json
import time

from fastapi.testclient import TestClient
from google.rpc import status_pb2
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.main import create_app
from tests.conftest import make_settings

PB = {"Content-Type": "application/x-protobuf"}
JS = {"Content-Type": "application/json"}
NOW = time.time_ns()


def _spans(service: str, n: int = 3, bad: int = 0) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    ss = rs.scope_spans.add()
    for i in range(n):
        ss.spans.add(
            trace_id=bytes([i + 1] * 16),
            span_id=bytes([i + 1] * 8),
            name=f"op{i}",
            start_time_unix_nano=NOW + i,
            end_time_unix_nano=NOW + i + 1000,
        )
    for i in range(bad):
        ss.spans.add(trace_id=b"\x09" * 15, span_id=bytes([i + 1] * 8), name="bad")
    return request


def _count(ch, service: str, table: str = "otel_traces") -> int:
    return ch.query(
        f"SELECT count() FROM {table} WHERE ServiceName = {{s:String}}", parameters={"s": service}
    ).result_rows[0][0]


def test_protobuf_spans_are_acknowledged_after_they_are_stored(collector, ch, service_name):
    response = collector.post("/v1/traces", content=_spans(service_name).SerializeToString(), headers=PB)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    assert not ExportTraceServiceResponse.FromString(response.content).HasField("partial_success")
    assert _count(ch, service_name) == 3  # no waiting: 200 means durable


def test_hand_written_otlp_json_is_stored_exactly(collector, ch, service_name):
    body = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service_name}}]},
                "scopeSpans": [
                    {
                        "scope": {"name": "manual", "version": "0.1"},
                        "spans": [
                            {
                                "traceId": "5B8EFFF798038103D269B633813FC60C",
                                "spanId": "eee19b7ec3c1b174",
                                "parentSpanId": "eee19b7ec3c1b173",
                                "name": "charge",
                                "kind": 3,
                                "startTimeUnixNano": str(NOW),
                                "endTimeUnixNano": NOW + 1234,
                                "attributes": [
                                    {"key": "retries", "value": {"intValue": "2"}},
                                    {"key": "ok", "value": {"boolValue": False}},
                                ],
                                "status": {"code": 2, "message": "card declined"},
                                "events": [
                                    {
                                        "timeUnixNano": str(NOW + 5),
                                        "name": "exception",
                                        "attributes": [{"key": "exception.type", "value": {"stringValue": "Declined"}}],
                                    }
                                ],
                                "links": [
                                    {"traceId": "00000000000000000000000000000001", "spanId": "0000000000000002"}
                                ],
                                "someFutureField": {"ignored": True},
                            }
                        ],
                    }
                ],
            }
        ],
    }
    response = collector.post("/v1/traces", content=json.dumps(body), headers=JS)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    row = ch.query(
        "SELECT TraceId, SpanId, ParentSpanId, SpanKind, toUnixTimestamp64Nano(Timestamp), Duration, SpanAttributes,"
        " StatusCode, StatusMessage, Events.Name, arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp),"
        " Links.TraceId, ScopeName FROM otel_traces WHERE ServiceName = {s:String}",
        parameters={"s": service_name},
    ).result_rows
    assert row == [
        (
            "5b8efff798038103d269b633813fc60c",
            "eee19b7ec3c1b174",
            "eee19b7ec3c1b173",
            "Client",
            NOW,
            1234,
            {"retries": "2", "ok": "false"},
            "Error",
            "card declined",
            ["exception"],
            [NOW + 5],
            ["00000000000000000000000000000001"],
            "manual",
        )
    ]


def test_gzip_request(collector, ch, service_name):
    body = gzip.compress(_spans(service_name, 4).SerializeToString())
    response = collector.post("/v1/traces", content=body, headers={**PB, "Content-Encoding": "gzip"})
    assert response.status_code == 200
    assert _count(ch, service_name) == 4


def test_empty_requests_succeed(collector):
    for path in ("/v1/traces", "/v1/logs", "/v1/metrics"):
        assert collector.post(path, content=b"", headers=PB).status_code == 200
        response = collector.post(path, content=b"{}", headers=JS)
        assert (response.status_code, response.json()) == (200, {})


def test_partial_success_reports_rejected_spans_and_stores_the_rest(collector, ch, service_name):
    response = collector.post("/v1/traces", content=_spans(service_name, 2, bad=3).SerializeToString(), headers=PB)
    assert response.status_code == 200
    partial = ExportTraceServiceResponse.FromString(response.content).partial_success
    assert partial.rejected_spans == 3
    assert "invalid trace id" in partial.error_message
    assert _count(ch, service_name) == 2


def test_partial_success_in_json_for_malformed_hex_ids(collector, ch, service_name):
    body = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service_name}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": str(NOW),
                                "body": {"stringValue": "fine"},
                                "traceId": "5b8efff798038103d269b633813fc60c",
                            },
                            {"timeUnixNano": str(NOW), "body": {"stringValue": "bad id"}, "traceId": "not-hex"},
                        ]
                    }
                ],
            }
        ]
    }
    response = collector.post("/v1/logs", content=json.dumps(body), headers=JS)
    assert response.status_code == 200
    assert response.json()["partialSuccess"]["rejectedLogRecords"] == "1"
    assert _count(ch, service_name, "otel_logs") == 1


def _bad_utf8_span() -> bytes:
    # field 1 (resource_spans) > field 2 (scope_spans) > field 2 (spans) > field 5 (name) = b"\xff\xfe"
    span = b"\x2a\x02\xff\xfe"
    scope_spans = b"\x12" + bytes([len(span)]) + span
    resource_spans = b"\x12" + bytes([len(scope_spans)]) + scope_spans
    return b"\x0a" + bytes([len(resource_spans)]) + resource_spans


def _assert_status(response, code: int, fragment: str, fmt: str = "json"):
    assert response.status_code == code, response.text
    if fmt == "json":
        assert fragment in response.json()["message"]
    else:
        assert fragment in status_pb2.Status.FromString(response.content).message


def test_bad_input_gets_its_otlp_status_and_the_collector_keeps_serving(collector, ch, service_name):
    collector.post("/v1/traces", content=_spans(service_name, 3).SerializeToString(), headers=PB)
    good = _spans(service_name + "-x", 1).SerializeToString()
    cases = [
        ("truncated protobuf", good[:-7], PB, 400, "invalid protobuf"),
        ("garbage bytes", b"\xff\xfe\x00garbage" * 10, PB, 400, "invalid protobuf"),
        ("invalid JSON", b'{"resourceSpans": [', JS, 400, "invalid OTLP JSON"),
        ("JSON array", b"[1, 2]", JS, 400, "must be a JSON object"),
        ("JSON wrong type", b'{"resourceSpans": 5}', JS, 400, "invalid OTLP JSON"),
        (
            "JSON nested too deep",
            b'{"resourceSpans": ' + b"[" * 5000 + b"]" * 5000 + b"}",
            JS,
            400,
            "invalid OTLP JSON",
        ),
        (
            "JSON int64 overflow",
            b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "99999999999999999999"}]}]}]}',
            JS,
            400,
            "invalid OTLP JSON",
        ),
        ("invalid UTF-8 in a protobuf string", _bad_utf8_span(), PB, 400, "invalid protobuf"),
        ("wrong content type", good, {"Content-Type": "text/plain"}, 415, "unsupported content type"),
        ("no content type", good, {}, 415, "unsupported content type"),
        ("unknown encoding", good, {**PB, "Content-Encoding": "br"}, 415, "unsupported content encoding"),
        ("invalid gzip", b"\x1f\x8b\x08\x00garbage", {**PB, "Content-Encoding": "gzip"}, 400, "invalid gzip"),
        ("truncated gzip", gzip.compress(good)[:-12], {**PB, "Content-Encoding": "gzip"}, 400, "invalid gzip"),
    ]
    for name, body, headers, status, fragment in cases:
        response = collector.post("/v1/traces", content=body, headers=headers)
        fmt = "pb" if headers.get("Content-Type") == PB["Content-Type"] else "json"
        try:
            _assert_status(response, status, fragment, fmt)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from exc
    assert collector.get("/healthz").status_code == 200
    assert _count(ch, service_name) == 3
    assert collector.post("/v1/traces", content=good, headers=PB).status_code == 200


def test_body_over_the_limit_and_gzip_bomb_get_413(storage_url, ch, service_name):
    app = create_app(make_settings(storage_url, max_body_bytes=64 * 1024))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        big = b"\x00" * (65 * 1024)
        _assert_status(client.post("/v1/traces", content=big, headers=PB), 413, "exceeds", "pb")
        bomb = gzip.compress(b"\x00" * (200 * 1024 * 1024))  # 200 MiB of zeros in ~200 KB
        assert len(bomb) > 64 * 1024  # over the wire limit itself: rejected before inflating
        _assert_status(
            client.post("/v1/traces", content=bomb, headers={**PB, "Content-Encoding": "gzip"}), 413, "exceeds", "pb"
        )
        small_bomb = gzip.compress(b"\x00" * (50 * 1024 * 1024), compresslevel=9)[: 60 * 1024]
        response = client.post("/v1/traces", content=small_bomb, headers={**PB, "Content-Encoding": "gzip"})
        _assert_status(response, 413, "decompressed body exceeds", "pb")
        ok = client.post("/v1/traces", content=_spans(service_name, 2).SerializeToString(), headers=PB)
        assert ok.status_code == 200
    assert _count(ch, service_name) == 2


def test_the_write_ahead_log_starts_a_new_segment_at_the_configured_size(storage_url, ch, service_name):
    """HOPSCOPE_WAL_SEGMENT_BYTES: a backlog is moved a segment at a time, so the segment's size
    sets how large inserts can get (docs/deploy.md)."""
    request = _spans(service_name, 200)
    for span in request.resource_spans[0].scope_spans[0].spans:
        span.attributes.add(key="payload", value=AnyValue(string_value="x" * 6000))
    body = request.SerializeToString()
    assert len(body) > 1024**2
    app = create_app(make_settings(storage_url, wal_segment_bytes=1024**2))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        store = client.app.state.store
        store.inserter.stop()  # nothing moves on: the log's segments show
        for _ in range(3):
            assert client.post("/v1/traces", content=body, headers=PB).status_code == 200
        assert store.wal.stats().segments == 3  # each request filled a segment of 1 MiB
    assert _count(ch, service_name) == 600  # and every request stored once it moved on (at shutdown)


def test_inserts_as_large_as_a_segment_are_pointed_out_at_start_up(storage_url, caplog):
    with caplog.at_level("WARNING", logger="hopscope.collector"):
        create_app(make_settings(storage_url, insert_max_bytes=48 * 1024**2))
    assert "goes in as one INSERT, on one of the 2 lanes" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="hopscope.collector"):
        create_app(make_settings(storage_url, insert_max_bytes=48 * 1024**2, wal_segment_bytes=64 * 1024**2))
        create_app(make_settings(storage_url, insert_max_bytes=48 * 1024**2, insert_lanes=1))
        create_app(make_settings(storage_url))
    assert "HOPSCOPE_INSERT_MAX_BYTES" not in caplog.text


def test_logs_with_structured_body(collector, ch, service_name):
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service_name))
    record = rl.scope_logs.add().log_records.add(time_unix_nano=NOW, severity_number=9, severity_text="INFO")
    record.body.kvlist_value.values.add(key="user", value=AnyValue(string_value="ada"))
    record.attributes.add(key="http.status_code", value=AnyValue(int_value=503))
    assert collector.post("/v1/logs", content=request.SerializeToString(), headers=PB).status_code == 200
    rows = ch.query(
        "SELECT Body, SeverityText, SeverityNumber, LogAttributes FROM otel_logs WHERE ServiceName = {s:String}",
        parameters={"s": service_name},
    ).result_rows
    assert rows == [('{"user":"ada"}', "INFO", 9, {"http.status_code": "503"})]


def test_health_and_readiness(collector):
    assert collector.get("/healthz").json() == {"status": "ok"}
    assert collector.get("/readyz").json()["status"] == "ready"


def test_openapi_documents_the_receivers(collector):
    paths = collector.get("/openapi.json").json()["paths"]
    assert {"/v1/traces", "/v1/logs", "/v1/metrics", "/healthz", "/readyz"} <= set(paths)
