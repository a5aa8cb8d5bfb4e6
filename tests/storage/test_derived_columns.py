"""The "failed", "peer", HTTP- and gRPC-status rules exist twice: in Python (`analysis.chains`,
used on spans read with their attributes, as trace detail does) and in SQL (migrations 004, 007
and 017, the columns /failures and alerting read). Both must say the same for every span of the
scenario library and for the edge cases below."""

from __future__ import annotations

import os
import time

from analysis.chains import endpoints, grpc_status, http_status, is_failed, peer
from storage.model.from_rows import ANALYSIS_COLUMNS, analysis_span_from_row
from storage.trace_reader import TraceReader
from tests.analysis.scenarios import ERROR, OK, SCENARIOS, S, to_request

PB = {"Content-Type": "application/x-protobuf"}

EDGE_CASES = [
    S("both-codes", "web", "GET /", attrs={"http.response.status_code": 200, "http.status_code": 502}),
    S("ok-500", "web", "GET /", status=OK, attrs={"http.response.status_code": 500}),
    S("client-500", "web", "GET", kind="Client", attrs={"http.response.status_code": 500}),
    S("not-a-number", "web", "GET /", attrs={"http.status_code": "5xx"}),
    S("url-peer", "web", "GET", kind="Client", attrs={"url.full": "http://ledger:8080/entries?x=1"}),
    S("old-url-peer", "web", "GET", kind="Client", attrs={"http.url": "https://user@pay.example/x"}),
    S("nothing-known", "web", "call", kind="Client"),
    S("producer", "web", "publish", kind="Producer", attrs={"messaging.destination.name": "orders"}),
    S("server-with-peer-attrs", "web", "GET /", attrs={"server.address": "10.0.0.1"}),
    S("peer-order", "web", "q", kind="Client", attrs={"server.address": "db-host", "db.system": "mysql"}),
    S("error-and-ok-http", "web", "GET /", status=ERROR, attrs={"http.response.status_code": 200}),
    S("grpc-server-internal", "rpc", "svc.Do", attrs={"rpc.grpc.status_code": 13}),
    S("grpc-server-not-found", "rpc", "svc.Do", attrs={"rpc.grpc.status_code": 5}),
    S("grpc-client-not-found", "rpc", "svc.Do", kind="Client", attrs={"rpc.grpc.status_code": 5}),
    S("grpc-client-ok", "rpc", "svc.Do", kind="Client", attrs={"rpc.grpc.status_code": 0}),
    S("grpc-ok-status", "rpc", "svc.Do", kind="Client", status=OK, attrs={"rpc.grpc.status_code": 14}),
    S("grpc-as-text", "rpc", "svc.Do", kind="Client", attrs={"rpc.grpc.status_code": "UNAVAILABLE"}),
    S("grpc-too-big", "rpc", "svc.Do", kind="Client", attrs={"rpc.grpc.status_code": "99999"}),
    S("grpc-empty", "rpc", "svc.Do", kind="Client", attrs={"rpc.grpc.status_code": ""}),
    S("client-404", "web", "GET", kind="Client", attrs={"http.status_code": 404}),
    S("internal-500", "web", "work", kind="Internal", attrs={"http.status_code": 500}),
    S("address-and-port", "web", "GET", kind="Client", attrs={"server.address": "10.0.0.7", "server.port": 38871}),
    S("old-address-port", "web", "GET", kind="Client", attrs={"net.peer.name": "ledger", "net.peer.port": 8080}),
    S("url-with-port", "web", "GET", kind="Client", attrs={"http.url": "http://127.0.0.1:38871/entries"}),
    S("server-host-header", "ledger", "POST /e", attrs={"http.host": "127.0.0.1:38871", "net.host.port": 38871}),
    S(
        "server-new-semconv",
        "ledger",
        "POST /e",
        attrs={"server.address": "ledger", "server.port": 8080, "url.full": "http://ledger:8080/e"},
    ),
    S("server-net-host", "ledger", "POST /e", attrs={"net.host.name": "10.0.0.7", "net.host.port": 8080}),
    S("server-nothing", "ledger", "POST /e"),
]


def test_python_and_sql_rules_agree_on_every_span(collector, ch):
    trace_ids = []
    cases = [scenario.spans for scenario in SCENARIOS] + [EDGE_CASES]
    for spans in cases:
        trace_id = os.urandom(16).hex()
        body = to_request(spans, trace_id, time.time_ns() - 60 * 10**9).SerializeToString()
        assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
        trace_ids.append(trace_id)

    reader = TraceReader(ch)
    compared = 0
    for trace_id in trace_ids:
        with_attributes = {s.span_id: s for s in reader.get_trace(trace_id)}
        rows = ch.query(
            f"SELECT {ANALYSIS_COLUMNS} FROM otel_traces WHERE TraceId = {{t:String}}", parameters={"t": trace_id}
        ).result_rows
        for row in rows:
            derived = analysis_span_from_row(row)
            span = with_attributes[derived.span_id]
            where = f"{span.service} {span.name} {span.kind} {span.attributes}"
            assert is_failed(span) == is_failed(derived), where
            assert peer(span) == peer(derived), where
            assert endpoints(span) == endpoints(derived), where
            assert http_status(span) == http_status(derived), where
            assert grpc_status(span) == grpc_status(derived), where
            compared += 1
    assert compared >= sum(len(spans) for spans in cases)
    spans = reader.get_trace(trace_ids[-1])
    assert {peer(s) for s in spans if s.kind == "Client" and s.name == "GET"} >= {
        "10.0.0.7:38871",
        "ledger:8080",
        "127.0.0.1:38871",
    }  # fmt: skip  (an address is never cut short of its port)
    assert {e for s in spans for e in endpoints(s)} == {"127.0.0.1:38871", "ledger:8080", "10.0.0.7:8080", "10.0.0.1"}
