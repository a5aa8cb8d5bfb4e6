"""Storage's one entry point: `open_store(StoreOptions(...))` opens everything the collector needs
from ClickHouse — clients, schema, writer, readers, the roll-up and the alerting stores — and
`Store.close()` writes what was accepted and lets go.

Each part that may run while another does gets its own client (its own engine session): the
writer, the API's readers, the log reader (a trace's logs are read while its spans are), the
alerting stores and the roll-up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client

from storage.alert_objects import AlertRuleStore, ChannelStore, SilenceStore
from storage.alert_outbox import AlertOutbox
from storage.alert_state import AlertStateStore
from storage.connection import connect, describe
from storage.errors import StorageUnavailable
from storage.ingest import RowEncoder, row_encoder
from storage.log_reader import LogReader
from storage.metric_reader import MetricReader
from storage.migrations import is_current, migrate
from storage.service_edges import EdgeRollup
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceReader
from storage.writer import BatchWriter

log = logging.getLogger("hopscope.storage")


@dataclass(frozen=True)
class StoreOptions:
    url: str
    retention_days: int = 7
    migrate_on_start: bool = True
    flush_interval: float = 1.0
    batch_max_rows: int = 20_000
    queue_max_rows: int = 500_000


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
        self._reader_client = connect(options.url)
        log_client = connect(options.url)
        self._alert_client = connect(options.url)
        self.encoder: RowEncoder = row_encoder(writer_client)
        self.writer = BatchWriter(
            writer_client,
            flush_interval=options.flush_interval,
            max_batch_rows=options.batch_max_rows,
            max_queued_rows=options.queue_max_rows,
        )
        self.traces = TraceReader(self._reader_client)
        self.logs = LogReader(log_client)
        self.metrics = MetricReader(self._reader_client)
        self.services = ServiceReader(self._reader_client)
        self.alerting = AlertStores(
            AlertRuleStore(self._alert_client),
            ChannelStore(self._alert_client),
            SilenceStore(self._alert_client),
            AlertStateStore(self._alert_client),
            AlertOutbox(self._alert_client),
        )

    def is_current(self) -> bool:
        """Whether the schema has every migration (raises when ClickHouse cannot be asked)."""
        return is_current(self._reader_client)

    def edge_rollup(self, interval: float) -> EdgeRollup:
        """The service-map roll-up on its own session; the caller starts and stops it."""
        return EdgeRollup(connect(self.url), interval=interval)

    def close(self) -> None:
        """Write every row already submitted, then stop the writer."""
        self.writer.close()
        stats = self.writer.stats()
        log.info("writer closed: %d rows written in %d inserts", stats.rows_written, stats.inserts)


def open_store(options: StoreOptions) -> Store:
    """Open ClickHouse at `options.url`, migrate it (or check that it is current, failing fast
    otherwise: a collector that cannot store anything must not look alive), start the writer."""
    client = connect(options.url)
    if options.migrate_on_start:
        for migration in migrate(client, options.retention_days):
            log.info("applied schema migration %03d_%s", migration.version, migration.name)
    elif not is_current(client):
        raise StorageUnavailable(f"the schema at {describe(options.url)} is not current: run `hopscope migrate` first")
    store = Store(options, client)
    store.writer.start()
    log.info("storage ready at %s", describe(options.url))
    return store
