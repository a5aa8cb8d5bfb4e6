"""OTLP messages to rows: values as the ClickHouse exporter writes them."""

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.attributes import any_value_to_str, attributes_to_map

TRACE_ID = bytes.fromhex("5b8efff798038103d269b633813fc60c")
SPAN_ID = bytes.fromhex("eee19b7ec3c1b174")


def test_attribute_values_become_strings_like_the_exporter():
    cases = [
        (AnyValue(string_value="GET"), "GET"),
        (AnyValue(int_value=-42), "-42"),
        (AnyValue(bool_value=True), "true"),
        (AnyValue(double_value=1.5), "1.5"),
        (AnyValue(double_value=3.0), "3"),
        (AnyValue(bytes_value=b"\x01\x02"), "AQI="),
        (AnyValue(), ""),
    ]
    for value, expected in cases:
        assert any_value_to_str(value) == expected
    array = AnyValue()
    array.array_value.values.add(int_value=1)
    array.array_value.values.add(string_value="a")
    assert any_value_to_str(array) == '[1,"a"]'
    kv = AnyValue()
    kv.kvlist_value.values.add(key="k", value=AnyValue(bool_value=False))
    assert any_value_to_str(kv) == '{"k":false}'
    assert attributes_to_map([KeyValue(key="a", value=AnyValue(int_value=1))]) == {"a": "1"}


def _request_with_span(**fields) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value="checkout"))
    ss = rs.scope_spans.add()
    ss.scope.name, ss.scope.version = "lib", "1.2"
    span = ss.spans.add(
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        name="GET /cart",
        kind=3,
        start_time_unix_nano=1_000,
        end_time_unix_nano=5_500,
    )
    for key, value in fields.items():
        setattr(span, key, value)
    return request


def test_span_row_uses_hex_ids_and_exporter_names():
    request = _request_with_span()
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.status.code, span.status.message = 2, "boom"
    event = span.events.add(time_unix_nano=2_000, name="exception")
    event.attributes.add(key="exception.type", value=AnyValue(string_value="ValueError"))
    span.links.add(trace_id=TRACE_ID, span_id=bytes.fromhex("0102030405060708"), trace_state="a=b")
    batch, rejected = spans_to_batch(request)
    row = {name: values[0] for name, values in batch.columns.items()}
    assert rejected.count == 0
    assert row["TraceId"] == TRACE_ID.hex() and row["SpanId"] == SPAN_ID.hex() and row["ParentSpanId"] == ""
    assert (row["SpanKind"], row["StatusCode"], row["StatusMessage"]) == ("Client", "Error", "boom")
    assert (row["ServiceName"], row["ScopeName"], row["ScopeVersion"]) == ("checkout", "lib", "1.2")
    assert (row["Timestamp"], row["Duration"]) == (1_000, 4_500)
    assert row["Events.Name"] == ["exception"] and row["Events.Timestamp"] == [2_000]
    assert row["Events.Attributes"] == [{"exception.type": "ValueError"}]
    assert row["Links.SpanId"] == ["0102030405060708"] and row["Links.TraceState"] == ["a=b"]


def test_spans_with_bad_ids_are_rejected_one_by_one():
    request = _request_with_span()
    spans = request.resource_spans[0].scope_spans[0].spans
    spans.add(trace_id=b"\x00" * 16, span_id=SPAN_ID)  # all-zero trace id
    spans.add(trace_id=TRACE_ID, span_id=b"\x01\x02")  # short span id
    spans.add(trace_id=TRACE_ID, span_id=SPAN_ID, parent_span_id=b"\x01")  # bad parent
    batch, rejected = spans_to_batch(request)
    assert batch.rows == 1
    assert rejected.count == 3
    assert "trace id" in rejected.message and "span id" in rejected.message


def test_unknown_enum_values_do_not_break_conversion():
    batch, _ = spans_to_batch(_request_with_span(kind=42))
    assert batch.columns["SpanKind"] == ["Unspecified"]


def test_log_rows_fall_back_to_observed_time_and_keep_structured_bodies():
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value="ledger"))
    sl = rl.scope_logs.add()
    plain = sl.log_records.add(
        time_unix_nano=10, severity_number=17, severity_text="ERROR", flags=1, trace_id=TRACE_ID, span_id=SPAN_ID
    )
    plain.body.string_value = "db timeout"
    structured = sl.log_records.add(observed_time_unix_nano=20)
    structured.body.kvlist_value.values.add(key="order", value=AnyValue(int_value=7))
    sl.log_records.add(trace_id=b"\x01\x02\x03")  # malformed
    batch, rejected = logs_to_batch(request)
    cols = batch.columns
    assert rejected.count == 1
    assert cols["Timestamp"] == [10, 20]
    assert cols["Body"] == ["db timeout", '{"order":7}']
    assert cols["SeverityNumber"] == [17, 0] and cols["SeverityText"] == ["ERROR", ""]
    assert cols["TraceId"] == [TRACE_ID.hex(), ""] and cols["TraceFlags"] == [1, 0]
    assert cols["ServiceName"] == ["ledger", "ledger"]


def test_every_metric_type_lands_in_its_table():
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value="payment"))
    sm = rm.scope_metrics.add()
    sm.metrics.add(name="g").gauge.data_points.add(as_int=5, time_unix_nano=1)
    s = sm.metrics.add(name="s").sum
    s.is_monotonic, s.aggregation_temporality = True, 2
    s.data_points.add(as_double=2.5, time_unix_nano=1)
    h = sm.metrics.add(name="h").histogram
    hp = h.data_points.add(count=3, sum=6.0, bucket_counts=[1, 2], explicit_bounds=[1.0], min=1.0, max=3.0)
    hp.exemplars.add(as_double=2.0, trace_id=TRACE_ID, span_id=SPAN_ID, time_unix_nano=9)
    e = sm.metrics.add(name="e").exponential_histogram
    ep = e.data_points.add(count=2, scale=3, zero_count=1)
    ep.positive.offset, ep.positive.bucket_counts[:] = -1, [1, 0, 1]
    q = sm.metrics.add(name="q").summary.data_points.add(count=4, sum=10.0)
    q.quantile_values.add(quantile=0.5, value=2.0)
    sm.metrics.add(name="no-data")  # no data field: nothing stored, nothing breaks
    batches, rejected = metrics_to_batches(request)
    by_table = {b.table: b.columns for b in batches}
    assert rejected.count == 0
    assert by_table["otel_metrics_gauge"]["Value"] == [5.0]
    assert by_table["otel_metrics_sum"]["IsMonotonic"] == [True]
    assert by_table["otel_metrics_sum"]["AggregationTemporality"] == [2]
    assert by_table["otel_metrics_histogram"]["BucketCounts"] == [[1, 2]]
    assert by_table["otel_metrics_histogram"]["Exemplars.TraceId"] == [[TRACE_ID.hex()]]
    assert by_table["otel_metrics_histogram"]["Max"] == [3.0]
    assert by_table["otel_metrics_exp_histogram"]["PositiveOffset"] == [-1]
    assert by_table["otel_metrics_exp_histogram"]["PositiveBucketCounts"] == [[1, 0, 1]]
    assert by_table["otel_metrics_summary"]["ValueAtQuantiles.Quantile"] == [[0.5]]
    assert all(cols["ServiceName"][0] == "payment" for cols in by_table.values())


def test_timestamps_beyond_datetime64_are_rejected_per_record():
    request = _request_with_span()
    spans = request.resource_spans[0].scope_spans[0].spans
    spans.add(trace_id=TRACE_ID, span_id=bytes.fromhex("0102030405060708"), start_time_unix_nano=2**64 - 1)
    late_event = spans.add(trace_id=TRACE_ID, span_id=bytes.fromhex("0102030405060709"))
    late_event.events.add(time_unix_nano=2**63)
    batch, rejected = spans_to_batch(request)
    assert batch.rows == 1 and rejected.count == 2
    assert "out of range" in rejected.message

    logs = ExportLogsServiceRequest()
    logs.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=2**63)
    assert logs_to_batch(logs)[1].count == 1

    metrics = ExportMetricsServiceRequest()
    gauge = metrics.resource_metrics.add().scope_metrics.add().metrics.add(name="g").gauge
    gauge.data_points.add(as_int=1, time_unix_nano=2**64 - 2)
    gauge.data_points.add(as_int=2, time_unix_nano=5)
    batches, rejected = metrics_to_batches(metrics)
    assert rejected.count == 1 and batches[0].columns["Value"] == [2.0]


def _gauges(request, window):
    from storage.model import metrics_to_batches

    [batch], rejected = metrics_to_batches(request, window)
    return batch, rejected


def test_the_receivers_checks_refuse_exactly_what_the_converters_refuse():
    """drop_invalid_* (what runs before ClickHouse converts a request) and the Python converters
    refuse the same records, with a tight fast path in front of the full rule."""
    import random
    import time

    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    from storage.model import logs_to_batch, spans_to_batch
    from storage.model.attributes import MAX_NANOS, TimeWindow
    from storage.model.logs import drop_invalid_records
    from storage.model.metrics import drop_invalid_points
    from storage.model.traces import drop_invalid_spans

    rnd = random.Random(3)
    now = time.time_ns()
    window = TimeWindow.around(now, 7)
    ids16 = [rnd.randbytes(16), b"", bytes(16), rnd.randbytes(15), rnd.randbytes(17)]
    ids8 = [rnd.randbytes(8), b"", bytes(8), rnd.randbytes(7)]
    times = [now - 10**9, 0, now - 30 * 86_400 * 10**9, now + 2 * 86_400 * 10**9, MAX_NANOS + 1, window.earliest_ns]
    spans, logs, metrics = ExportTraceServiceRequest(), ExportLogsServiceRequest(), ExportMetricsServiceRequest()
    scope = spans.resource_spans.add().scope_spans.add()
    log_scope = logs.resource_logs.add().scope_logs.add()
    gauge = metrics.resource_metrics.add().scope_metrics.add().metrics.add(name="g").gauge
    for i in range(600):
        span = scope.spans.add(trace_id=rnd.choice(ids16), span_id=rnd.choice(ids8), parent_span_id=rnd.choice(ids8),
                               start_time_unix_nano=rnd.choice(times), end_time_unix_nano=rnd.choice(times), name=str(i))  # fmt: skip
        if rnd.random() < 0.2:
            span.events.add(time_unix_nano=rnd.choice(times))
        if rnd.random() < 0.2:
            span.links.add(trace_id=rnd.choice(ids16), span_id=rnd.choice(ids8))
        log_scope.log_records.add(trace_id=rnd.choice(ids16), span_id=rnd.choice(ids8), time_unix_nano=rnd.choice(times),
                                  observed_time_unix_nano=rnd.choice(times), severity_text=str(i))  # fmt: skip
        point = gauge.data_points.add(
            time_unix_nano=rnd.choice(times), start_time_unix_nano=rnd.choice(times), as_int=i
        )
        if rnd.random() < 0.2:
            point.exemplars.add(trace_id=rnd.choice(ids16), span_id=rnd.choice(ids8), time_unix_nano=rnd.choice(times))
    for request, check, convert, key in (
        (spans, drop_invalid_spans, spans_to_batch, "SpanName"),
        (logs, drop_invalid_records, logs_to_batch, "SeverityText"),
        (metrics, drop_invalid_points, _gauges, "Value"),
    ):
        batch, refused = convert(request, window)
        checked = type(request)()
        checked.CopyFrom(request)
        kept, rejected = check(checked, window)
        assert 0 < kept < 600 and rejected.count == refused.count == 600 - kept
        again, none = convert(checked, window)
        assert none.count == 0 and again.columns[key] == batch.columns[key]
