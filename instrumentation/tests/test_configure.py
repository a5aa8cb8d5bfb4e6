"""`configure()` and `import hopscope.auto` in fresh interpreters, against the SDK's in-memory
exporters and a real local OTLP receiver."""

from __future__ import annotations

import pytest
from conftest import run_python

IN_MEMORY = """
import json, logging
import hopscope
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
spans = InMemorySpanExporter()
reader = InMemoryMetricReader()
handle = hopscope.configure(span_exporter=spans, metric_readers=[reader], instrument=False, {args})
with trace.get_tracer("t").start_as_current_span("work"):
    pass
handle.force_flush()
resource = dict(spans.get_finished_spans()[0].resource.attributes) if spans.get_finished_spans() else {{}}
print(json.dumps({{"resource": {{k: str(v) for k, v in resource.items()}}, "spans": len(spans.get_finished_spans()),
                  "same": hopscope.configure() is handle, "enabled": handle.enabled}}))
"""


def test_resource_attributes_from_arguments_and_environment():
    result, _ = run_python(
        IN_MEMORY.format(args='service_name="checkout", service_version="3.2"'),
        env={"HOPSCOPE_ENVIRONMENT": "staging", "OTEL_RESOURCE_ATTRIBUTES": "team=payments"},
    )
    resource = result["resource"]
    assert resource["service.name"] == "checkout" and resource["service.version"] == "3.2"
    assert resource["deployment.environment"] == "staging" and resource["team"] == "payments"
    assert resource["host.name"] and resource["process.pid"] and resource["telemetry.sdk.language"] == "python"
    assert resource["os.type"] == "linux"
    assert result["spans"] == 1 and result["same"] and result["enabled"]


def test_otel_service_name_beats_hopscope_service_name():
    result, _ = run_python(
        IN_MEMORY.format(args=""), env={"OTEL_SERVICE_NAME": "from-otel", "HOPSCOPE_SERVICE_NAME": "from-hopscope"}
    )
    assert result["resource"]["service.name"] == "from-otel"


def test_disabled_mode_is_a_no_op():
    result, _ = run_python(IN_MEMORY.format(args=""), env={"HOPSCOPE_DISABLED": "1"})
    assert result == {"resource": {}, "spans": 0, "same": True, "enabled": False}


def test_importing_auto_twice_configures_once(sink):
    code = """
    import json, importlib, logging
    import hopscope.auto
    first = hopscope.auto.handle
    importlib.reload(hopscope.auto)  # even a forced re-execution must not configure twice
    import hopscope.auto as again
    from opentelemetry import trace
    with trace.get_tracer("t").start_as_current_span("once"):
        logging.getLogger("app").warning("inside the span")
    print(json.dumps({"same": again.handle is first, "instrumented": list(first.instrumented)}))
    """
    result, _ = run_python(code, env={"HOPSCOPE_ENDPOINT": sink.url, "OTEL_SERVICE_NAME": "twice"})
    assert result["same"]
    assert "logging" in result["instrumented"] and "requests" in result["instrumented"]
    spans = sink.spans()
    assert [span.name for _, span in spans] == ["once"]  # exactly one pipeline, flushed at exit
    assert spans[0][0]["service.name"] == "twice"
    records = sink.log_records()
    assert [r.body.string_value for r in records] == ["inside the span"]
    assert records[0].trace_id == spans[0][1].trace_id and records[0].span_id == spans[0][1].span_id


def test_headers_and_endpoint_reach_the_exporter(sink):
    code = """
    import json, os, hopscope
    from opentelemetry import trace
    handle = hopscope.configure(service_name="svc", endpoint=os.environ["SINK"], headers={"authorization": "Bearer t0k"})
    with trace.get_tracer("t").start_as_current_span("s"):
        pass
    print(json.dumps({"flushed": handle.shutdown()}))
    """
    result, _ = run_python(code, env={"SINK": sink.url})
    assert result["flushed"]
    assert any(h.get("authorization") == "Bearer t0k" for h in sink.headers)
    assert len(sink.spans()) == 1


@pytest.mark.parametrize("mode", ["refused", "blackhole"])
def test_exit_is_delayed_at_most_two_seconds_when_the_collector_is_down(mode):
    code = """
    import json, socket, os, time
    if os.environ["MODE"] == "blackhole":
        server = socket.socket(); server.bind(("127.0.0.1", 0)); server.listen(128)  # accepts, never answers
        port = server.getsockname()[1]
    else:
        probe = socket.socket(); probe.bind(("127.0.0.1", 0)); port = probe.getsockname()[1]; probe.close()
    os.environ["HOPSCOPE_ENDPOINT"] = f"http://127.0.0.1:{port}"
    import hopscope.auto, logging
    from opentelemetry import trace
    for i in range(200):
        with trace.get_tracer("t").start_as_current_span(f"s{i}"):
            logging.getLogger("app").warning("request %d", i)
    print(json.dumps({"at_exit": time.monotonic()}))
    """
    import time

    result, took = run_python(code, env={"MODE": mode})
    exit_delay = time.monotonic() - result["at_exit"]
    assert exit_delay < 2.0, f"exit took {exit_delay:.2f}s after the last line"


def test_full_queue_drops_are_counted_as_a_metric():
    code = """
    import json, threading, hopscope
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    release = threading.Event()

    class Stuck(SpanExporter):  # a collector that never answers
        def export(self, spans):
            release.wait(30)
            return SpanExportResult.FAILURE

    reader = InMemoryMetricReader()
    handle = hopscope.configure(span_exporter=Stuck(), metric_readers=[reader], instrument=False)
    for i in range(5000):  # the span queue holds 2048
        with trace.get_tracer("t").start_as_current_span("s"):
            pass
    dropped = 0
    for rm in reader.get_metrics_data().resource_metrics:
        for sm in rm.scope_metrics:
            for m in sm.metrics:
                if m.name == "otel.sdk.processor.span.processed":
                    dropped += sum(p.value for p in m.data.data_points if p.attributes.get("error.type") == "queue_full")
    release.set()
    print(json.dumps({"dropped": dropped}))
    """
    result, _ = run_python(code)
    assert result["dropped"] >= 5000 - 2048 - 512  # all but the queue and one in-flight batch


def test_trace_context_and_baggage_are_propagated():
    code = """
    import json, hopscope
    from opentelemetry import baggage, context, propagate, trace
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    hopscope.configure(span_exporter=InMemorySpanExporter(), instrument=False)
    headers = {}
    token = context.attach(baggage.set_baggage("tenant", "shop-eu"))
    with trace.get_tracer("t").start_as_current_span("client") as span:
        propagate.inject(headers)
        sent = format(span.get_span_context().trace_id, "032x")
    context.detach(token)
    received = propagate.extract(headers)
    print(json.dumps({"headers": sorted(headers), "sent": sent, "baggage": baggage.get_baggage("tenant", received),
                      "trace": format(trace.get_current_span(received).get_span_context().trace_id, "032x")}))
    """
    result, _ = run_python(code)
    assert result["headers"] == ["baggage", "traceparent"]
    assert result["trace"] == result["sent"] and result["baggage"] == "shop-eu"
