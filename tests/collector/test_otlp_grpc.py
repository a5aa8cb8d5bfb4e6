"""OTLP/gRPC on its own port, with the OpenTelemetry SDK's own gRPC exporters for all three signals,
and the specification's status codes for bad data and for shedding."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import Compression, OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from hopscope_cli.collector_process import CollectorProcess

pytestmark = pytest.mark.slow


def _request(service: str, n: int, first: int = 1, bad_ids: int = 0) -> trace_service_pb2.ExportTraceServiceRequest:
    request = trace_service_pb2.ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    spans = rs.scope_spans.add().spans
    now = time.time_ns()
    for i in range(first, first + n):
        span_id = b"\x01" if i < first + bad_ids else i.to_bytes(8, "big")
        spans.add(trace_id=i.to_bytes(16, "big"), span_id=span_id, name="op", start_time_unix_nano=now,
                  end_time_unix_nano=now + 1)  # fmt: skip
    return request


@pytest.fixture(scope="module")
def grpc_collector(tmp_path_factory):
    data = tmp_path_factory.mktemp("grpc") / "data"
    with CollectorProcess(data) as collector:
        yield collector


def test_the_sdks_grpc_exporters_deliver_traces_logs_and_metrics(grpc_collector):
    endpoint = f"127.0.0.1:{grpc_collector.grpc_port}"
    resource = Resource.create({"service.name": "grpc-sdk"})
    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        SimpleSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=True, compression=Compression.Gzip))
    )
    with tracer_provider.get_tracer("t").start_as_current_span("checkout"):
        pass
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=endpoint, insecure=True))
    )
    logger_provider.get_logger("grpc-test").emit(
        body="payment declined over grpc", severity_number=SeverityNumber.ERROR, severity_text="ERROR"
    )
    reader = PeriodicExportingMetricReader(
        OTLPMetricExporter(endpoint=endpoint, insecure=True), export_interval_millis=60_000
    )
    meter_provider = MeterProvider(resource=resource, metric_readers=[reader])
    meter_provider.get_meter("m").create_counter("orders.placed").add(3)
    meter_provider.force_flush()
    for provider in (tracer_provider, logger_provider, meter_provider):
        provider.shutdown()
    grpc_collector.wait_stored()
    api = grpc_collector.url + "/api/v1"
    traces = httpx.get(api + "/traces", params={"service": "grpc-sdk", "since": "5m"}).json()["traces"]
    logs = httpx.get(api + "/logs", params={"service": "grpc-sdk", "since": "5m", "q": "declined"}).json()["records"]
    metrics = httpx.get(api + "/metrics", params={"since": "5m"}).json()["metrics"]
    assert [t["root_operation"] for t in traces] == ["checkout"]
    assert [r["body"] for r in logs] == ["payment declined over grpc"]
    assert "orders.placed" in {m["name"] for m in metrics}


def test_partial_success_bad_data_and_gzip(grpc_collector):
    with grpc.insecure_channel(f"127.0.0.1:{grpc_collector.grpc_port}") as channel:
        stub = trace_service_pb2_grpc.TraceServiceStub(channel)
        answer = stub.Export(_request("grpc-partial", 5, first=100, bad_ids=2), timeout=30)
        assert answer.partial_success.rejected_spans == 2 and "span id" in answer.partial_success.error_message
        zipped = stub.Export(_request("grpc-partial", 3, first=200), timeout=30, compression=grpc.Compression.Gzip)
        assert not zipped.HasField("partial_success") or zipped.partial_success.rejected_spans == 0
        raw = channel.unary_unary("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
                                  request_serializer=lambda b: b, response_deserializer=lambda b: b)  # fmt: skip
        with pytest.raises(grpc.RpcError) as bad:
            raw(b"\xff\xff\xff not a protobuf", timeout=30)
        assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    grpc_collector.wait_stored()
    assert _traces(grpc_collector, "grpc-partial") == 6  # 3 good of the first request, 3 of the gzip one


def _traces(collector: CollectorProcess, service: str) -> int:
    """How many traces of `service` the collector's query API finds."""
    params = {"service": service, "since": "5m", "limit": 100}
    return len(httpx.get(collector.url + "/api/v1/traces", params=params).json()["traces"])


def test_shedding_answers_unavailable_with_a_short_retry_delay(tmp_path):
    env = {"HOPSCOPE_INFLIGHT_MAX_BYTES": "1024", "HOPSCOPE_INGEST_WORKERS": "1"}
    payload = _request("grpc-flood", 5000)

    async def flood(port: int) -> list[grpc.aio.AioRpcError | None]:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = trace_service_pb2_grpc.TraceServiceStub(channel)

            async def one():
                try:
                    await stub.Export(payload, timeout=30)
                    return None
                except grpc.aio.AioRpcError as exc:
                    return exc

            return await asyncio.gather(*(one() for _ in range(16)))

    with CollectorProcess(tmp_path / "data", env=env) as collector:
        outcomes = asyncio.run(flood(collector.grpc_port))
    refused = [e for e in outcomes if e is not None]
    assert refused and len(refused) < len(outcomes)
    for error in refused:
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        details = dict(error.trailing_metadata() or ())["grpc-status-details-bin"]
        status = status_pb2.Status.FromString(details)
        retry = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(retry) and 0 < retry.retry_delay.seconds <= 2


_AUTO = """
import hopscope.auto  # noqa: F401
from opentelemetry import trace
with trace.get_tracer("t").start_as_current_span("over-grpc"):
    pass
"""


def test_hopscope_auto_speaks_grpc_when_told(grpc_collector):
    env = {
        **os.environ,
        "OTEL_SERVICE_NAME": "auto-grpc",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{grpc_collector.grpc_port}",
    }
    done = subprocess.run([sys.executable, "-c", _AUTO], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    grpc_collector.wait_stored()
    assert _traces(grpc_collector, "auto-grpc") == 1
