import threading
import time

import pytest

from storage.batch import ColumnBatch
from storage.errors import QueueFull, StorageUnavailable, WriterClosed
from storage.native import NativeBlock, NativeEncoder
from storage.writer import BatchWriter

NOW = time.time_ns()  # rows older than the 7-day TTL would be dropped on insert
_ENCODER = NativeEncoder(
    {"otel_logs": {"Timestamp": "DateTime64(9)", "ServiceName": "LowCardinality(String)", "Body": "String"}}
)


def _log_rows(service: str, n: int, start: int = 0) -> NativeBlock:
    return _ENCODER.encode(
        ColumnBatch(
            "otel_logs",
            {
                "Timestamp": [NOW + start + i for i in range(n)],
                "ServiceName": [service] * n,
                "Body": [f"line {start + i}" for i in range(n)],
            },
        )
    )


def _count(ch, service: str) -> int:
    return ch.query(
        "SELECT count() FROM otel_logs WHERE ServiceName = {s:String}", parameters={"s": service}
    ).result_rows[0][0]


def test_many_small_submits_share_few_inserts(ch, storage_url, service_name):
    from storage.connection import connect

    writer = BatchWriter(connect(storage_url), flush_interval=0.5, max_batch_rows=100_000)
    writer.start()
    futures = []

    def send(k):
        for j in range(10):
            futures.append(writer.submit([_log_rows(service_name, 5, start=(k * 10 + j) * 5)]))

    threads = [threading.Thread(target=send, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for f in futures:
        f.result(timeout=30)
    stats = writer.stats()
    writer.close()
    assert _count(ch, service_name) == 500
    assert stats.rows_written == 500
    assert stats.inserts <= 3, stats  # 100 requests, a handful of inserts: group commit
    assert stats.queued_rows == 0


def test_flushes_early_when_batch_is_full(ch, storage_url, service_name):
    from storage.connection import connect

    writer = BatchWriter(connect(storage_url), flush_interval=60, max_batch_rows=10)
    writer.start()
    started = time.monotonic()
    writer.submit([_log_rows(service_name, 10)]).result(timeout=30)
    assert time.monotonic() - started < 30
    writer.close()
    assert _count(ch, service_name) == 10


def test_queue_full_is_refused_and_close_flushes_what_was_taken(ch, storage_url, service_name):
    from storage.connection import connect

    writer = BatchWriter(connect(storage_url), flush_interval=60, max_queued_rows=5)
    writer.start()
    first = writer.submit([_log_rows(service_name, 3)])
    with pytest.raises(QueueFull):
        writer.submit([_log_rows(service_name, 3, start=100)])
    assert writer.stats().rejected_queue_full == 1
    writer.close()
    first.result(timeout=5)
    assert _count(ch, service_name) == 3
    with pytest.raises(WriterClosed):
        writer.submit([_log_rows(service_name, 1)])


def test_failed_table_fails_only_its_callers(ch, storage_url, service_name):
    from storage.connection import connect

    writer = BatchWriter(connect(storage_url), flush_interval=0.3)
    writer.start()
    bad = writer.submit([NativeBlock("no_such_table", ("x",), 1, b"\x01\x01\x01x\x05UInt8\x01")])
    good = writer.submit([_log_rows(service_name, 2)])
    with pytest.raises(StorageUnavailable):
        bad.result(timeout=30)
    good.result(timeout=30)
    stats = writer.stats()
    writer.close()
    assert stats.failed_inserts == 1 and stats.rows_failed == 1
    assert _count(ch, service_name) == 2


def test_empty_submit_completes_without_an_insert(ch, storage_url):
    from storage.connection import connect

    writer = BatchWriter(connect(storage_url))
    writer.start()
    assert writer.submit([NativeBlock("otel_logs", ("Body",), 0, b"")]).result(timeout=1) is None
    assert writer.stats().inserts == 0
    writer.close()


def test_drain_stops_lingering_so_waiting_callers_are_answered(ch, storage_url, service_name):
    from storage.connection import connect

    writer = BatchWriter(connect(storage_url), flush_interval=60)
    writer.start()
    waiting = writer.submit([_log_rows(service_name, 2)])
    time.sleep(0.2)
    assert not waiting.done()  # lingering for the 60 s flush interval
    writer.drain()
    waiting.result(timeout=10)
    writer.submit([_log_rows(service_name, 1, start=10)]).result(timeout=10)  # still accepted, written at once
    writer.close()
    assert _count(ch, service_name) == 3
