"""Fuzzing in the suite: every query API operation from the OpenAPI description with generated
parameters and bodies (schemathesis), and a generated corpus of malformed OTLP requests over HTTP
and gRPC. Whatever comes in, no answer is a 5xx and the collector keeps serving."""

from __future__ import annotations

import base64
import gzip
import json
import random
import time

import grpc
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber

from collector.main import create_app
from hopscope_cli.collector_process import CollectorProcess
from tests.conftest import StoringClient, make_settings


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory, storage_url, ch):
    app = create_app(make_settings(storage_url, data_dir=tmp_path_factory.mktemp("fuzz") / "data", ingest_workers=0))
    with StoringClient(app) as client:  # runs the lifespan: storage open for the whole module
        yield client


@pytest.mark.slow
def test_every_api_operation_answers_without_a_server_error(tmp_path):
    with CollectorProcess(tmp_path / "data") as collector:
        api = schemathesis.openapi.from_url(collector.url + "/openapi.json").include(path_regex="^/api/v1/")
        calls: list[int] = []
        failures = _fuzz_operations(api, collector.url, calls)
    assert len(calls) >= 200, len(calls)  # a few hundred generated requests across every operation
    assert not failures, failures[:10]


def _fuzz_operations(api, url: str, calls: list[int]) -> list[str]:
    failures: list[str] = []
    for operation in api.get_all_operations():
        op = operation.ok()

        @settings(max_examples=12, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        @given(case=op.as_strategy())
        def check(case):
            response = case.call(base_url=url, headers={"Content-Type": "application/json"})
            calls.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} {case.query} -> {response.status_code}")

        check()
    return failures


def _valid_requests() -> list[tuple[str, bytes]]:
    now = time.time_ns()
    traces = ExportTraceServiceRequest()
    rs = traces.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="fuzz"))
    span = rs.scope_spans.add().spans.add(trace_id=b"\x11" * 16, span_id=b"\x22" * 8, name="op",
                                          start_time_unix_nano=now, end_time_unix_nano=now + 5)  # fmt: skip
    span.attributes.add(key="k", value=AnyValue(int_value=7))
    span.events.add(name="exception", time_unix_nano=now)
    logs = ExportLogsServiceRequest()
    record = logs.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=now)
    record.severity_number = SeverityNumber.SEVERITY_NUMBER_ERROR
    record.body.string_value = "boom"
    metrics = ExportMetricsServiceRequest()
    metric = metrics.resource_metrics.add().scope_metrics.add().metrics.add(name="m")
    metric.sum.data_points.add(time_unix_nano=now, as_int=1)
    metric.sum.aggregation_temporality = 2
    return [("traces", traces.SerializeToString()), ("logs", logs.SerializeToString()),
            ("metrics", metrics.SerializeToString())]  # fmt: skip


def _mutations(rng: random.Random, body: bytes) -> list[bytes]:
    out = [body[: rng.randrange(len(body) + 1)], bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))]
    flipped = bytearray(body)
    for _ in range(rng.randrange(1, 6)):
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
    out.append(bytes(flipped))
    out.append(body + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16))))
    out.append(b"\x0a\xff\xff\xff\xff\x0f" + body)  # a length prefix far past the end
    return out


def _json_mutations(rng: random.Random, signal: str) -> list[bytes]:
    key = {"traces": "resourceSpans", "logs": "resourceLogs", "metrics": "resourceMetrics"}[signal]
    oddities = [1e400, -1, 2**70, "x" * 50, None, [], {}, True, "ff" * 40, -1e308, "NaN"]
    documents = [
        {key: [{"scopeSpans": [{"spans": [{"traceId": rng.choice(oddities), "kind": rng.choice(oddities)}]}]}]},
        {key: [{"scopeLogs": [{"logRecords": [{"severityNumber": rng.choice(oddities), "body": rng.choice(oddities)}]}]}]},
        {key: [{"scopeMetrics": [{"metrics": [{"name": "m", "gauge": {"dataPoints": [
            {"asDouble": rng.choice(oddities), "timeUnixNano": rng.choice(oddities)}]}}]}]}]},
        {key: rng.choice(oddities)},
        rng.choice(oddities),
    ]  # fmt: skip
    out = [json.dumps(d).replace("Infinity", "1e400").encode() for d in documents]
    out.append(b"[" * 5000 + b"]" * 5000)
    out.append(b'{"' + bytes(rng.randrange(256) for _ in range(20)) + b'": 1}')
    return out


def _corpus(seed: int = 20261122) -> list[tuple[str, bytes, dict[str, str]]]:
    """(signal, body, headers): at least 2,000 cases across protobuf, JSON and gzip."""
    rng = random.Random(seed)
    pb, js = {"Content-Type": "application/x-protobuf"}, {"Content-Type": "application/json"}
    cases = []
    valid = _valid_requests()
    while len(cases) < 2000:
        signal, body = rng.choice(valid)
        for bad in _mutations(rng, body):
            cases.append((signal, bad, pb))
            zipped = gzip.compress(bad)
            cut = zipped[: rng.randrange(len(zipped) + 1)]
            cases.append(
                (
                    signal,
                    rng.choice([zipped, cut, zipped + b"junk", zipped + zipped]),
                    {**pb, "Content-Encoding": "gzip"},
                )
            )
        for bad in _json_mutations(rng, signal):
            cases.append((signal, bad, js))
        cases.append(
            (signal, base64.b64encode(body), {"Content-Type": rng.choice(["text/plain", "", "application/xml"])})
        )
        cases.append((signal, body, {**pb, "Content-Encoding": rng.choice(["br", "deflate", "gzip, gzip"])}))
    return cases


@pytest.mark.slow
def test_a_malformed_otlp_corpus_over_http_gets_no_server_error(fuzz_app):
    corpus = _corpus()
    assert len(corpus) >= 2000
    seen: dict[int, int] = {}
    client = fuzz_app
    for signal, body, headers in corpus:
        status = client.post(f"/v1/{signal}", content=body, headers=headers).status_code
        seen[status] = seen.get(status, 0) + 1
        assert status < 500, (signal, body[:80], headers, status)
    assert client.get("/healthz").status_code == 200
    assert seen.get(400, 0) > 500 and seen.get(415, 0) > 100, seen  # the corpus does reach the checks


@pytest.mark.slow
def test_a_malformed_otlp_corpus_over_grpc_gets_no_server_error(tmp_path):
    rng = random.Random(7)
    cases = [bad for _ in range(120) for _, body in _valid_requests() for bad in _mutations(rng, body)][:600]
    services = {"traces": "opentelemetry.proto.collector.trace.v1.TraceService",
                "logs": "opentelemetry.proto.collector.logs.v1.LogsService",
                "metrics": "opentelemetry.proto.collector.metrics.v1.MetricsService"}  # fmt: skip
    with (
        CollectorProcess(tmp_path / "data") as collector,
        grpc.insecure_channel(f"127.0.0.1:{collector.grpc_port}") as channel,
    ):
        calls = [channel.unary_unary(f"/{service}/Export", request_serializer=lambda b: b,
                                     response_deserializer=lambda b: b) for service in services.values()]  # fmt: skip
        codes: dict[str, int] = {}
        for i, body in enumerate(cases):
            try:
                calls[i % 3](body, timeout=30, compression=grpc.Compression.Gzip if i % 2 else None)
                code = "OK"
            except grpc.RpcError as exc:
                code = exc.code().name
            codes[code] = codes.get(code, 0) + 1
            assert code not in ("INTERNAL", "UNKNOWN", "DATA_LOSS"), (i, body[:80], code)
        assert collector.proc is not None and collector.proc.poll() is None
    assert codes.get("INVALID_ARGUMENT", 0) > 100, codes
