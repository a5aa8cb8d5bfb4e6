"""The write-ahead log: where accepted telemetry is durable before ClickHouse has it.

Contract:
- `append(blocks)` returns a future that completes once the record is written *and fsynced*
  (group commit: every record that arrives while one fsync runs shares the next one, so an
  acknowledgement costs milliseconds, not a batch interval). Only then may the request be
  acknowledged. The future fails with WalClosed during shutdown.
- `append` refuses at once (WalFull, nothing written) when the log already holds `max_bytes`, or
  the disk has less than `min_free_bytes` free: the caller answers 503 with Retry-After.
- Records live in numbered segment files. A segment is sealed once it reaches its size (and
  `when_full`'s listener is told), or when the inserter (`storage.inserter`) seals the active one;
  the inserter inserts sealed segments into ClickHouse and removes a segment only after all of it
  was inserted. A crash loses nothing that was acknowledged: on open, every segment on disk is
  sealed and inserted again (the inserts carry deduplication tokens, so what was inserted before the
  crash is not inserted twice). A record torn by the crash (never acknowledged) is cut off.

Record layout: magic, payload length (u32), CRC-32 of the payload (u32), payload. The payload is
one request's blocks: count (u16), then per block the table, its input format, its columns (joined
by U+001F), the row count and the data. Magic `HWA2`; records of magic `HWAL` (written before
blocks had a format) hold Native blocks and no format field, and are still read. Thread-safe.
"""

from __future__ import annotations

import logging
import os
import shutil
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from storage.batch import Block
from storage.errors import WalClosed, WalFull

log = logging.getLogger("hopscope.wal")

_MAGIC = b"HWA2"
_MAGIC_NATIVE_ONLY = b"HWAL"
_HEADER = struct.Struct("<4sII")
_BLOCK = struct.Struct("<HHIIQ")  # table length, format length, columns length, rows, data length
_BLOCK_NATIVE_ONLY = struct.Struct("<HIIQ")  # table length, columns length, rows, data length
_SUFFIX = ".wal"

# A segment is sealed once it holds this much (HOPSCOPE_WAL_SEGMENT_BYTES): a backlog is inserted a
# segment at a time, so it bounds how large inserts get.
SEGMENT_MAX_BYTES = 32 * 1024**2


def encode_record(blocks: list[Block]) -> bytes:
    parts = [struct.pack("<H", len(blocks))]
    for block in blocks:
        table, fmt, columns = block.table.encode(), block.fmt.encode(), "\x1f".join(block.columns).encode()
        parts += [_BLOCK.pack(len(table), len(fmt), len(columns), block.rows, len(block.data)), table, fmt, columns,
                  block.data]  # fmt: skip
    payload = b"".join(parts)
    return _HEADER.pack(_MAGIC, len(payload), zlib.crc32(payload)) + payload


def decode_record(payload: bytes, magic: bytes = _MAGIC) -> list[Block]:
    (count,) = struct.unpack_from("<H", payload)
    at, blocks = 2, []
    for _ in range(count):
        if magic == _MAGIC:
            table_len, fmt_len, columns_len, rows, data_len = _BLOCK.unpack_from(payload, at)
            at += _BLOCK.size
        else:
            (table_len, columns_len, rows, data_len), fmt_len = _BLOCK_NATIVE_ONLY.unpack_from(payload, at), 0
            at += _BLOCK_NATIVE_ONLY.size
        table = payload[at : at + table_len].decode()
        at += table_len
        fmt = payload[at : at + fmt_len].decode() or "Native"
        at += fmt_len
        columns_text = payload[at : at + columns_len].decode()
        columns = tuple(columns_text.split("\x1f")) if columns_text else ()
        at += columns_len
        blocks.append(Block(table, columns, rows, payload[at : at + data_len], fmt))
        at += data_len
    return blocks


def read_records(path: Path) -> tuple[list[list[Block]], int]:
    """The whole records of a segment file, and the byte length they take (a torn tail after it)."""
    data = path.read_bytes()
    records, at = [], 0
    while at + _HEADER.size <= len(data):
        magic, length, crc = _HEADER.unpack_from(data, at)
        end = at + _HEADER.size + length
        if (
            magic not in (_MAGIC, _MAGIC_NATIVE_ONLY)
            or end > len(data)
            or zlib.crc32(data[at + _HEADER.size : end]) != crc
        ):
            break
        records.append(decode_record(data[at + _HEADER.size : end], magic))
        at = end
    return records, at


@dataclass(frozen=True)
class Segment:
    seq: int
    path: Path

    @property
    def name(self) -> str:
        return self.path.stem


@dataclass
class WalStats:
    bytes: int
    segments: int  # sealed segments waiting for the inserter, plus the active one when not empty
    records: int  # records appended and not yet removed
    oldest_age_seconds: float  # how long the oldest record has waited (0 when empty)
    appended: int
    refused_full: int


@dataclass
class _Pending:
    data: bytes
    future: Future
    arrived: float = field(default_factory=time.monotonic)


class WriteAheadLog:
    """A directory of segments. `open()` once, `append()` from any thread, `close()` once."""

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int = 4 * 1024**3,
        min_free_bytes: int = 256 * 1024**2,
        segment_max_bytes: int = SEGMENT_MAX_BYTES,
    ) -> None:
        self.directory = Path(directory)
        self._max_bytes = max_bytes
        self._min_free = min_free_bytes
        self._segment_max = segment_max_bytes
        self._lock = threading.Condition()  # appends waiting, counters
        self._file_lock = threading.Lock()  # the active file: writes, fsync, rotation
        self._pending: list[_Pending] = []
        self._closing = False
        self._sealed: list[Segment] = []
        self._sizes: dict[int, int] = {}  # seq -> bytes
        self._records: dict[int, int] = {}  # seq -> records
        self._first_at: dict[int, float] = {}  # seq -> when its first record arrived (monotonic)
        self._active: Segment | None = None
        self._file: BinaryIO | None = None
        self._next_seq = 1
        self._appended = 0
        self._refused = 0
        self._full = False
        self._free_checked = 0.0
        self._free = 1 << 62
        self.instance = ""
        self._on_full: Callable[[], None] | None = None
        self._thread = threading.Thread(target=self._run, name="hopscope-wal", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------

    def open(self) -> WriteAheadLog:
        """Seal every segment left on disk (cutting off a torn tail) and start taking appends."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        instance_file = self.directory / "instance"
        if not instance_file.exists():
            instance_file.write_text(uuid.uuid4().hex)
        self.instance = instance_file.read_text().strip()
        for path in sorted(self.directory.glob("*" + _SUFFIX)):
            seq = int(path.stem)
            records, good = read_records(path)
            if good < path.stat().st_size:
                log.warning("write-ahead log %s: cut a torn record off at byte %d", path.name, good)
                with open(path, "r+b") as torn:
                    torn.truncate(good)
                    os.fsync(torn.fileno())
            if not records:
                path.unlink()
                continue
            self._sealed.append(Segment(seq, path))
            self._sizes[seq], self._records[seq] = good, len(records)
            self._first_at[seq] = time.monotonic()
            self._next_seq = max(self._next_seq, seq + 1)
        if self._sealed:
            log.info("write-ahead log: %d segments from before the start to insert", len(self._sealed))
        self._thread.start()
        return self

    def close(self) -> None:
        """Write and fsync every append already taken; later appends raise WalClosed."""
        with self._lock:
            self._closing = True
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join(60)
        with self._file_lock:
            self._seal_active()

    # -- appending -------------------------------------------------------------------------

    def append(self, blocks: list[Block]) -> Future:
        """Queue one request's blocks; see the module docstring for when the future completes."""
        data = encode_record(blocks)
        future: Future = Future()
        with self._lock:
            if self._closing:
                raise WalClosed("the write-ahead log is closed")
            held = sum(self._sizes.values()) + sum(len(p.data) for p in self._pending)
            if held + len(data) > self._max_bytes:
                self._refused, self._full = self._refused + 1, True
                raise WalFull(f"the write-ahead log holds {held} bytes; limit {self._max_bytes}")
            if self._free_bytes() - len(data) < self._min_free:
                self._refused, self._full = self._refused + 1, True
                raise WalFull(f"less than {self._min_free} bytes free on the write-ahead log's disk")
            self._full = False
            self._pending.append(_Pending(data, future))
            self._lock.notify_all()
        return future

    def has_room(self) -> bool:
        """False from an append refused for lack of room until room is made (or one is taken)."""
        with self._lock:
            return not self._full and self._free_bytes() >= self._min_free

    def _free_bytes(self) -> int:
        now = time.monotonic()
        if now - self._free_checked > 1.0:
            self._free = shutil.disk_usage(self.directory).free
            self._free_checked = now
        return self._free

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._pending and not self._closing:
                    self._lock.wait()
                batch, self._pending = self._pending, []
                if not batch and self._closing:
                    return
            try:
                filled = self._write(batch)
            except Exception as exc:  # noqa: BLE001 - a disk error fails these requests, not the log
                log.error("write-ahead log: append of %d records failed: %s", len(batch), exc)
                for item in batch:
                    item.future.set_exception(WalFull(f"the write-ahead log could not write: {exc}"))
                continue
            for item in batch:
                item.future.set_result(None)
            if filled and self._on_full is not None:
                try:
                    self._on_full()
                except Exception:  # noqa: BLE001 - the records are written; the listener's fault is its own
                    log.exception("write-ahead log: the listener of a full segment failed")

    def _write(self, batch: list[_Pending]) -> bool:
        """Write and fsync `batch`; True when that filled the active segment (it is sealed then)."""
        with self._file_lock:
            if self._active is None or self._file is None:
                self._start_segment()
            assert self._active is not None and self._file is not None
            seq = self._active.seq
            for item in batch:
                self._file.write(item.data)
            self._file.flush()
            os.fdatasync(self._file.fileno())
            with self._lock:
                self._sizes[seq] = self._sizes.get(seq, 0) + sum(len(i.data) for i in batch)
                self._records[seq] = self._records.get(seq, 0) + len(batch)
                self._first_at.setdefault(seq, batch[0].arrived)
                self._appended += len(batch)
            if self._sizes[seq] >= self._segment_max:
                self._seal_active()
                return True
            return False

    def _start_segment(self) -> None:
        # Segment numbers are never used twice, across restarts too: they name the inserts'
        # deduplication tokens, and ClickHouse drops an insert whose token it has seen.
        seq = max(self._next_seq, time.time_ns())
        self._next_seq = seq + 1
        path = self.directory / f"{seq:020d}{_SUFFIX}"
        self._file = open(path, "ab")  # noqa: SIM115 - closed when sealed
        _fsync_directory(self.directory)
        self._active = Segment(seq, path)

    def _seal_active(self) -> None:
        """Caller holds _file_lock."""
        if self._active is None or self._file is None:
            return
        self._file.close()
        self._file = None
        active, self._active = self._active, None
        with self._lock:
            if self._records.get(active.seq):
                self._sealed.append(active)
            else:
                active.path.unlink(missing_ok=True)

    # -- for the inserter ------------------------------------------------------------------

    def when_full(self, callback: Callable[[], None]) -> None:
        """Call `callback` (quick, on the log's writer thread) each time a segment is sealed because
        it reached its size: a segment is waiting to be inserted."""
        self._on_full = callback

    def seal(self) -> list[Segment]:
        """Seal the active segment (if it holds anything); returns every sealed segment, oldest first."""
        with self._file_lock:
            self._seal_active()
        with self._lock:
            return list(self._sealed)

    def sealed(self) -> list[Segment]:
        with self._lock:
            return list(self._sealed)

    def remove(self, segment: Segment) -> None:
        """The segment is in ClickHouse: delete it and free its budget."""
        segment.path.unlink(missing_ok=True)
        _fsync_directory(self.directory)
        with self._lock:
            self._sealed = [s for s in self._sealed if s.seq != segment.seq]
            self._full = False
            for counters in (self._sizes, self._records, self._first_at):
                counters.pop(segment.seq, None)

    def stats(self) -> WalStats:
        with self._lock:
            oldest = min(self._first_at.values(), default=None)
            return WalStats(
                bytes=sum(self._sizes.values()),
                segments=sum(1 for n in self._records.values() if n),
                records=sum(self._records.values()),
                oldest_age_seconds=round(time.monotonic() - oldest, 3) if oldest is not None else 0.0,
                appended=self._appended,
                refused_full=self._refused,
            )


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
