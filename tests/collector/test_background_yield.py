"""Background loops give way to inserts: while the write-ahead log holds more than one round of
INSERTs they skip their passes, never longer than their limit, and run again once it is moved."""

from __future__ import annotations

import time

from collector.shedding import BackgroundYield
from storage.ingest import row_encoder
from storage.inserter import Inserter
from storage.wal import WriteAheadLog
from tests.storage.test_inserter import _count, _logs


def test_background_work_waits_while_inserts_are_behind_but_never_longer_than_its_limit(ch, tmp_path, service_name):
    wal = WriteAheadLog(tmp_path).open()
    encoder = row_encoder(ch, 7)
    round_bytes = 2_000
    may_run = BackgroundYield(lambda: wal.stats().bytes, round_bytes, max_wait=1.0)
    assert may_run() and not may_run.stop_early()  # nothing waiting
    for _ in range(4):
        wal.append(encoder.rows("logs", _logs(service_name, 50)).blocks).result(5)
    assert wal.stats().bytes > round_bytes
    assert may_run.stop_early()  # a burst came while a pass ran: it leaves the rest for later
    assert not may_run() and not may_run()  # and the next passes are skipped
    time.sleep(1.1)
    assert may_run() and not may_run.stop_early()  # but not for longer than its limit: a whole pass
    assert not may_run()
    assert Inserter(wal, ch, python_below={}).run_once() and wal.stats().bytes == 0
    assert may_run() and may_run.skipped == 3
    assert _count(ch, service_name) == 200


def test_a_limit_of_zero_never_skips():
    may_run = BackgroundYield(lambda: 10**9, 1, max_wait=0)
    assert may_run() and may_run() and may_run.skipped == 0
