import subprocess
import sys
from pathlib import Path

from storage.migrations import applied_versions, is_current, latest_version, load_migrations, migrate

ROOT = Path(__file__).resolve().parents[2]

OTEL_TABLES = [
    "otel_traces",
    "otel_traces_trace_id_ts",
    "otel_traces_trace_id_ts_mv",
    "otel_logs",
    "otel_metrics_gauge",
    "otel_metrics_sum",
    "otel_metrics_histogram",
    "otel_metrics_exp_histogram",
    "otel_metrics_summary",
]


def _columns(ch, table):
    """The table's ordinary columns (hopscope's own MATERIALIZED ones are checked separately)."""
    rows = ch.query(
        "SELECT name, type FROM system.columns WHERE database = currentDatabase() AND table = {t:String} "
        "AND default_kind != 'MATERIALIZED' ORDER BY position",
        parameters={"t": table},
    ).result_rows
    return dict(rows)


def test_migrations_are_recorded_and_idempotent(ch):
    assert applied_versions(ch) == {m.version for m in load_migrations(7)}
    assert migrate(ch, ttl_days=7) == []  # second run: nothing to do
    assert is_current(ch)
    assert latest_version() == 30


def test_all_exporter_tables_exist(ch):
    names = {r[0] for r in ch.query("SELECT name FROM system.tables WHERE database = currentDatabase()").result_rows}
    assert set(OTEL_TABLES) <= names


def test_traces_table_matches_the_clickhouse_exporter_schema(ch):
    cols = _columns(ch, "otel_traces")
    assert cols == {
        "Timestamp": "DateTime64(9)",
        "TraceId": "String",
        "SpanId": "String",
        "ParentSpanId": "String",
        "TraceState": "String",
        "SpanName": "LowCardinality(String)",
        "SpanKind": "LowCardinality(String)",
        "ServiceName": "LowCardinality(String)",
        "ResourceAttributes": "Map(LowCardinality(String), String)",
        "ScopeName": "String",
        "ScopeVersion": "String",
        "SpanAttributes": "Map(LowCardinality(String), String)",
        "Duration": "UInt64",
        "StatusCode": "LowCardinality(String)",
        "StatusMessage": "String",
        "Events.Timestamp": "Array(DateTime64(9))",
        "Events.Name": "Array(LowCardinality(String))",
        "Events.Attributes": "Array(Map(LowCardinality(String), String))",
        "Links.TraceId": "Array(String)",
        "Links.SpanId": "Array(String)",
        "Links.TraceState": "Array(String)",
        "Links.Attributes": "Array(Map(LowCardinality(String), String))",
    }


def test_table_keys_partitions_and_ttl(ch):
    rows = ch.query(
        "SELECT name, partition_key, sorting_key, create_table_query FROM system.tables "
        "WHERE database = currentDatabase() AND name LIKE 'otel_%'"
    ).result_rows
    info = {name: (part, key, ddl) for name, part, key, ddl in rows}
    assert info["otel_traces"][0] == "toDate(Timestamp)"
    assert info["otel_traces"][1] == "ServiceName, SpanName, toDateTime(Timestamp)"
    assert info["otel_logs"][1] == "ServiceName, TimestampTime, Timestamp"
    assert info["otel_metrics_sum"][1] == "ServiceName, MetricName, Attributes, toUnixTimestamp64Nano(TimeUnix)"
    for table in OTEL_TABLES:
        if not table.endswith("_mv"):
            assert "toIntervalDay(7)" in info[table][2], table
            assert "bloom_filter" in info[table][2], table


def test_metric_tables_carry_exemplars_and_type_columns(ch):
    for table in ("otel_metrics_gauge", "otel_metrics_sum", "otel_metrics_histogram", "otel_metrics_exp_histogram"):
        assert _columns(ch, table)["Exemplars.TraceId"] == "Array(String)", table
    assert _columns(ch, "otel_metrics_sum")["IsMonotonic"] == "Bool"
    assert _columns(ch, "otel_metrics_histogram")["BucketCounts"] == "Array(UInt64)"
    assert _columns(ch, "otel_metrics_exp_histogram")["PositiveBucketCounts"] == "Array(UInt64)"
    assert _columns(ch, "otel_metrics_summary")["ValueAtQuantiles.Quantile"] == "Array(Float64)"


def test_retention_is_written_into_the_ttl():
    ddl = " ".join(s for m in load_migrations(30) for s in m.statements)
    assert "toIntervalDay(30)" in ddl and "{ttl_days}" not in ddl


def test_derived_columns_are_materialized_and_hidden_from_select_star(ch):
    kinds = dict(
        ch.query(
            "SELECT name, default_kind FROM system.columns WHERE database = currentDatabase() "
            "AND table = 'otel_traces' AND name LIKE 'Hopscope%'"
        ).result_rows
    )
    assert kinds == {
        "HopscopeFailed": "MATERIALIZED",
        "HopscopePeer": "MATERIALIZED",
        "HopscopePeerType": "MATERIALIZED",
        "HopscopeHttpStatus": "MATERIALIZED",
        "HopscopeGrpcStatus": "MATERIALIZED",
        "HopscopeVersion": "MATERIALIZED",
        "HopscopeEndpoints": "MATERIALIZED",
    }
    names = ch.query("SELECT * FROM otel_traces LIMIT 0").column_names
    assert not [n for n in names if n.startswith("Hopscope")]


def _hopscope(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hopscope_cli", *args], capture_output=True, text=True, timeout=120)


_STAMP_NEWER = """
import sys
import clickhouse_connect
client = clickhouse_connect.get_client(dsn="chdb://" + sys.argv[1])
client.command("INSERT INTO hopscope_schema_migrations (Version, Name) VALUES (999, 'from_the_future')")
"""


def test_dry_run_prints_the_statements_and_a_newer_schema_is_refused(tmp_path):
    data = tmp_path / "data"
    dry = _hopscope("migrate", "--dry-run", "--data-dir", str(data))
    assert dry.returncode == 0 and "CREATE TABLE IF NOT EXISTS otel_traces" in dry.stdout
    assert f"{latest_version()} migrations pending" in dry.stdout and "nothing was changed" in dry.stdout
    applied = _hopscope("migrate", "--data-dir", str(data))
    assert applied.returncode == 0 and f"({latest_version()} migrations applied)" in applied.stdout
    stamp = subprocess.run([sys.executable, "-c", _STAMP_NEWER, str((data / "clickhouse").resolve())], timeout=120)
    assert stamp.returncode == 0
    refused = _hopscope("migrate", "--data-dir", str(data))
    assert refused.returncode == 2 and "newer than this hopscope knows" in refused.stderr
    collector = _hopscope("collector", "--data-dir", str(data), "--port", "0", "--grpc-port", "0")
    assert collector.returncode != 0 and "newer than this hopscope knows" in collector.stdout + collector.stderr


_OLDER_STORE = """
import sys
from storage.connection import connect
from storage.migrations import applied_versions, latest_version, load_migrations, migrate

client = connect("chdb://" + sys.argv[1])
assert applied_versions(client) == set()  # creates the migrations table
for m in load_migrations(7):
    if m.version < BEFORE:
        for statement in m.statements:
            client.command(statement)
        client.command("INSERT INTO hopscope_schema_migrations (Version, Name) VALUES ({v:UInt32}, {n:String})", parameters={"v": m.version, "n": m.name})
"""


def _store_of_an_older_hopscope(before: int) -> str:
    """The start of a script: the store at sys.argv[1] as a hopscope that knew the migrations before
    `before` left it (those applied and recorded), open as `client`."""
    return _OLDER_STORE.replace("BEFORE", str(before))


def _run_on_a_fresh_store(script: str, tmp_path: Path) -> None:
    """Runs `script` in a process of its own (one embedded store per process) on a store under
    `tmp_path`; its assertions fail the test."""
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "clickhouse")], capture_output=True,
                          text=True, timeout=180, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]


# The end of a script: waits for the background MATERIALIZE of TABLE's TraceId projection and checks
# that every active part has it.
_PROJECTION_BUILT = """
deadline = time.monotonic() + 60
while client.query("SELECT count() FROM system.mutations WHERE table = 'TABLE' AND NOT is_done").result_rows[0][0]:
    assert time.monotonic() < deadline, "the projection was not built"
    time.sleep(0.2)
parts = client.query("SELECT count() FROM system.parts WHERE table = 'TABLE' AND active").result_rows[0][0]
built = client.query("SELECT count() FROM system.projection_parts WHERE table = 'TABLE' AND name = 'trace_id_order' AND active").result_rows[0][0]
assert parts >= 1 and built == parts, (parts, built)
"""


_UPGRADE = (
    _store_of_an_older_hopscope(22)
    + """
import time
from storage.trace_reader import TraceReader
for part in range(3):  # parts written before the projection existed
    client.command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName) "
        "SELECT now64(9) - number, 'trace-' || toString(number % 500), toString(number), 'svc', 'op-' || toString({p:UInt8}) "
        "FROM numbers(5000)", parameters={"p": part})
before = TraceReader(client)  # no projection yet: the trace's bounds and the bloom filter find it
assert not before._has_projection() and len(before.spans("trace-7")) == 30
assert [m.version for m in migrate(client, 7)] == list(range(22, latest_version() + 1))
"""
    + _PROJECTION_BUILT.replace("TABLE", "otel_traces")
    + """
reader = TraceReader(client)
assert reader._has_projection()
spans = reader.get_trace("trace-7")
assert sorted(s.name for s in spans) == ["op-0"] * 10 + ["op-1"] * 10 + ["op-2"] * 10, [s.name for s in spans]
"""
)


def test_a_store_written_before_the_trace_id_projection_gets_it_for_its_old_parts(tmp_path):
    _run_on_a_fresh_store(_UPGRADE, tmp_path)


_LOGS_UPGRADE = (
    _store_of_an_older_hopscope(24)
    + """
import time
from storage.log_reader import LogReader
client.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName) "
               "SELECT now64(9) - 60, 'trace-' || toString(number), 'root', 'svc', 'op' FROM numbers(500)")
for part in range(3):  # parts written before the projection existed
    client.command(
        "INSERT INTO otel_logs (Timestamp, TraceId, SpanId, ServiceName, SeverityNumber, Body) "
        "SELECT now64(9) - 60 + {p:UInt8}, 'trace-' || toString(number % 500), 'root', 'svc', 9, 'line ' || toString({p:UInt8}) "
        "FROM numbers(5000)", parameters={"p": part})
before = LogReader(client)  # no projection yet: the trace's bounds and the bloom filter find its logs
assert not before._has_projection()
assert [r.body for r in before.of_trace("trace-7").records] == ["line 0"] * 10 + ["line 1"] * 10 + ["line 2"] * 10
assert [m.version for m in migrate(client, 7)] == list(range(24, latest_version() + 1))
"""
    + _PROJECTION_BUILT.replace("TABLE", "otel_logs")
    + """
reader = LogReader(client)
assert reader._has_projection()
assert [r.body for r in reader.of_trace("trace-7").records] == ["line 0"] * 10 + ["line 1"] * 10 + ["line 2"] * 10
"""
)


def test_a_store_written_before_the_logs_trace_id_projection_gets_it_for_its_old_parts(tmp_path):
    _run_on_a_fresh_store(_LOGS_UPGRADE, tmp_path)


_LINKS_UPGRADE = (
    _store_of_an_older_hopscope(25)
    + """
from core.types import TimeRange
from storage.trace_reader import TraceReader
# A producer's trace, and spans of three consumer traces linking to it (one twice), stored before
# migration 025; one more links to a trace no one asks for.
client.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName) "
               "SELECT now64(9) - 600, 'producer', 'send', 'shop', 'publish'")
client.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, `Links.TraceId`, `Links.SpanId`) "
               "SELECT now64(9) - 590 + number, 'consumer-' || toString(number % 3), toString(number), 'worker', 'process', "
               "[if(number = 3, 'elsewhere', 'producer')], ['send'] FROM numbers(4)")
client.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName) "
               "SELECT now64(9) - number, 'filler-' || toString(number), 'x', 'svc', 'op' FROM numbers(20000)")
assert [m.version for m in migrate(client, 7)] == list(range(25, latest_version() + 1))
now = client.query("SELECT toUnixTimestamp64Nano(now64(9))").result_rows[0][0]
hour = 3600 * 10**9
reader = TraceReader(client)
assert sorted(reader.linking_traces(["producer"], TimeRange(now - hour, now), 10)) == ["consumer-0", "consumer-1", "consumer-2"]
assert reader.linking_traces(["elsewhere"], TimeRange(now - hour, now), 10) == ["consumer-0"]
# Spans stored after the migration are found through its view.
client.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, `Links.TraceId`, `Links.SpanId`) "
               "SELECT now64(9), 'consumer-new', 'c', 'worker', 'process', ['producer'], ['send']")
assert sorted(reader.linking_traces(["producer"], TimeRange(now - hour, now + hour), 10)) == [
    "consumer-0", "consumer-1", "consumer-2", "consumer-new"]
assert client.query("SELECT count() FROM system.data_skipping_indices WHERE table = 'otel_traces' AND name = 'idx_link_trace_id'").result_rows[0][0] == 0
"""
)


def test_links_stored_before_the_links_table_are_found_after_the_upgrade(tmp_path):
    _run_on_a_fresh_store(_LINKS_UPGRADE, tmp_path)


_METRICS_UPGRADE = (
    _store_of_an_older_hopscope(23)
    + """
import uuid
from storage.model.metrics import METRIC_COLUMNS
from storage.otlp_schema import delimited, insert_settings
from tests.storage.corpus import corpus
from tests.storage.test_clickhouse_conversion import _select
bodies = [delimited(request.SerializeToString()) for signal, _, request, python_path in corpus()
          if signal == "metrics" and not python_path]


def land():
    settings = insert_settings("otlp_metrics_in") | {"insert_deduplication_token": uuid.uuid4().hex}
    client.raw_insert("otlp_metrics_in", None, insert_block=bodies, fmt="Protobuf", settings=settings)
    rows = {}
    for table, columns in METRIC_COLUMNS.items():
        rows[table] = sorted((repr(row) for row in client.query(_select(table, columns)).result_rows))
        client.command(f"TRUNCATE TABLE {table}")
    return rows


before = land()  # the five views of migration 016
assert all(before.values()), {t: len(r) for t, r in before.items()}
assert [m.version for m in migrate(client, 7)] == list(range(23, latest_version() + 1))
views = {r[0] for r in client.query("SELECT name FROM system.tables WHERE engine = 'MaterializedView'").result_rows}
assert "otlp_metrics_in_points_mv" in views and "otlp_metrics_in_gauge_mv" not in views, views
after = land()  # one conversion, then five views sorting its rows
for table in METRIC_COLUMNS:
    assert after[table] == before[table], table
"""
)


def test_a_store_upgraded_to_one_metric_conversion_writes_the_same_rows(tmp_path):
    """Migration 023 replaces 016's five metric views: the same requests give the same rows before
    and after it, in every metric table."""
    _run_on_a_fresh_store(_METRICS_UPGRADE, tmp_path)


# Inserts of ~15 MB of columns (over ClickHouse's 10 MiB default for a wide part) into the spans' and
# the log records' tables of a store before migration 026 and after it; the format of each part:
# an insert's spans compact after it, log records wide as before, and a merge's spans wide.
_PART_FORMAT = (
    _store_of_an_older_hopscope(26)
    + """
import os


def insert_and_read_formats(tag):
    client.command(
        "INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, SpanAttributes) "
        "SELECT now64(9), toString(number), toString(number), {tag:String}, 'op', map('payload', repeat('x', 600)) "
        "FROM numbers(25000)", parameters={"tag": tag})
    client.command(
        "INSERT INTO otel_logs (Timestamp, ServiceName, Body) "
        "SELECT now64(9), {tag:String}, repeat('y', 600) FROM numbers(25000)", parameters={"tag": tag})
    return {table: client.query(
        f"SELECT p.part_type, p.data_uncompressed_bytes FROM system.parts AS p WHERE p.table = '{table}' AND p.active "
        f"AND p.name IN (SELECT DISTINCT _part FROM {table} WHERE ServiceName = {{tag:String}})",
        parameters={"tag": tag}).result_rows for table in ("otel_traces", "otel_logs")}

def one_part_of(kind, parts):
    return [k for k, _ in parts] == [kind] and parts[0][1] > 10 * 2**20

before = insert_and_read_formats("before")
assert all(one_part_of("Wide", parts) for parts in before.values()), before
assert [m.version for m in migrate(client, 7)] == list(range(26, latest_version() + 1))
after = insert_and_read_formats("after")
assert one_part_of("Compact", after["otel_traces"]) and one_part_of("Wide", after["otel_logs"]), after
files = {kind: sum(len(files) for _, _, files in os.walk(client.query(
             "SELECT path FROM system.parts WHERE table = 'otel_traces' AND active AND part_type = {k:String}",
             parameters={"k": kind}).result_rows[0][0])) for kind in ("Wide", "Compact")}
assert files["Compact"] * 5 < files["Wide"], files
client.command("OPTIMIZE TABLE otel_traces FINAL")
merged = client.query("SELECT part_type, level FROM system.parts WHERE table = 'otel_traces' AND active").result_rows
assert [kind for kind, level in merged if level > 0] == ["Wide"] and len(merged) == 1, merged
"""
)


def test_inserts_are_written_as_compact_parts_after_the_upgrade(tmp_path):
    """Migration 026: an insert's part of spans holds its columns in one file (compact), where
    ClickHouse's default wrote two files per column stream from 10 MiB (~150 files a part); parts
    made by merges stay wide (scans of a few columns read them faster)."""
    _run_on_a_fresh_store(_PART_FORMAT, tmp_path)


# The middle of a script: `chunks_of_an_insert(view, landing, body, last=None)`, the chunks
# [(rows, how many)] that the last ARRAY JOIN of `view` (or the step before `last` in its text) emits
# for one insert of `body` under the inserter's settings (a probe view with the view's own ARRAY
# JOINs and their settings).
_CHUNK_PROBE = """
import uuid
from storage.otlp_schema import insert_settings

def chunks_of_an_insert(view, landing, body, last=None):
    text = client.query("SELECT as_select FROM system.tables WHERE name = {v:String} AND database = currentDatabase()",
                        parameters={"v": view}).result_rows[0][0]
    source = text[text.index("FROM (SELECT"):]
    if last:
        source = source[:source.rindex(last)]
    client.command("CREATE TABLE chunk_probe (rows UInt64) ENGINE = Memory")
    client.command("CREATE MATERIALIZED VIEW chunk_probe_mv TO chunk_probe AS SELECT blockSize() AS rows " + source)
    settings = insert_settings(landing) | {"insert_deduplication_token": uuid.uuid4().hex}
    client.raw_insert(landing, None, insert_block=body, fmt="Protobuf", settings=settings)
    chunks = client.query("SELECT rows, count() / rows FROM chunk_probe GROUP BY rows ORDER BY rows").result_rows
    client.command("DROP VIEW chunk_probe_mv")
    client.command("DROP TABLE chunk_probe")
    return chunks
"""


# A store left by a hopscope before migration 029 (views that step through resources, 16 at a
# time, migration 027), inserts with today's settings: a probe view with the landing view's ARRAY
# JOINs and their settings sees the spans of 40 one-resource requests in chunks of at most 16
# requests before the upgrade, and all 4,000 in one chunk after it; the views still store every span.
_LANDING_CHUNKS = (
    _store_of_an_older_hopscope(29)
    + _CHUNK_PROBE
    + """
import time
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from storage.otlp_schema import delimited

now = time.time_ns()

def request(seed):
    spans = ExportTraceServiceRequest()
    resource = spans.resource_spans.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "svc"
    scope = resource.scope_spans.add()
    for i in range(100):
        scope.spans.add(trace_id=bytes([seed, i]) * 8, span_id=bytes([seed, i]) * 4, name="op",
                        start_time_unix_nano=now, end_time_unix_nano=now + 5)
    return delimited(spans.SerializeToString())

def chunks_of_40_requests():
    body = b"".join(request(seed) for seed in range(40))
    return chunks_of_an_insert("otlp_traces_in_mv", "otlp_traces_in", body)

before = chunks_of_40_requests()
assert [m.version for m in migrate(client, 7)] == list(range(29, latest_version() + 1))
after = chunks_of_40_requests()
stored = client.query("SELECT count() FROM otel_traces WHERE ServiceName = 'svc'").result_rows[0][0]
assert stored == 8000, stored
assert sum(size * n for size, n in before) == 4000 and all(800 <= size <= 1600 for size, _ in before), before
assert after == [(4000, 1)], after
"""
)


def test_landing_views_take_whole_requests_thousands_of_records_at_a_time_after_the_upgrade(tmp_path):
    """Migration 029: the landing views flatten the records of whole requests in one step, ~8,000 at
    a time (storage.otlp_schema RECORDS_PER_BLOCK), where 027's views took 16 resources' records at a
    time: requests of one resource and a hundred spans went 16 requests a chunk."""
    _run_on_a_fresh_store(_LANDING_CHUNKS, tmp_path)


# A store left by a hopscope before migration 028, inserts with today's settings (the steps after
# the first ~8,000 rows at a time). Requests of dense metrics (one resource, 100 metrics of 10
# points): a probe view with the points view's steps up to its metrics' (and their settings) sees
# all 4,000 metrics of 40 requests, 40,000 points, built in one chunk before the upgrade, then whole
# requests ~16,000 points at a time. The views still store every point.
_METRIC_CHUNKS = (
    _store_of_an_older_hopscope(28)
    + _CHUNK_PROBE
    + """
import time
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from storage.otlp_schema import delimited

now = time.time_ns()  # within the retention

def request(seed):
    body = ExportMetricsServiceRequest()
    resource = body.resource_metrics.add()
    resource.resource.attributes.add(key="service.name").value.string_value = "svc"
    scope = resource.scope_metrics.add()
    for m in range(100):
        gauge = scope.metrics.add(name=f"queue.depth.{m}").gauge
        for i in range(10):
            point = gauge.data_points.add(time_unix_nano=now + i, as_int=seed)
            point.attributes.add(key="shard").value.int_value = i
    return delimited(body.SerializeToString())

def metrics_a_chunk():
    body = b"".join(request(seed) for seed in range(40))
    return chunks_of_an_insert("otlp_metrics_in_points_mv", "otlp_metrics_in", body, last="ARRAY JOIN points AS point")

before = metrics_a_chunk()
assert [m.version for m in migrate(client, 7)] == list(range(28, latest_version() + 1))
after = metrics_a_chunk()
stored = client.query("SELECT count() FROM otel_metrics_gauge WHERE ServiceName = 'svc'").result_rows[0][0]
assert stored == 80000, stored
assert before == [(4000, 1)], before
assert sum(size * n for size, n in after) == 4000 and max(size for size, _ in after) <= 1700, after
"""
)


def test_points_view_takes_whole_requests_16_000_points_at_a_time_after_the_upgrade(tmp_path):
    """Migration 028: the points' view's first step takes whole requests ~16,000 points at a time (a
    setting of its own) and the insert's max_block_size (storage.otlp_schema METRIC_ROWS_PER_BLOCK)
    bounds the steps after it: requests of dense metrics do not have every point of an INSERT built
    at once, and an SDK's requests are converted thousands of points at a time
    (test_clickhouse_conversion)."""
    _run_on_a_fresh_store(_METRIC_CHUNKS, tmp_path)


# A store left by a hopscope before migration 030: its landing views hold the SQL functions written
# out, every argument copied wherever a function's body names it, and ClickHouse analyses that whole
# text at every insert (the traces view 7,323 lines of query tree, ~100 ms). After the upgrade the
# stored queries are a little over half that; a request with every kind of value still converts.
_COMPACT = (
    _store_of_an_older_hopscope(30)
    + """
import time
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from storage.model.attributes import attributes_to_map, any_value_to_str
from storage.otlp_schema import delimited, insert_settings

VIEWS = ("otlp_traces_in_mv", "otlp_logs_in_mv", "otlp_metrics_in_points_mv")

def tree_lines(view):
    text = client.query("SELECT as_select FROM system.tables WHERE name = {v:String} AND database = currentDatabase()",
                        parameters={"v": view}).result_rows[0][0]
    return len(client.query("EXPLAIN QUERY TREE " + text).result_rows)

before = [tree_lines(view) for view in VIEWS]
assert [m.version for m in migrate(client, 7)] == list(range(30, latest_version() + 1))
after = [tree_lines(view) for view in VIEWS]
assert before[0] > 7000 and before[1] > 5000 and before[2] > 8000, before
assert after[0] < 4500 and after[1] < 3500 and after[2] < 5500, after
functions = {name for (name,) in client.query("SELECT name FROM system.functions WHERE origin = 'SQLUserDefined'").result_rows}
assert "hopscope_value_text" in functions and not functions & {"hopscope_any_json_0", "hopscope_compose_json"}, functions

now = time.time_ns()
value = AnyValue()
value.array_value.values.add().string_value = 'say "hi"'
value.array_value.values.add().double_value = 0.5
value.array_value.values.add().int_value = -3
listed = AnyValue()
entry = listed.kvlist_value.values.add(key="ok")
entry.value.bool_value = True
listed.kvlist_value.values.add(key="raw").value.bytes_value = b"\\x00\\xff"
spans = ExportTraceServiceRequest()
resource = spans.resource_spans.add()
resource.resource.attributes.add(key="service.name").value.string_value = "svc"
span = resource.scope_spans.add().spans.add(trace_id=b"t" * 16, span_id=b"s" * 8, name="op", kind=3,
                                            start_time_unix_nano=now, end_time_unix_nano=now + 5)
span.status.code = 2
for key, v in (("list", value), ("map", listed), ("n", AnyValue(double_value=2.0)), ("s", AnyValue(string_value="é"))):
    span.attributes.add(key=key).value.CopyFrom(v)
logs = ExportLogsServiceRequest()
record = logs.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=now)
record.body.CopyFrom(listed)
for landing, body in (("otlp_traces_in", spans), ("otlp_logs_in", logs)):
    client.raw_insert(landing, None, insert_block=delimited(body.SerializeToString()), fmt="Protobuf",
                      settings=insert_settings(landing))
row = client.query("SELECT SpanAttributes, SpanKind, StatusCode FROM otel_traces WHERE ServiceName = 'svc'").result_rows
assert row == [(attributes_to_map(span.attributes), "Client", "Error")], row
body = client.query("SELECT Body FROM otel_logs").result_rows
assert body == [(any_value_to_str(listed),)], body
"""
)


def test_landing_views_are_analysed_from_compact_queries_after_the_upgrade(tmp_path):
    """Migration 030: the attribute conversion passes a value's fields to lambdas as arrays of their
    own, so the views' stored queries (analysed at every insert) no longer copy its arguments dozens
    of times; span kinds and status codes by `transform`. The rows are the same."""
    _run_on_a_fresh_store(_COMPACT, tmp_path)
