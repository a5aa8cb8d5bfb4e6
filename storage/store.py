"""Storage's one entry point: `open_store(StoreOptions(...))` opens everything the collector needs
from ClickHouse — clients, schema, the write-ahead log and its inserter, readers, the roll-up and
the alerting stores — and `Store.close()` inserts what was accepted and lets go.

Each part that may run while another does gets its own client (its own engine session): the
inserter, the API's readers, the log reader (a trace's logs are read while its spans are), the
alerting stores and the roll-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from clickhouse_connect.driver.client import Client

from storage.alert_objects import AlertRuleStore, ApiKeyStore, ChannelStore, SilenceStore
from storage.alert_outbox import AlertOutbox
from storage.alert_state import AlertStateStore
from storage.chain_store import ChainStore
from storage.compare_reader import CompareReader
from storage.connection import connect, describe
from storage.errors import ConfigurationError, StorageUnavailable
from storage.ingest import RowEncoder, Rows, row_encoder
from storage.inserter import Inserter
from storage.leases import LeaseKeeper, Leases
from storage.log_reader import LogReader
from storage.metric_reader import MetricReader
from storage.migrations import is_current, migrate
from storage.service_edges import EdgeRollup
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceReader
from storage.wal import SEGMENT_MAX_BYTES, WriteAheadLog

log = logging.getLogger("hopscope.storage")


@dataclass(frozen=True)
class StoreOptions:
    url: str
    wal_dir: Path
    retention_days: int = 7
    migrate_on_start: bool = True
    insert_interval: float = 1.0
    wal_max_bytes: int = 4 * 1024**3
    wal_min_free_bytes: int = 256 * 1024**2
    cluster: str | None = None
    clickhouse_converts: bool = True  # ClickHouse decodes OTLP itself where it can (storage.ingest)
    insert_max_bytes: int = 24 * 1024**2  # one INSERT's data at most (its memory in ClickHouse)
    insert_lanes: int = 2  # INSERTs at once, each on its own session (memory: lanes x insert_max_bytes)
    wal_segment_bytes: int = SEGMENT_MAX_BYTES  # a backlog is moved a segment at a time, cut into runs


@dataclass(frozen=True)
class AlertStores:
    """What alerting keeps in ClickHouse, each store named for what it holds."""

    rules: AlertRuleStore
    channels: ChannelStore
    silences: SilenceStore
    state: AlertStateStore
    outbox: AlertOutbox


class Store:
    """The opened store. Readers are cheap views on shared clients; thread-safe as the driver is."""

    def __init__(self, options: StoreOptions, writer_client: Client) -> None:
        self.url = options.url
        self._cluster = options.cluster is not None
        self._reader_client = connect(options.url, self._cluster)
        log_client = connect(options.url, self._cluster)
        self._alert_client = connect(options.url, self._cluster)
        self.encoder: RowEncoder = row_encoder(writer_client, options.retention_days, options.clickhouse_converts)
        self.wal = WriteAheadLog(
            options.wal_dir,
            max_bytes=options.wal_max_bytes,
            min_free_bytes=options.wal_min_free_bytes,
            segment_max_bytes=options.wal_segment_bytes,
        )
        # Records are at most `retention` old or a day ahead (storage.ingest): that many daily
        # partitions, and a few to spare, may be in one insert.
        self.inserter = Inserter(
            self.wal,
            writer_client,
            interval=options.insert_interval,
            max_partitions=max(100, options.retention_days + 3),
            python_blocks=self.encoder.python_blocks,
            max_insert_bytes=options.insert_max_bytes,
            lanes=[connect(options.url, self._cluster) for _ in range(options.insert_lanes - 1)],
        )
        self.traces = TraceReader(self._reader_client)
        self.logs = LogReader(log_client)
        self.metrics = MetricReader(self._reader_client)
        self.services = ServiceReader(self._reader_client)
        self.compare = CompareReader(self._reader_client)
        self.chains = ChainStore(self._reader_client)
        self.alerting = AlertStores(
            AlertRuleStore(self._alert_client),
            ChannelStore(self._alert_client),
            SilenceStore(self._alert_client),
            AlertStateStore(self._alert_client),
            AlertOutbox(self._alert_client),
        )
        self.api_keys = ApiKeyStore(self._alert_client)

    def accept(self, rows: Rows) -> Future:
        """Log `rows` durably; the future completes once they are fsynced in the write-ahead log
        (then they may be acknowledged) and fails with WalClosed. WalFull at once when the log is
        at its budget. The inserter moves them into ClickHouse behind the acknowledgement."""
        if not rows.blocks:
            done: Future = Future()
            done.set_result(None)
            return done
        return self.wal.append(rows.blocks)

    def is_current(self) -> bool:
        """Whether the schema has every migration (raises when ClickHouse cannot be asked)."""
        return is_current(self._reader_client)

    def edge_rollup(self, interval: float, may_run: Callable[[], bool] = lambda: True) -> EdgeRollup:
        """The service-map roll-up on its own session; the caller starts and stops it."""
        return EdgeRollup(connect(self.url, self._cluster), interval=interval, may_run=may_run)

    def session(self) -> Client:
        """A client on its own engine session, for a background loop."""
        return connect(self.url, self._cluster)

    def lease_keeper(self, holder: str, names: tuple[str, ...]) -> LeaseKeeper:
        """Leases for once-only work, held on their own session by `holder` (a collector's id)."""
        return LeaseKeeper(Leases(connect(self.url, self._cluster), holder), names)

    def close(self, insert_timeout: float = 30.0) -> None:
        """Take no more records, insert what the log holds (for up to `insert_timeout` seconds;
        whatever is left stays on disk and is inserted at the next start)."""
        self.wal.close()
        self.inserter.stop()
        complete = self.inserter.flush(insert_timeout)
        stats, left = self.inserter.stats, self.wal.stats()
        log.info("inserter stopped: %d rows in %d inserts", stats.rows_inserted, stats.inserts)
        if not complete:
            log.warning("%d records stay in the write-ahead log for the next start", left.records)


def open_store(options: StoreOptions) -> Store:
    """Open ClickHouse at `options.url`, migrate it (or check that it is current, failing fast
    otherwise: a collector that cannot store anything must not look alive), then open the write-ahead
    log (its segments from before the start are inserted first) and start the inserter."""
    if options.cluster and options.url.startswith("chdb:"):
        raise ConfigurationError("a ClickHouse cluster needs a server URL (http(s)://…), not the embedded engine")
    client = connect(options.url, options.cluster is not None)
    if options.migrate_on_start:
        for migration in migrate(client, options.retention_days, options.cluster):
            log.info("applied schema migration %03d_%s", migration.version, migration.name)
    elif not is_current(client):
        raise StorageUnavailable(f"the schema at {describe(options.url)} is not current: run `hopscope migrate` first")
    store = Store(options, client)
    store.wal.open()
    store.inserter.start()
    log.info("storage ready at %s", describe(options.url))
    return store
