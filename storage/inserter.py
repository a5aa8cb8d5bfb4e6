"""The inserter: moves the write-ahead log into ClickHouse, in large batches, exactly once.

Every `interval` seconds, or at once when the log has filled a segment, a pass seals the active
segment (unless sealed ones already wait) and inserts each sealed segment with one INSERT per
table, all of the segment's rows of that table in it (cut into runs of at most
`max_insert_bytes`, which bounds ClickHouse's memory when a backlog is moved: as few as that
allows, of about equal size, `_runs`). A segment is removed only after every table of it is in
the store.

Exactly once: each INSERT carries a deduplication token made of this log's instance id, the
segment, the table and (for a run) its first and last record (`insert_deduplication_token`; the
tables keep a deduplication window, migration 011). Inserting the same segment again — after a crash between the insert and the
removal, or after a failure half-way — stores nothing twice.

One client's bad data cannot hold up everyone else's: when a table's INSERT fails while ClickHouse
answers, the segment's records are inserted one by one for that table (tokens per record; the
split is recorded beside the segment so a restart continues the same way). A record that fails
alone while other records of the same table go in during the same pass is the culprit: it is
moved to `quarantine/` with the reason (kept on disk, logged, counted) and the rest proceeds. When
every record fails, the store is the problem (down, disk full, a table missing): nothing is
dropped, the segment stays and the pass is retried with backoff while the log keeps accepting up
to its budget.

Concurrent INSERTs: a segment's first attempt at each table (every run of it) goes out on several
engine sessions at once (`lanes`, one client each): one INSERT keeps about one core busy (parsing,
the views, the part's sort and compression are one pipeline), so a backlog moves ~1.5 times as fast
on two lanes (docs/benchmarks.md). What follows a failure (the split, the halving) runs on one.

Request bodies for a landing table (ClickHouse converts them, migration 014) go in the same way,
except small batches (fewer records than `python_below`), which are converted in Python at once:
below that the fixed cost of the landing view outweighs it. And with one more way out: what the landing view refuses to convert (HOPSCOPE_PYTHON_PATH: a detail SQL
does not reproduce exactly) is halved until the requests that hold it are found, and those alone are
converted in Python (`python_blocks`, storage.ingest) and inserted as Native blocks. A single body
ClickHouse refuses for any other reason takes the Python conversion too before it is quarantined.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from queue import SimpleQueue

from clickhouse_connect.driver.client import Client

from core.periodic import PeriodicThread, name_os_thread
from storage.batch import Block
from storage.otlp_schema import PYTHON_BELOW_RECORDS, insert_settings
from storage.wal import Segment, WriteAheadLog, read_records

log = logging.getLogger("hopscope.inserter")

PYTHON_PATH = "HOPSCOPE_PYTHON_PATH"  # what the landing views raise for what SQL does not convert

PythonBlocks = Callable[[Block], list[Block]]


@dataclass
class InserterStats:
    passes: int = 0
    inserts: int = 0
    rows_inserted: int = 0
    failed_inserts: int = 0
    quarantined_records: int = 0
    python_converted: int = 0  # landing-table records converted in Python instead
    insert_seconds: float = 0.0  # time spent in INSERTs that succeeded
    last_error: str = ""
    store_down_since: float | None = None  # Unix seconds, while inserts fail everywhere


@dataclass
class _Failure:
    segment: Segment
    table: str
    index: int  # the record within the segment
    block: Block
    error: str


@dataclass
class _Pass:
    inserted_tables: set[str] = field(default_factory=set)  # tables some record went into
    failures: list[_Failure] = field(default_factory=list)
    store_down: bool = False


@dataclass
class _Plan:
    """One table's records of a segment (those not done yet) and its first attempts, each one INSERT
    of a run of them on a session it is given."""

    table: str
    columns: tuple[str, ...]
    fmt: str
    members: list[tuple[int, Block]]
    key: str
    base: str  # the deduplication tokens' stem
    attempts: list[Callable[[Client], str | None]] = field(default_factory=list)
    runs: list[list[tuple[int, Block]]] = field(default_factory=list)  # the records of each attempt


class Inserter:
    """Thread-safe. `start()` runs passes on a background thread; `flush()` runs them on the
    caller's thread until the log is empty (shutdown, tests); `stop()` ends the thread."""

    def __init__(
        self,
        wal: WriteAheadLog,
        client: Client,
        *,
        interval: float = 1.0,
        max_partitions: int = 100,
        python_blocks: PythonBlocks | None = None,
        max_insert_bytes: int = 24 * 1024**2,
        python_below: dict[str, int] | None = None,
        lanes: Sequence[Client] = (),
    ) -> None:
        self._wal = wal
        self._client = client
        # Sessions for concurrent first attempts: `client` and `lanes`, each used by one INSERT at a time.
        self._idle: SimpleQueue[Client] = SimpleQueue()
        for session in (client, *lanes):
            self._idle.put(session)
        self._pool = (
            ThreadPoolExecutor(1 + len(lanes), "hopscope-insert", name_os_thread, ("hopscope-insert",))
            if lanes
            else None
        )
        self._stats_lock = threading.Lock()
        self._python_blocks = python_blocks
        self._max_insert_bytes = max_insert_bytes  # bounds ClickHouse's memory for one INSERT
        # Landing table -> below this many records, a batch is converted in Python instead.
        self._python_below = PYTHON_BELOW_RECORDS if python_below is None else python_below
        self._max_partitions = max_partitions
        self._pass_lock = threading.Lock()
        self._failed_passes = 0
        self.stats = InserterStats()
        self._thread = PeriodicThread("hopscope-inserter", self._tick, interval)
        self._interval = interval
        # A segment that fills up starts a pass at once (or the next one right after the pass in
        # progress) instead of waiting out the interval: under a burst the log fills a segment in
        # a fraction of a second, and each second-long pause was a second the lanes stood idle.
        wal.when_full(self._segment_full)
        self._left_active = False  # the last pass went over a backlog, leaving the active segment open

    def start(self) -> None:
        self._thread.start()

    def wake(self) -> None:
        self._thread.wake()

    def stop(self, timeout: float = 30.0) -> None:
        """End the background passes (`flush()` still works: its INSERTs run on the caller's lane)."""
        self._thread.stop(timeout)

    def flush(self, timeout: float = 30.0) -> bool:
        """Insert everything the log holds now; False when it could not within `timeout`."""
        deadline = time.monotonic() + timeout
        while self._wal.stats().records:
            if time.monotonic() >= deadline:
                return False
            if not self.run_once():
                time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))  # the store refuses: not too fast
        return True

    def _segment_full(self) -> None:
        if not self._failed_passes:  # a failing store keeps its backoff
            self.wake()

    def _tick(self) -> float:
        progressed = self.run_once()
        if progressed or not self._wal.stats().records:
            self._failed_passes = 0
            # A pass over a backlog left the active segment open: the next pass (which seals it
            # unless another segment filled meanwhile) follows at once, not an interval later.
            return 0.0 if progressed and self._left_active else self._interval
        self._failed_passes += 1
        return min(30.0, self._interval * 2**self._failed_passes)

    def run_once(self) -> bool:
        """One pass over every sealed segment (the active one is sealed first when none waits); True
        when nothing is left failing."""
        with self._pass_lock:
            current = _Pass()
            # While sealed segments wait (a backlog), the active one fills up to its size and seals
            # itself: sealed early it would go in as one smaller INSERT, on one lane.
            backlog = self._wal.sealed()
            self._left_active = bool(backlog)
            for segment in backlog or self._wal.seal():
                self._insert_segment(segment, current)
                if current.store_down:
                    break
            self._settle(current)
            self.stats.passes += 1
            down = current.store_down or bool(current.failures and not current.inserted_tables)
            if down and self.stats.store_down_since is None:
                self.stats.store_down_since = time.time()
            elif not down:
                self.stats.store_down_since = None
            return not current.failures and not current.store_down

    # -- one segment -----------------------------------------------------------------------

    def _insert_segment(self, segment: Segment, current: _Pass) -> None:
        records, _ = read_records(segment.path)
        marker = _Marker.load(segment)
        groups: dict[tuple[str, tuple[str, ...], str], list[tuple[int, Block]]] = defaultdict(list)
        for index, blocks in enumerate(records):
            for block in blocks:
                if block.rows and f"{block.table}:{index}" not in marker.done:
                    groups[(block.table, block.columns, block.fmt)].append((index, block))
        # First attempts: every table and every run of it, at once over the lanes.
        plans = [self._plan(segment, marker, *group, members) for group, members in groups.items()]
        errors = iter(self._attempt([attempt for plan in plans for attempt in plan.attempts]))
        failed = False
        for plan in plans:
            members = plan.members
            if plan.attempts:
                outcome = [next(errors) for _ in plan.attempts]
                if not any(outcome):
                    current.inserted_tables.add(plan.table)
                    continue
                if not self._store_answers():
                    current.store_down = True
                    return
                # The runs that went in are done (they must not go in again record by record, now
                # or after a restart); the others are split.
                for run, error in zip(plan.runs, outcome, strict=True):
                    if error is None:
                        marker.done.update(f"{plan.table}:{index}" for index, _ in run)
                        current.inserted_tables.add(plan.table)
                members = [member for run, error in zip(plan.runs, outcome, strict=True) if error for member in run]
                marker.split.add(plan.key)
                marker.save(segment)
            if plan.fmt == "Protobuf":
                failed |= self._insert_converted(
                    segment, plan.table, _chunks(members, self._max_insert_bytes), plan.base, current
                )
                continue
            for index, block in members:
                error = self._insert(self._client, plan.table, plan.columns, plan.fmt, [block], f"{plan.base}-r{index}")
                if error is None:
                    current.inserted_tables.add(plan.table)
                else:
                    failed = True
                    current.failures.append(_Failure(segment, plan.table, index, block, error))
        if not failed:
            self._wal.remove(segment)
            _Marker.remove(segment)

    def _plan(self, segment: Segment, marker: _Marker, table: str, columns: tuple[str, ...], fmt: str,
              members: list[tuple[int, Block]]) -> _Plan:  # fmt: skip
        """A table's records of a segment, cut into runs, and its first attempts (none once split)."""
        base = f"{self._wal.instance}-{segment.name}-{table}-{hash_columns(columns)}"
        plan = _Plan(table, columns, fmt, members, f"{table}:{','.join(columns)}", base)
        if plan.key in marker.split:
            return plan  # split by an earlier pass: goes record by record
        if fmt == "Protobuf" and sum(b.rows for _, b in members) < self._python_below.get(table, 0):
            plan.attempts.append(partial(self._insert_small_in_python, members=members, base=base))
            plan.runs.append(members)
            return plan
        chunks = _runs(members, self._max_insert_bytes)
        for chunk in chunks:
            token = base if len(chunks) == 1 else f"{base}-r{chunk[0][0]}-{chunk[-1][0]}"
            plan.attempts.append(partial(self._insert, table=table, columns=columns, fmt=fmt,
                                         blocks=[b for _, b in chunk], token=token))  # fmt: skip
            plan.runs.append(chunk)
        return plan

    def _insert_converted(self, segment: Segment, table: str, chunks: list[list[tuple[int, Block]]], base: str,
                          current: _Pass) -> bool:  # fmt: skip
        """Request bodies whose insert failed: halve a batch while the view asks for the Python
        conversion, one by one for other errors; a single body that fails goes through Python.
        Every token depends only on the records in the insert: a pass after a crash repeats it."""
        failed = False
        stack = list(reversed(chunks))
        while stack:
            part = stack.pop()
            error = self._insert(
                self._client, table, (), "Protobuf", [b for _, b in part], f"{base}-r{part[0][0]}-{part[-1][0]}"
            )
            if error is None:
                current.inserted_tables.add(table)
            elif len(part) > 1:
                halves = (
                    [part[: len(part) // 2], part[len(part) // 2 :]] if PYTHON_PATH in error else [[m] for m in part]
                )
                stack.extend(reversed(halves))
            else:
                index, block = part[0]
                python_error = self._insert_in_python(block, f"{base}-r{index}-py")
                if python_error is None:
                    current.inserted_tables.add(table)
                else:
                    failed = True
                    reason = python_error if PYTHON_PATH in error else error
                    current.failures.append(_Failure(segment, table, index, block, reason))
        return failed

    def _insert_small_in_python(self, session: Client, members: list[tuple[int, Block]], base: str) -> str | None:
        """A few request bodies: converted in Python and inserted as Native blocks, one INSERT per
        table. Cheaper than the landing view below `python_below` records (its expression is analysed
        at every insert: a fixed cost, docs/benchmarks.md). The error, or None."""
        if self._python_blocks is None:
            return "no Python conversion configured"
        converted: dict[tuple[str, tuple[str, ...]], list[Block]] = defaultdict(list)
        try:
            for _, block in members:
                for native in self._python_blocks(block):
                    converted[(native.table, native.columns)].append(native)
        except Exception as exc:  # noqa: BLE001 - the landing view's way sorts out which body it is
            return f"{type(exc).__name__}: {exc}"[:500]
        for (table, columns), blocks in converted.items():
            error = self._insert(
                session, table, columns, "Native", blocks, f"{base}-py-{table}-{hash_columns(columns)}"
            )
            if error is not None:
                return error
        with self._stats_lock:
            self.stats.python_converted += len(members)
        return None

    def _insert_in_python(self, block: Block, token: str) -> str | None:
        """Convert one landing-table body in Python and insert its rows; the error, or None."""
        if self._python_blocks is None:
            return "no Python conversion configured"
        try:
            converted = self._python_blocks(block)
        except Exception as exc:  # noqa: BLE001 - a body even Python cannot read is the sender's
            return f"{type(exc).__name__}: {exc}"[:500]
        for native in converted:
            error = self._insert(
                self._client, native.table, native.columns, native.fmt, [native], f"{token}-{native.table}"
            )
            if error is not None:
                return error
        self.stats.python_converted += 1
        return None

    def _attempt(self, attempts: list[Callable[[Client], str | None]]) -> list[str | None]:
        """Run `attempts` (each given a session of its own), at once over the lanes when there are
        several; their errors (or None), in order."""
        if self._pool is None or len(attempts) < 2:
            return [attempt(self._client) for attempt in attempts]
        return list(self._pool.map(self._on_idle_session, attempts))

    def _on_idle_session(self, attempt: Callable[[Client], str | None]) -> str | None:
        session = self._idle.get()  # as many sessions as pool threads: never waits
        try:
            return attempt(session)
        finally:
            self._idle.put(session)

    def _insert(
        self, session: Client, table: str, columns: tuple[str, ...], fmt: str, blocks: list[Block], token: str
    ) -> str | None:
        settings: dict[str, str | int] = {
            "insert_deduplication_token": token,
            "deduplicate_blocks_in_dependent_materialized_views": 1,
            "max_partitions_per_insert_block": self._max_partitions,
        }
        if fmt == "Protobuf":
            settings.update(insert_settings(table))
        rows = sum(b.rows for b in blocks)
        started = time.monotonic()
        try:
            # A generator: the blocks are streamed to ClickHouse, not copied into one more buffer.
            session.raw_insert(table, columns or None, insert_block=(b.data for b in blocks), fmt=fmt,
                               settings=settings)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - any driver or engine error means "not inserted"
            message = f"{type(exc).__name__}: {exc}"[:500]
            with self._stats_lock:
                self.stats.failed_inserts += 1
                self.stats.last_error = message
            if PYTHON_PATH in message:
                log.info("%d rows for %s take the Python conversion: %s", rows, table, message[:200])
            else:
                log.warning("insert of %d rows into %s failed: %s", rows, table, message)
            return message
        with self._stats_lock:
            self.stats.inserts += 1
            self.stats.rows_inserted += rows
            self.stats.insert_seconds += time.monotonic() - started
        return None

    def _store_answers(self) -> bool:
        try:
            self._client.command("SELECT 1")
            return True
        except Exception:  # noqa: BLE001 - unreachable, whatever the reason
            return False

    # -- after the pass --------------------------------------------------------------------

    def _settle(self, current: _Pass) -> None:
        """Quarantine the records that failed alone while their table took other records."""
        guilty = [f for f in current.failures if f.table in current.inserted_tables]
        touched: dict[int, Segment] = {}
        for failure in guilty:
            self._quarantine(failure)
            marker = _Marker.load(failure.segment)
            marker.done.add(f"{failure.table}:{failure.index}")
            marker.save(failure.segment)
            touched[failure.segment.seq] = failure.segment
        still = {f.segment.seq for f in current.failures if f.table not in current.inserted_tables}
        for seq, segment in touched.items():
            if seq not in still:
                self._wal.remove(segment)
                _Marker.remove(segment)

    def _quarantine(self, failure: _Failure) -> None:
        directory = self._wal.directory / "quarantine"
        directory.mkdir(exist_ok=True, mode=0o700)
        stem = f"{failure.segment.name}-{failure.table}-{failure.index}"
        (directory / f"{stem}.{failure.block.fmt.lower()}").write_bytes(failure.block.data)
        meta = {"table": failure.table, "columns": failure.block.columns, "format": failure.block.fmt,
                "rows": failure.block.rows, "error": failure.error, "at": time.time()}  # fmt: skip
        (directory / f"{stem}.json").write_text(json.dumps(meta))
        self.stats.quarantined_records += 1
        log.error(
            "quarantined %d rows for %s that ClickHouse refuses (%s); kept in %s",
            failure.block.rows,
            failure.table,
            failure.error,
            directory,
        )


def _runs(members: list[tuple[int, Block]], max_bytes: int) -> list[list[tuple[int, Block]]]:
    """`members` in order, cut into as few runs of at most `max_bytes` as there can be, of about equal
    size. A segment of 32.8 MiB at 16 MiB went in as 15.5 + 15.5 MiB and then 1.8 MiB alone, an
    INSERT with a landing insert's whole fixed cost for one body; at most 24 MiB it goes in as
    16.4 + 16.4 MiB, on two lanes at once (docs/benchmarks.md). Records too uneven to share out
    fill runs in order."""
    total = sum(len(block.data) for _, block in members)
    count = min(len(members), max(1, math.ceil(total / max_bytes)))
    if count <= 1 or total == 0:
        return [members]
    runs: list[list[tuple[int, Block]]] = [[] for _ in range(count)]
    at = 0
    for member in members:  # each record to the run its middle byte falls in
        length = len(member[1].data)
        runs[min(count - 1, int((at + length / 2) * count / total))].append(member)
        at += length
    runs = [run for run in runs if run]
    if any(len(run) > 1 and sum(len(block.data) for _, block in run) > max_bytes for run in runs):
        return _chunks(members, max_bytes)
    return runs


def _chunks(members: list[tuple[int, Block]], max_bytes: int) -> list[list[tuple[int, Block]]]:
    """`members` in order, cut into runs of at most `max_bytes` of data (a larger record alone)."""
    chunks: list[list[tuple[int, Block]]] = [[]]
    size = 0
    for member in members:
        length = len(member[1].data)
        if chunks[-1] and size + length > max_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append(member)
        size += length
    return chunks


def hash_columns(columns: tuple[str, ...]) -> str:
    return format(zlib.crc32("\x1f".join(columns).encode()), "08x")


@dataclass
class _Marker:
    """Beside a segment that was split: which tables go record by record, which records are done."""

    split: set[str] = field(default_factory=set)
    done: set[str] = field(default_factory=set)

    @staticmethod
    def path(segment: Segment) -> Path:
        return segment.path.with_suffix(".split")

    @classmethod
    def load(cls, segment: Segment) -> _Marker:
        path = cls.path(segment)
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        return cls(set(data["split"]), set(data["done"]))

    def save(self, segment: Segment) -> None:
        temporary = self.path(segment).with_suffix(".tmp")
        temporary.write_text(json.dumps({"split": sorted(self.split), "done": sorted(self.done)}))
        temporary.replace(self.path(segment))

    @classmethod
    def remove(cls, segment: Segment) -> None:
        cls.path(segment).unlink(missing_ok=True)
