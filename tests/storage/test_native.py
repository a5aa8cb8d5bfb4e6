import time

import pytest

from storage.batch import ColumnBatch
from storage.native import NativeEncoder, read_schema

NOW = time.time_ns()


def test_schema_is_read_from_the_server(ch):
    schema = read_schema(ch, ["otel_traces", "otel_logs"])
    assert schema["otel_traces"]["SpanAttributes"] == "Map(LowCardinality(String), String)"
    assert schema["otel_logs"]["Timestamp"] == "DateTime64(9)"


def test_blocks_concatenate_into_one_insert_with_exact_values(ch, service_name):
    encoder = NativeEncoder(read_schema(ch, ["otel_traces"]))

    def batch(span_ids, attrs):
        n = len(span_ids)
        return ColumnBatch("otel_traces", {
            "Timestamp": [NOW + i for i in range(n)], "TraceId": ["ab" * 16] * n, "SpanId": span_ids,
            "ServiceName": [service_name] * n, "SpanAttributes": attrs, "Duration": [7] * n,
            "Events.Timestamp": [[NOW + 1]] * n, "Events.Name": [["exception"]] * n,
            "Events.Attributes": [[{"exception.type": "E"}]] * n,
        })  # fmt: skip

    first = encoder.encode(batch(["01" * 8, "02" * 8], [{"a": "1"}, {}]))
    second = encoder.encode(batch(["03" * 8], [{"b": "x"}]))
    assert first.columns == second.columns and (first.rows, second.rows) == (2, 1)
    ch.raw_insert("otel_traces", first.columns, insert_block=first.data + second.data, fmt="Native")
    rows = ch.query(
        "SELECT SpanId, SpanAttributes, toUnixTimestamp64Nano(Timestamp), Events.Attributes FROM otel_traces "
        "WHERE ServiceName = {s:String} ORDER BY SpanId",
        parameters={"s": service_name},
    ).result_rows
    assert rows == [
        ("01" * 8, {"a": "1"}, NOW, [{"exception.type": "E"}]),
        ("02" * 8, {}, NOW + 1, [{"exception.type": "E"}]),
        ("03" * 8, {"b": "x"}, NOW, [{"exception.type": "E"}]),
    ]


def test_unknown_column_is_a_clear_error(ch):
    encoder = NativeEncoder(read_schema(ch, ["otel_logs"]))
    with pytest.raises(ValueError, match="no column"):
        encoder.encode(ColumnBatch("otel_logs", {"Nope": [1]}))
