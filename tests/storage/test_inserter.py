"""The inserter against the embedded ClickHouse: exactly once across a crash, one request's bad
data quarantined while everyone else's goes in, an outage ridden out with nothing lost."""

from __future__ import annotations

import math
import time

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from storage.batch import Block
from storage.ingest import row_encoder
from storage.inserter import Inserter
from storage.wal import WriteAheadLog, encode_record

DAY = 86_400 * 10**9


def _logs(service: str, n: int, spread_days: int = 0) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    rl = request.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    now = time.time_ns()
    for i in range(n):
        record = rl.scope_logs.add().log_records.add(time_unix_nano=now - (i * DAY if spread_days else i))
        record.body.string_value = f"line {i}"
    return request


def _count(ch, service: str) -> int:
    sql = "SELECT count() FROM otel_logs WHERE ServiceName = {s:String}"
    return ch.query(sql, parameters={"s": service}).result_rows[0][0]


def test_a_segment_inserted_again_after_a_crash_is_stored_once(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    for _ in range(3):
        wal.append(encoder.rows("logs", _logs(service_name, 10)).blocks).result(5)
    inserter = Inserter(wal, ch)
    [segment] = wal.seal()
    kept = segment.path.read_bytes()
    assert inserter.run_once() and _count(ch, service_name) == 30
    # The crash came between the insert and the removal: the segment is still there at the start.
    segment.path.write_bytes(kept)
    again = WriteAheadLog(tmp_path).open()
    assert len(again.sealed()) == 1
    assert Inserter(again, ch).run_once()
    assert _count(ch, service_name) == 30 and again.stats().records == 0


def test_one_requests_unstorable_rows_are_quarantined_and_the_others_stored(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    innocent = row_encoder(ch, 7)
    careless = row_encoder(ch, 3650)  # lets 150 days through: what the inserter must survive anyway
    wal.append(innocent.rows("logs", _logs(service_name, 5)).blocks).result(5)
    wal.append(careless.rows("logs", _logs(service_name + "-bad", 150, spread_days=150)).blocks).result(5)
    wal.append(innocent.rows("logs", _logs(service_name, 5)).blocks).result(5)
    inserter = Inserter(wal, ch, max_partitions=100)
    inserter.run_once()
    assert _count(ch, service_name) == 10 and _count(ch, service_name + "-bad") == 0
    assert wal.stats().records == 0 and inserter.stats.quarantined_records == 1
    [meta] = (tmp_path / "quarantine").glob("*.json")
    assert "partitions" in meta.read_text().lower()


def test_an_outage_keeps_everything_in_the_log_until_the_store_takes_it(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    inserter = Inserter(wal, ch)
    ch.command("DETACH TABLE otel_logs")
    try:
        for _ in range(4):
            wal.append(encoder.rows("logs", _logs(service_name, 25)).blocks).result(5)
        for _ in range(3):
            assert not inserter.run_once()
        assert wal.stats().records == 4 and inserter.stats.quarantined_records == 0
        assert inserter.stats.store_down_since is not None
    finally:
        ch.command("ATTACH TABLE otel_logs")
    assert inserter.run_once()
    assert _count(ch, service_name) == 100 and wal.stats().records == 0
    assert inserter.stats.store_down_since is None


# -- request bodies ClickHouse converts itself (migration 014) ------------------------------------


def _spans(service: str, n: int, deep: bool = False):
    import os

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    scope = rs.scope_spans.add()
    now = time.time_ns()
    for i in range(n):
        span = scope.spans.add(trace_id=os.urandom(16), span_id=os.urandom(8), name=f"op {i}",
                               start_time_unix_nano=now - 10**9, end_time_unix_nano=now)  # fmt: skip
        if deep:  # an array inside an array: deeper than SQL converts
            inner = span.attributes.add(key="matrix").value.array_value.values.add()
            inner.array_value.values.add(int_value=i)
    return request


def _span_count(ch, service: str) -> tuple[int, int]:
    sql = "SELECT count(), uniqExact(SpanId) FROM otel_traces WHERE ServiceName = {s:String}"
    return ch.query(sql, parameters={"s": service}).result_rows[0]


def test_request_bodies_sql_cannot_convert_take_the_python_conversion_once(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    for i in range(9):
        rows = encoder.rows("traces", _spans(service_name, 20, deep=i == 4))
        assert [b.fmt for b in rows.blocks] == ["Protobuf"]
        wal.append(rows.blocks).result(5)
    inserter = Inserter(wal, ch, python_blocks=encoder.python_blocks, python_below={})
    [segment] = wal.seal()
    kept = segment.path.read_bytes()
    assert inserter.run_once()
    assert _span_count(ch, service_name) == (180, 180)
    assert inserter.stats.python_converted == 1 and inserter.stats.quarantined_records == 0
    sql = "SELECT SpanName, SpanAttributes['matrix'] FROM otel_traces WHERE ServiceName = {s:String} AND SpanAttributes['matrix'] != ''"
    deep = dict(ch.query(sql, parameters={"s": service_name}).result_rows)
    assert len(deep) == 20 and deep["op 3"] == "[[3]]"
    # Crash between the inserts and the removal: the same halving, the same tokens, nothing twice.
    segment.path.write_bytes(kept)
    again = WriteAheadLog(tmp_path).open()
    assert Inserter(again, ch, python_blocks=encoder.python_blocks, python_below={}).run_once()
    assert _span_count(ch, service_name) == (180, 180)


def test_a_body_clickhouse_refuses_does_not_hold_up_the_others(ch, tmp_path, service_name):
    from storage.batch import Block
    from storage.otlp_schema import delimited

    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    wal.append(encoder.rows("traces", _spans(service_name, 5)).blocks).result(5)
    # Accepted by some mistake, unreadable for ClickHouse and for Python: a truncated message.
    broken = encoder.rows("traces", _spans(service_name + "-broken", 5)).blocks[0]
    wal.append([Block(broken.table, (), 5, delimited(broken.data[4:-7]), "Protobuf")]).result(5)
    wal.append(encoder.rows("traces", _spans(service_name, 5)).blocks).result(5)
    inserter = Inserter(wal, ch, python_blocks=encoder.python_blocks, python_below={})
    inserter.run_once()
    assert _span_count(ch, service_name) == (10, 10)
    assert wal.stats().records == 0 and inserter.stats.quarantined_records == 1
    assert len(list((tmp_path / "quarantine").glob("*.protobuf"))) == 1


def test_a_large_backlog_goes_in_as_bounded_inserts_exactly_once(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    for i in range(12):
        wal.append(encoder.rows("traces", _spans(service_name, 50, deep=i == 7)).blocks).result(5)
    [segment] = wal.seal()
    kept = segment.path.read_bytes()
    inserter = Inserter(wal, ch, python_blocks=encoder.python_blocks, max_insert_bytes=20_000, python_below={})
    assert inserter.run_once()
    assert _span_count(ch, service_name) == (600, 600)
    assert inserter.stats.inserts > 3 and inserter.stats.python_converted == 1
    segment.path.write_bytes(kept)  # crash before the removal: the same runs, the same tokens
    again = WriteAheadLog(tmp_path).open()
    assert Inserter(again, ch, python_blocks=encoder.python_blocks, max_insert_bytes=20_000, python_below={}).run_once()
    assert _span_count(ch, service_name) == (600, 600)


def test_a_small_batch_is_converted_in_python_and_a_large_one_by_clickhouse(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    inserter = Inserter(wal, ch, python_blocks=encoder.python_blocks, python_below={"otlp_traces_in": 100})
    for _ in range(2):
        wal.append(encoder.rows("traces", _spans(service_name, 40)).blocks).result(5)
    assert inserter.run_once() and inserter.stats.python_converted == 2
    for _ in range(3):
        wal.append(encoder.rows("traces", _spans(service_name, 40)).blocks).result(5)
    assert inserter.run_once() and inserter.stats.python_converted == 2  # 120 spans: the landing view
    assert _span_count(ch, service_name) == (200, 200)


def test_a_segment_that_fills_up_is_inserted_without_waiting_for_the_interval(ch, tmp_path, service_name):
    """Under a burst the log fills a segment in a fraction of a second: the pass starts then, not
    at the next interval (the lanes stood idle for up to an interval after each pass)."""
    wal = WriteAheadLog(tmp_path, segment_max_bytes=4_000).open()
    encoder = row_encoder(ch, 7, clickhouse_converts=False)
    inserter = Inserter(wal, ch, interval=60)
    inserter.start()  # its first pass finds nothing; the next is a minute away
    try:
        deadline = time.monotonic() + 20
        while not inserter.stats.passes and time.monotonic() < deadline:
            time.sleep(0.01)
        blocks = encoder.rows("logs", _logs(service_name, 20)).blocks
        fill = math.ceil(4_000 / len(encode_record(blocks)))  # the last of these seals the segment
        for _ in range(fill):
            wal.append(blocks).result(5)
        sent = 20 * fill
        deadline = time.monotonic() + 20
        while _count(ch, service_name) < sent and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _count(ch, service_name) == sent
        assert wal.stats().records == 0
    finally:
        inserter.stop()


def test_a_backlog_leaves_the_active_segment_to_fill_up(ch, tmp_path, service_name):
    """While sealed segments wait, a pass inserts them and leaves the active segment open (sealed
    early it would go in as a smaller INSERT on one lane); with none waiting, it is sealed and goes in."""
    wal = WriteAheadLog(tmp_path, segment_max_bytes=4_000).open()
    encoder = row_encoder(ch, 7, clickhouse_converts=False)
    while len(wal.sealed()) < 2:
        wal.append(encoder.rows("logs", _logs(service_name, 20)).blocks).result(5)
    wal.append(encoder.rows("logs", _logs(service_name, 20)).blocks).result(5)
    backlog = wal.stats().records - 1
    inserter = Inserter(wal, ch)
    assert inserter.run_once()
    assert _count(ch, service_name) == 20 * backlog and wal.stats().records == 1
    assert inserter.run_once()
    assert _count(ch, service_name) == 20 * (backlog + 1) and wal.stats().records == 0


def test_the_segment_a_backlog_left_open_follows_it_without_waiting_for_the_interval(ch, tmp_path, service_name):
    """The end of a burst: the last pass over the backlog leaves the active segment open; it goes in
    right after, not an interval later."""
    wal = WriteAheadLog(tmp_path, segment_max_bytes=4_000).open()
    encoder = row_encoder(ch, 7, clickhouse_converts=False)
    blocks = encoder.rows("logs", _logs(service_name, 20)).blocks
    appended = math.ceil(4_000 / len(encode_record(blocks))) + 1  # a sealed segment and one record after it
    for _ in range(appended):
        wal.append(blocks).result(5)
    assert len(wal.sealed()) == 1 and wal.stats().segments == 2
    inserter = Inserter(wal, ch, interval=60)
    inserter.start()
    try:
        deadline = time.monotonic() + 20
        while wal.stats().records and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _count(ch, service_name) == 20 * appended and wal.stats().records == 0
    finally:
        inserter.stop()


# -- several INSERTs at once (lanes) --------------------------------------------------------------


def test_runs_go_in_on_several_sessions_at_once_exactly_once(ch, storage_url, tmp_path, service_name):
    from storage.connection import connect

    lanes = [connect(storage_url), connect(storage_url)]
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    for i in range(12):
        wal.append(encoder.rows("traces", _spans(service_name, 50, deep=i == 7)).blocks).result(5)
        wal.append(encoder.rows("logs", _logs(service_name, 20)).blocks).result(5)
    [segment] = wal.seal()
    kept = segment.path.read_bytes()
    options = {"python_blocks": encoder.python_blocks, "max_insert_bytes": 20_000, "python_below": {}}
    inserter = Inserter(wal, ch, lanes=lanes, **options)
    assert inserter.run_once()
    assert _span_count(ch, service_name) == (600, 600) and _count(ch, service_name) == 240
    assert inserter.stats.inserts >= 3 and inserter.stats.python_converted == 1
    segment.path.write_bytes(kept)  # crash before the removal: the same runs, the same tokens
    again = WriteAheadLog(tmp_path).open()
    assert Inserter(again, ch, lanes=lanes, **options).run_once()
    assert _span_count(ch, service_name) == (600, 600) and _count(ch, service_name) == 240


def test_runs_that_went_in_are_not_inserted_again_when_another_run_is_split(ch, storage_url, tmp_path, service_name):
    """Rows ClickHouse takes as they are (Native): one run holds a record it refuses. The runs that
    went in stay done; only the refused run goes record by record, the culprit to quarantine —
    also when the pass is repeated after a crash."""
    from storage.connection import connect

    wal = WriteAheadLog(tmp_path).open()
    python_rows = row_encoder(ch, 7, clickhouse_converts=False)
    careless = row_encoder(ch, 3650, clickhouse_converts=False)
    for i in range(10):
        bad = i == 6
        encoder, request = (
            (careless, _logs(service_name + "-bad", 150, 150)) if bad else (python_rows, _logs(service_name, 30))
        )
        rows = encoder.rows("logs", request)
        assert [b.fmt for b in rows.blocks] == ["Native"]
        wal.append(rows.blocks).result(5)
    [segment] = wal.seal()
    kept = segment.path.read_bytes()
    for lanes in ([connect(storage_url)], []):
        inserter = Inserter(wal, ch, max_insert_bytes=4_000, max_partitions=100, lanes=lanes)
        inserter.run_once()
        assert _count(ch, service_name) == 270 and _count(ch, service_name + "-bad") == 0
        assert wal.stats().records == 0 and inserter.stats.quarantined_records == 1
        segment.path.write_bytes(kept)  # the pass once more, as after a crash before the removal
        wal = WriteAheadLog(tmp_path).open()


def test_an_insert_the_view_refuses_half_way_writes_nothing(ch, service_name):
    """Bodies go to the view a block at a time (max_block_size, here 2): when a later
    block is refused, the earlier ones must not be in the tables either, or the halving that follows
    (new tokens) would store them twice. The view's rows are squashed and written at the end."""
    from storage.otlp_schema import LANDING_TABLES, delimited, insert_settings

    table = LANDING_TABLES["traces"]
    bodies = [delimited(_spans(service_name, 20, deep=i == 6).SerializeToString()) for i in range(9)]
    settings = insert_settings(table) | {"max_block_size": 2, "insert_deduplication_token": service_name}
    with pytest.raises(Exception, match="HOPSCOPE_PYTHON_PATH"):
        ch.raw_insert(table, None, insert_block=iter(bodies), fmt="Protobuf", settings=settings)
    assert _span_count(ch, service_name) == (0, 0)


def _gauge_points(service: str, points: int, repeated_key: bool = False) -> bytes:
    from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

    request = ExportMetricsServiceRequest()
    resource = request.resource_metrics.add()
    resource.resource.attributes.add(key="service.name", value=AnyValue(string_value=service))
    metric = resource.scope_metrics.add().metrics.add(name="queue.depth")
    now = time.time_ns()
    for i in range(points):
        point = metric.gauge.data_points.add(time_unix_nano=now + i, as_int=i)
        point.attributes.add(key="queue", value=AnyValue(string_value=f"q{i % 7}"))
    if repeated_key:  # on the last point: the SQL conversion refuses it (HOPSCOPE_PYTHON_PATH)
        point.attributes.add(key="queue", value=AnyValue(string_value="again"))
    return request.SerializeToString()


def test_a_metrics_insert_the_view_refuses_half_way_writes_nothing(ch, service_name):
    """Metric points are converted a block of rows at a time (storage.otlp_schema
    METRIC_ROWS_PER_BLOCK) and pass a Null table and five sorting views: when a point of a later
    block is refused, the points of the earlier blocks must not be in the tables either (or the
    halving that follows would store them twice)."""
    from storage.otlp_schema import LANDING_TABLES, METRIC_ROWS_PER_BLOCK, delimited, insert_settings

    table = LANDING_TABLES["metrics"]
    bodies = [delimited(_gauge_points(service_name, 2_500, repeated_key=i == 7)) for i in range(9)]
    settings = insert_settings(table) | {"insert_deduplication_token": service_name}
    # the good bodies before the bad one span blocks (and the view's first step, ~16,000 points a chunk)
    assert 2_500 * 7 > 2 * METRIC_ROWS_PER_BLOCK
    with pytest.raises(Exception, match="HOPSCOPE_PYTHON_PATH"):
        ch.raw_insert(table, None, insert_block=iter(bodies), fmt="Protobuf", settings=settings)
    count = "SELECT count() FROM otel_metrics_gauge WHERE ServiceName = {s:String}"
    assert ch.query(count, parameters={"s": service_name}).result_rows[0][0] == 0
    # The same bodies without the bad one are stored whole.
    del bodies[7]
    settings["insert_deduplication_token"] = service_name + "-good"
    ch.raw_insert(table, None, insert_block=iter(bodies), fmt="Protobuf", settings=settings)
    assert ch.query(count, parameters={"s": service_name}).result_rows[0][0] == 8 * 2_500


# -- how a backlog is cut into INSERTs ------------------------------------------------------------


def _records(*sizes: int) -> list[tuple[int, Block]]:
    return [(i, Block("otlp_traces_in", (), 1, b"x" * size, "Protobuf")) for i, size in enumerate(sizes)]


def _sizes(runs) -> list[int]:
    return [sum(len(block.data) for _, block in run) for run in runs]


@pytest.mark.parametrize(
    ("sizes", "max_bytes", "expected"),
    [
        # A segment a little over the limit: two equal runs (two lanes take them at once), not 2,400
        # and then 900 (an INSERT's fixed cost is the same whatever it holds).
        ([100] * 33, 2_400, [1_600, 1_700]),
        ([100] * 17, 1_200, [800, 900]),
        # As few runs as the limit allows (3, not 16 + 16 + 1 records, not 4 for two rounds of lanes).
        ([100] * 17, 800, [600, 500, 600]),
        ([100] * 3, 1_200, [300]),
        ([100], 1_200, [100]),
        # A record larger than the limit alone; records that do not share out within the limit
        # fill runs in order.
        ([100, 5_000, 100, 100], 1_200, [100, 5_000, 200]),
        ([600] * 3, 1_000, [600, 600, 600]),
    ],
)
def test_a_backlog_is_cut_into_as_few_runs_of_equal_size_as_the_limit_allows(sizes, max_bytes, expected):
    from storage.inserter import _runs

    members = _records(*sizes)
    runs = _runs(members, max_bytes)
    assert _sizes(runs) == expected
    assert [m for run in runs for m in run] == members  # each record once, in order
    assert all(size <= max_bytes for size, run in zip(_sizes(runs), runs, strict=True) if len(run) > 1)
