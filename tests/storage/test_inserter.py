"""The inserter against the embedded ClickHouse: exactly once across a crash, one request's bad
data quarantined while everyone else's goes in, an outage ridden out with nothing lost."""

from __future__ import annotations

import time

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from storage.ingest import row_encoder
from storage.inserter import Inserter
from storage.wal import WriteAheadLog

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
