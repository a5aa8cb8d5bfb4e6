"""The write-ahead log on its own: durable appends, group commit, recovery after a crash, budget."""

from __future__ import annotations

import threading

import pytest

from storage.batch import Block
from storage.errors import WalClosed, WalFull
from storage.wal import WriteAheadLog, read_records


def _block(i: int, size: int = 100) -> Block:
    return Block("otel_logs", ("Timestamp", "Body"), 1, bytes([i % 256]) * size)


def test_appends_are_durable_when_their_future_completes_and_survive_a_reopen(tmp_path):
    wal = WriteAheadLog(tmp_path).open()
    futures = [wal.append([_block(i), _block(i + 1)]) for i in range(50)]
    for future in futures:
        assert future.result(5) is None
    stats = wal.stats()
    assert (stats.records, stats.segments) == (50, 1) and stats.bytes > 50 * 200
    # No close(): as after kill -9. A new log on the directory finds every record.
    again = WriteAheadLog(tmp_path).open()
    [segment] = again.sealed()
    records, _ = read_records(segment.path)
    assert len(records) == 50 and records[7][1] == _block(8)
    assert again.instance == wal.instance  # the deduplication tokens stay the same


def test_concurrent_appends_share_fsyncs(tmp_path, monkeypatch):
    import os

    syncs = []
    real = os.fdatasync
    monkeypatch.setattr(os, "fdatasync", lambda fd: (syncs.append(fd), real(fd)))
    wal = WriteAheadLog(tmp_path).open()
    futures: list = []

    def send() -> None:
        futures.extend(wal.append([_block(i)]) for i in range(100))

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for future in futures:
        future.result(5)
    assert wal.stats().records == 800 and len(syncs) < 800  # group commit
    wal.close()


def test_a_torn_record_is_cut_off_and_the_rest_kept(tmp_path):
    wal = WriteAheadLog(tmp_path).open()
    for i in range(3):
        wal.append([_block(i)]).result(5)
    [segment] = wal.seal()
    with open(segment.path, "ab") as file:  # a crash in the middle of writing a fourth record
        file.write(b"HWAL\x00\x10\x00\x00garbage")
    again = WriteAheadLog(tmp_path).open()
    records, length = read_records(again.sealed()[0].path)
    assert len(records) == 3 and again.sealed()[0].path.stat().st_size == length


def test_the_budget_refuses_at_once_and_room_comes_back_when_a_segment_is_removed(tmp_path):
    wal = WriteAheadLog(tmp_path, max_bytes=10_000).open()
    for i in range(5):
        wal.append([_block(i, 1000)]).result(5)
    with pytest.raises(WalFull):
        for i in range(20):
            wal.append([_block(i, 1000)]).result(5)
    assert not wal.has_room() and wal.stats().refused_full == 1
    for segment in wal.seal():
        wal.remove(segment)
    assert wal.has_room() and wal.stats().records == 0
    wal.append([_block(1, 1000)]).result(5)
    wal.close()
    with pytest.raises(WalClosed):
        wal.append([_block(2)])
    assert len(WriteAheadLog(tmp_path).open().sealed()) == 1  # close() sealed what it held


def test_a_segment_is_sealed_once_it_reaches_its_size(tmp_path):
    wal = WriteAheadLog(tmp_path, segment_max_bytes=5_000).open()
    for i in range(12):
        wal.append([_block(i, 1000)]).result(5)
    sealed = wal.sealed()
    assert len(sealed) == 2 and wal.stats().segments == 3  # 5 records a segment, 2 in the active one
    assert [len(read_records(segment.path)[0]) for segment in sealed] == [5, 5]
    assert all(5_000 <= segment.path.stat().st_size < 6_100 for segment in sealed)
    wal.close()


def test_a_full_segment_is_announced_and_a_failing_listener_fails_no_append(tmp_path):
    wal = WriteAheadLog(tmp_path, segment_max_bytes=5_000).open()
    told: list[int] = []

    def listener() -> None:
        told.append(len(wal.sealed()))
        raise RuntimeError("the listener's own fault")

    wal.when_full(listener)
    for i in range(12):
        wal.append([_block(i, 1000)]).result(5)  # raises if the listener's error reached the append
    assert told == [1, 2]  # once a segment, after it was sealed
    assert wal.stats().records == 12 and wal.stats().appended == 12
    wal.close()
