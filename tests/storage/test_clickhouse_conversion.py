"""ClickHouse converts OTLP itself (migrations 014–016): it must write exactly the rows the Python
conversion (storage.model) writes, column by column, for every request of the corpus, and refuse
with HOPSCOPE_PYTHON_PATH what it does not reproduce (those requests take the Python conversion).

Runs in a database of its own, emptied before each request, so every row read back is the request's."""

from __future__ import annotations

import uuid

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from storage.inserter import PYTHON_PATH
from storage.migrations import migrate
from storage.model import logs_to_batch, metrics_to_batches, spans_to_batch
from storage.model.logs import LOG_COLUMNS
from storage.model.metrics import METRIC_COLUMNS
from storage.model.traces import TRACE_COLUMNS
from storage.otlp_schema import LANDING_TABLES, delimited, insert_settings
from tests.storage import node_corpus
from tests.storage.corpus import corpus

# Timestamps as integer nanoseconds (result_rows would cut them to microseconds).
_STORED = {
    "otel_traces": """
        SELECT toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind,
               ServiceName, ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode,
               StatusMessage, arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Name,
               Events.Attributes, Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes
        FROM otel_traces""",
    "otel_logs": """
        SELECT toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, TraceFlags, SeverityText, SeverityNumber,
               ServiceName, Body, ResourceSchemaUrl, ResourceAttributes, ScopeSchemaUrl, ScopeName, ScopeVersion,
               ScopeAttributes, LogAttributes
        FROM otel_logs""",
}
_TABLES = {"traces": {"otel_traces": TRACE_COLUMNS}, "logs": {"otel_logs": LOG_COLUMNS}, "metrics": METRIC_COLUMNS}
_EMPTIED = {
    "traces": ["otel_traces", "otel_traces_trace_id_ts"],
    "logs": ["otel_logs"],
    "metrics": list(METRIC_COLUMNS),
}


def _select(table: str, columns: tuple[str, ...]) -> str:
    """Every column the Python conversion fills, timestamps as integer nanoseconds."""
    if table in _STORED:
        return _STORED[table]
    out = []
    for name in columns:
        quoted = f"`{name}`"
        if name == "Exemplars.TimeUnix":
            out.append(f"arrayMap(t -> toUnixTimestamp64Nano(t), {quoted})")
        elif name.endswith("TimeUnix"):
            out.append(f"toUnixTimestamp64Nano({quoted})")
        else:
            out.append(quoted)
    return f"SELECT {', '.join(out)} FROM {table}"


def _python_batches(signal: str, request) -> dict[str, list[list]]:
    if signal == "metrics":
        batches, rejected = metrics_to_batches(request)
    else:
        batch, rejected = (spans_to_batch if signal == "traces" else logs_to_batch)(request)
        batches = [batch]
    assert rejected.count == 0, "the corpus request holds records the converters refuse"
    out = {}
    for batch in batches:
        names = _TABLES[signal][batch.table]
        rows = [list(row) for row in zip(*(batch.columns[n] for n in names), strict=True)]
        out[batch.table] = sorted(_comparable(rows), key=repr)
    return out


@pytest.fixture(scope="module")
def fresh(storage_url, ch):
    database = "conversion_" + uuid.uuid4().hex[:8]
    ch.command(f"CREATE DATABASE {database}")
    client = clickhouse_connect.get_client(dsn=storage_url, database=database)
    migrate(client, 7)
    return client


def _comparable(value):
    """Maps compared with their order (a Map keeps its pairs in order), lists element by element."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


@pytest.mark.parametrize("entry", corpus(), ids=lambda entry: f"{entry[0]}: {entry[1]}")
def test_clickhouse_writes_exactly_the_rows_python_writes(fresh, entry):
    signal, name, request, python_path = entry
    expected = _python_batches(signal, request)
    for table in _EMPTIED[signal]:
        fresh.command(f"TRUNCATE TABLE {table}")
    landing = LANDING_TABLES[signal]
    settings = insert_settings(landing) | {"insert_deduplication_token": uuid.uuid4().hex}
    try:
        fresh.raw_insert(landing, None, insert_block=delimited(request.SerializeToString()), fmt="Protobuf",
                         settings=settings)  # fmt: skip
    except DatabaseError as exc:
        assert python_path and PYTHON_PATH in str(exc), f"{name}: {exc}"
        return
    assert not python_path, f"{name}: SQL converted a request it was expected to leave to Python"
    for table, columns in _TABLES[signal].items():
        actual = sorted(_comparable([list(row) for row in fresh.query(_select(table, columns)).result_rows]), key=repr)
        want = expected.get(table, [])
        assert len(actual) == len(want), f"{name}: {len(actual)} rows in {table}, Python makes {len(want)}"
        for got, row in zip(actual, want, strict=True):
            for column, g, w in zip(columns, got, row, strict=True):
                assert g == w, f"{name}: {table}.{column} differs: ClickHouse {g!r:.300}, Python {w!r:.300}"


def test_metrics_converted_a_few_rows_at_a_time_are_the_same_rows(fresh):
    """Metrics are converted a block of rows at a time (storage.otlp_schema METRIC_ROWS_PER_BLOCK):
    with blocks of 3 rows, every step of the conversion split, the corpus's metric requests in one
    insert make exactly the rows Python makes of them."""
    requests = [request for signal, _, request, python_path in corpus() if signal == "metrics" and not python_path]
    expected: dict[str, list] = {}
    for request in requests:
        for table, rows in _python_batches("metrics", request).items():
            expected.setdefault(table, []).extend(rows)
    for table in _EMPTIED["metrics"]:
        fresh.command(f"TRUNCATE TABLE {table}")
    settings = insert_settings("otlp_metrics_in") | {
        "max_block_size": 3,
        "insert_deduplication_token": uuid.uuid4().hex,
    }
    body = b"".join(delimited(request.SerializeToString()) for request in requests)
    fresh.raw_insert("otlp_metrics_in", None, insert_block=body, fmt="Protobuf", settings=settings)
    assert sum(len(rows) for rows in expected.values()) > 3 * len(requests)
    for table, columns in _TABLES["metrics"].items():
        actual = sorted(_comparable([list(row) for row in fresh.query(_select(table, columns)).result_rows]), key=repr)
        assert actual == sorted(expected.get(table, []), key=repr), table


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_requests_converted_together_are_the_same_rows(fresh, signal):
    """The inserter sends many requests in one INSERT, and the view converts ~8,000 records at a time
    across them (storage.otlp_schema RECORDS_PER_BLOCK): the corpus's requests of a signal in one
    insert make exactly the rows Python makes of them."""
    requests = [request for s, _, request, python_path in corpus() if s == signal and not python_path]
    expected: dict[str, list] = {}
    for request in requests:
        for table, rows in _python_batches(signal, request).items():
            expected.setdefault(table, []).extend(rows)
    for table in _EMPTIED[signal]:
        fresh.command(f"TRUNCATE TABLE {table}")
    settings = insert_settings(LANDING_TABLES[signal]) | {"insert_deduplication_token": uuid.uuid4().hex}
    body = b"".join(delimited(request.SerializeToString()) for request in requests)
    fresh.raw_insert(LANDING_TABLES[signal], None, insert_block=body, fmt="Protobuf", settings=settings)
    for table, columns in _TABLES[signal].items():
        actual = sorted(_comparable([list(row) for row in fresh.query(_select(table, columns)).result_rows]), key=repr)
        assert len(actual) == len(expected[table]) > 0
        assert actual == sorted(expected[table], key=repr), table


_VIEWS = {"traces": "otlp_traces_in_mv", "logs": "otlp_logs_in_mv", "metrics": "otlp_metrics_in_points_mv"}


def _chunks(fresh, signal: str, bodies: list[bytes]) -> list[tuple[int, float]]:
    """[(rows, chunks of that many)] of the last step of the signal's landing view for one insert of
    `bodies` under the inserter's settings: a probe view runs the view's own ARRAY JOINs, with their
    settings, and records the size of each chunk they emit."""
    view = fresh.query("SELECT as_select FROM system.tables WHERE name = {v:String} AND database = currentDatabase()",
                       parameters={"v": _VIEWS[signal]}).result_rows[0][0]  # fmt: skip
    fresh.command("CREATE TABLE chunk_probe (rows UInt64) ENGINE = Memory")
    fresh.command("CREATE MATERIALIZED VIEW chunk_probe_mv TO chunk_probe AS SELECT blockSize() AS rows "
                  + view[view.index("FROM (SELECT"):])  # fmt: skip
    try:
        landing = LANDING_TABLES[signal]
        settings = insert_settings(landing) | {"insert_deduplication_token": uuid.uuid4().hex}
        fresh.raw_insert(landing, None, insert_block=b"".join(map(delimited, bodies)), fmt="Protobuf",
                         settings=settings)  # fmt: skip
        return fresh.query("SELECT rows, count() / rows FROM chunk_probe GROUP BY rows ORDER BY rows").result_rows
    finally:
        fresh.command("DROP VIEW chunk_probe_mv")
        fresh.command("DROP TABLE chunk_probe")


def _small_request(signal: str, seed: int) -> bytes:
    """A request of five resources of ten records each (one scope each)."""
    from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    if signal == "traces":
        spans = ExportTraceServiceRequest()
        for r in range(5):
            scope = spans.resource_spans.add().scope_spans.add()
            for i in range(10):
                scope.spans.add(trace_id=bytes([seed % 256, r, i]) * 5 + b"\x01", span_id=bytes([r, i]) * 4,
                                name="GET /", start_time_unix_nano=1, end_time_unix_nano=2)  # fmt: skip
        return spans.SerializeToString()
    logs = ExportLogsServiceRequest()
    for _ in range(5):
        scope = logs.resource_logs.add().scope_logs.add()
        for i in range(10):
            scope.log_records.add(time_unix_nano=1 + i).body.string_value = "queue drained"
    return logs.SerializeToString()


@pytest.mark.parametrize("signal", ["traces", "logs"])
def test_small_requests_are_converted_many_at_a_time(fresh, signal):
    """Every chunk of the view's conversion pays a fixed cost (~2.5 ms for spans), so the view must
    take the records of many requests at a time. ClickHouse bounds the rows an ARRAY JOIN emits and
    never splits one row's array: a bound in bodies (~8 MiB of them, until 2026-11-24) made a chunk
    one scope's records; views that stepped through resources, 16 at a time (migration 027, until
    2026-11-25), made a chunk ~15 resources' records: 67 chunks of ≤150 here, 40 µs a span instead of
    ~16. Now the records of whole requests are flattened in one step (migration 029): 200 requests
    of five resources of ten records."""
    chunks = _chunks(fresh, signal, [_small_request(signal, seed) for seed in range(200)])
    assert sum(rows * count for rows, count in chunks) == 10_000
    assert sum(count for _, count in chunks) <= 2, f"chunks (records, how many): {chunks}"


def _metrics_request(seed: int) -> bytes:
    """A request of one resource and one scope of 50 gauges of 4 points each."""
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    metrics = ExportMetricsServiceRequest()
    scope = metrics.resource_metrics.add().scope_metrics.add()
    for m in range(50):
        gauge = scope.metrics.add(name=f"queue.depth.{m}").gauge
        for i in range(4):
            gauge.data_points.add(time_unix_nano=1 + i, as_int=seed).attributes.add(key="shard").value.int_value = i
    return metrics.SerializeToString()


def test_metric_points_are_converted_thousands_at_a_time(fresh):
    """Every chunk of the points' view (migration 023) pays a fixed cost (~13 ms through its steps).
    At 512 rows for every step (until 2026-11-25) an SDK's requests (one resource, dozens of metrics
    of a few points) were converted 512 points at a time: 16 chunks for this insert, at 1.6-1.8 times
    the CPU a point. Now the view takes whole requests ~16,000 points at a time (migration 028) and
    converts their points ~8,000 at a time: 40 requests, 2,000 metrics, 8,000 points."""
    chunks = _chunks(fresh, "metrics", [_metrics_request(seed) for seed in range(40)])
    assert chunks == [(8_000, 1)], f"chunks (points, how many): {chunks}"


def test_the_corpus_holds_what_the_javascript_sdk_sends():
    """The OpenTelemetry JavaScript SDK's requests (tests/storage/node_sdk/emit.mjs) are in the corpus
    above, with what they were written to cover. Node.js is on every machine the suite runs on, and
    scripts/test installs the SDK: without them the corpus would silently lack these requests."""
    why = node_corpus.missing()
    assert why is None, why
    sent = {signal: request for signal, request in node_corpus.requests()}
    assert sent.keys() == {"traces", "logs", "metrics"}
    spans = [s for rs in sent["traces"].resource_spans for ss in rs.scope_spans for s in ss.spans]
    assert {s.kind for s in spans} == {1, 2, 3, 4, 5}  # internal, server, client, producer, consumer
    assert any(s.trace_state == "vendor=opaque,other=1" for s in spans)
    assert any(s.links and s.links[0].attributes for s in spans)
    assert any(e.name == "exception" for s in spans for e in s.events)
    kinds = {a.value.WhichOneof("value") for s in spans for a in s.attributes}
    assert {"string_value", "int_value", "double_value", "bool_value", "array_value"} <= kinds
    bodies = {
        r.body.WhichOneof("value") for rl in sent["logs"].resource_logs for sl in rl.scope_logs for r in sl.log_records
    }
    assert {"string_value", "int_value", "kvlist_value", "array_value", None} <= bodies
    points = {
        m.WhichOneof("data") for rm in sent["metrics"].resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
    assert points == {"sum", "gauge", "histogram", "exponential_histogram"}
    names = {entry[1] for entry in corpus()}
    assert sum(name.startswith("opentelemetry-js ") for name in names) == len(node_corpus.requests())
