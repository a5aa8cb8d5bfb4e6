"""Every setting of the hopscope server, resolved once at start-up.

Each field is read from the environment variable `HOPSCOPE_<FIELD>` (for example
`HOPSCOPE_PORT=4318`, `HOPSCOPE_CLICKHOUSE_URL=http://default:pw@ch:8123/otel`); command-line
flags override the environment; the defaults below apply last.

- host, port: where the collector listens (127.0.0.1:4318, the OTLP/HTTP port).
- grpc_port: the OTLP/gRPC port on the same host (4317); 0 turns gRPC off.
- data_dir: where the embedded ClickHouse keeps its data and the write-ahead log its segments
  (./data; created 0700).
- clickhouse_url: `chdb:///abs/path` or `http(s)://user:password@host:8123/database`; default
  the embedded engine under `<data_dir>/clickhouse`.
- clickhouse_cluster: the ClickHouse cluster (a `remote_servers` name) the schema is made on:
  `ON CLUSTER`, `Replicated*MergeTree` tables and `Distributed` ones over them (storage.cluster).
- retention_days: telemetry TTL in days (7).
- max_body_bytes: largest OTLP request accepted, measured after decompression (16 MiB).
- flush_interval_seconds: how often the inserter moves the write-ahead log into ClickHouse (1.0 s); a
  segment that fills up goes at once.
- wal_max_bytes: the write-ahead log's disk budget; past it (ClickHouse down for long) requests get
  503 (4 GiB). wal_min_free_bytes: nor is the disk filled past this much free space (256 MiB).
- inflight_max_bytes: request bodies being read, decoded or logged at once; a request that would
  pass it gets 503 before its body is read (64 MiB).
- retry_after_seconds: the Retry-After sent with 503 (2).
- log_level: uvicorn and hopscope log level (info).
- ingest_workers: processes that decode and check OTLP requests (0: the collector's own threads).
  Since ClickHouse converts the bodies, a request needs ~3 µs a span in Python and shipping it to
  a worker and back cost more than that (bench/ingest.py: the collector's own CPU 4.3–5.0 µs a
  span without workers, 8.5–10.2 with two; as many spans stored). Workers help where Python does
  the heavy part: OTLP/JSON bodies, or clickhouse_converts=false.
- clickhouse_converts: ClickHouse decodes OTLP protobuf into rows itself (true); false converts
  every request in Python (the way before; for comparison).
- insert_max_bytes: the most request data one INSERT carries (24 MiB). A write-ahead log segment
  (~32 MiB) is cut into as few equal runs as it allows: two runs of ~16 MiB, on two lanes at
  once. ClickHouse holds several times a run while it converts it; larger inserts spend
  less on each insert's fixed cost.
- insert_lanes: INSERTs run at once, each on its own engine session (2). One INSERT keeps about one
  core busy; two lanes of 16 MiB moved a backlog ~1.5 times as fast as one of 32 MiB in the same
  memory (bench/ingest.py). ClickHouse's memory for inserts grows with the lanes and the runs' size
  (the collector's peak RSS at the defaults: 0.80–0.95 GiB, docs/deploy.md).
- wal_segment_bytes: the write-ahead log starts a new segment past this size (32 MiB), and the
  inserter moves a backlog a segment at a time, its runs on the lanes at once: with the defaults,
  inserts of ~16 MiB. Larger inserts spend less on each insert's fixed cost and on merges where
  memory allows: 64 MiB segments with insert_max_bytes 48 MiB (inserts of ~32 MiB) stored 4–17 %
  more spans a second in a burst, at a peak RSS of ~1,100 MiB instead of ~850 (metric points:
  +17 % at ~1,200 MiB; docs/deploy.md).
  With insert_max_bytes at a segment's size or more, a segment mostly goes in as one INSERT, on
  one lane: the collector warns at start-up.
- alert_rules_file: a YAML file of alert rules, channels and silences, validated at start-up.
- alerts, alert_interval_seconds: evaluate alert rules and deliver webhooks in this collector
  (true, every 30 s); with several collectors on one ClickHouse, the holder of a lease does.
- alert_delay_seconds: rules look at the data up to this long ago, so every service of a trace
  has exported its spans before a notification names the failure's origin (5 s).
- dashboard_url: where notifications link to (http://127.0.0.1:8501).
- webhook_timeout_seconds: how long one delivery attempt may take (10 s).
- rollups, rollup_interval_seconds: roll up the service map per minute in the background (true,
  every 30 s); with several collectors on one ClickHouse, the holder of a lease does.
- background_yield_seconds: while the write-ahead log holds more than one round of INSERTs
  (insert_lanes × insert_max_bytes), the failure analysis and the service-map roll-up skip their
  passes, for at most this long in a row (60 s; 0: never): a burst is stored first, analysed after.
- analysis, analysis_interval_seconds, analysis_settle_seconds: analyse each failing trace in the
  background once its newest span is this old (10 s), again when more spans arrive, and store its
  chains (true, every 5 s); the holder of a lease does.
- migrate_on_start: apply pending schema migrations at start-up (true); turn off where
  `hopscope migrate` runs once for a cluster.
- ingest_tokens, read_tokens, admin_tokens: comma-separated bearer tokens with those scopes (none:
  laptop mode, loopback only). insecure: listen beyond loopback without any token (false).
- webhook_allow: CIDRs and host names webhooks may be sent to although they are private (none).
- secret_key: the key channel secrets are encrypted with (default: `<data_dir>/secret.key`).
- tls_cert, tls_key: serve HTTP and gRPC over TLS with this certificate and key (PEM files).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.connection import embedded_url
from storage.wal import SEGMENT_MAX_BYTES


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOPSCOPE_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(4318, ge=0, le=65535)
    grpc_port: int = Field(4317, ge=0, le=65535)
    data_dir: Path = Path("./data")
    clickhouse_url: str | None = None
    clickhouse_cluster: str | None = Field(None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    retention_days: int = Field(7, ge=1, le=36500)
    max_body_bytes: int = Field(16 * 1024 * 1024, ge=1024)
    flush_interval_seconds: float = Field(1.0, gt=0, le=60)
    wal_max_bytes: int = Field(4 * 1024**3, ge=1024**2)
    wal_min_free_bytes: int = Field(256 * 1024**2, ge=0)
    inflight_max_bytes: int = Field(64 * 1024**2, ge=1024)
    retry_after_seconds: int = Field(2, ge=1)
    log_level: str = "info"
    migrate_on_start: bool = True
    alert_rules_file: Path | None = None
    alerts: bool = True
    alert_interval_seconds: float = Field(30.0, gt=0)
    alert_delay_seconds: float = Field(5.0, ge=0, le=300)
    dashboard_url: str = "http://127.0.0.1:8501"
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120)
    rollups: bool = True
    rollup_interval_seconds: float = Field(30.0, gt=0)
    analysis: bool = True
    background_yield_seconds: float = Field(60.0, ge=0, le=3600)
    analysis_interval_seconds: float = Field(5.0, gt=0)
    analysis_settle_seconds: float = Field(10.0, ge=0, le=600)
    ingest_workers: int = Field(0, ge=0, le=64)
    clickhouse_converts: bool = True
    insert_max_bytes: int = Field(24 * 1024**2, ge=1024**2, le=1024**3)
    insert_lanes: int = Field(2, ge=1, le=16)
    wal_segment_bytes: int = Field(SEGMENT_MAX_BYTES, ge=1024**2, le=1024**3)
    ingest_tokens: SecretStr = SecretStr("")
    read_tokens: SecretStr = SecretStr("")
    admin_tokens: SecretStr = SecretStr("")
    insecure: bool = False
    webhook_allow: str = ""
    secret_key: SecretStr | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @model_validator(mode="after")
    def _tls_pair(self) -> Settings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together")
        return self

    def insert_advice(self) -> str | None:
        """Why the inserter would leave lanes idle as configured (logged at start-up), or None."""
        if self.insert_lanes > 1 and self.insert_max_bytes >= self.wal_segment_bytes:
            return (
                f"HOPSCOPE_INSERT_MAX_BYTES ({self.insert_max_bytes}) is not below HOPSCOPE_WAL_SEGMENT_BYTES "
                f"({self.wal_segment_bytes}): a segment of the write-ahead log mostly goes in as one INSERT, "
                f"on one of the {self.insert_lanes} lanes; raise the segment size with it (docs/deploy.md)"
            )
        return None

    @property
    def has_tokens(self) -> bool:
        return any(t.get_secret_value().strip() for t in (self.ingest_tokens, self.read_tokens, self.admin_tokens))

    @property
    def laptop_mode(self) -> bool:
        """No token configured: open, and only on loopback (see collector.guard)."""
        return not self.has_tokens

    @property
    def wal_dir(self) -> Path:
        return Path(self.data_dir).resolve() / "wal"

    @property
    def storage_url(self) -> str:
        """The ClickHouse URL in effect (the embedded engine unless one was set)."""
        return self.clickhouse_url or embedded_url(self.data_dir)
