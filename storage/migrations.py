"""Versioned schema migrations, applied at start-up and by `hopscope migrate`.

Each migration is one file under `storage/sql/` named `NNN_name.sql`; its statements are
idempotent (`IF NOT EXISTS`), so a run interrupted half-way is completed by the next one. A
migration is recorded in `hopscope_schema_migrations` only after all its statements ran.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from clickhouse_connect.driver.client import Client

from storage.cluster import for_cluster
from storage.connection import validate_identifier
from storage.errors import SchemaTooNew, StorageUnavailable
from storage.otlp_schema import landing_types
from storage.sql_text import compose

MIGRATIONS_TABLE = "hopscope_schema_migrations"

_CREATE_MIGRATIONS_TABLE = """
CREATE TABLE IF NOT EXISTS hopscope_schema_migrations (
    Version UInt32,
    Name String,
    AppliedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = ReplacingMergeTree
ORDER BY Version
"""
_MIGRATIONS_TABLE_EXISTS = (
    "SELECT count() FROM system.tables WHERE database = currentDatabase() AND name = 'hopscope_schema_migrations'"
)
_SELECT_APPLIED = "SELECT DISTINCT Version FROM hopscope_schema_migrations ORDER BY Version"
_RECORD = "INSERT INTO hopscope_schema_migrations (Version, Name) VALUES ({version:UInt32}, {name:String})"

_FILE_NAME = re.compile(r"^(\d{3})_(\w+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


def _split(sql: str) -> tuple[str, ...]:
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return tuple(s.strip() for s in "\n".join(lines).split(";") if s.strip())


def load_migrations(ttl_days: int, cluster: str | None = None, database: str = "default") -> list[Migration]:
    """All migrations shipped with this version, in order, with the retention filled in; for a
    ClickHouse cluster (`cluster`), rewritten by `storage.cluster.for_cluster`."""
    ttl = int(ttl_days)
    if ttl < 1:
        raise ValueError("retention must be at least one day")
    found = []
    for entry in resources.files("storage").joinpath("sql").iterdir():
        match = _FILE_NAME.match(entry.name)
        if match:
            # Only a validated integer is put into the DDL text; DDL cannot take bound parameters.
            text = compose(entry.read_text(encoding="utf-8"), ttl_days=str(ttl), **landing_types())
            statements = _split(text)
            if cluster:
                statements = tuple(out for s in statements for out in for_cluster(s, cluster, database))
            found.append(Migration(int(match.group(1)), match.group(2), statements))
    return sorted(found, key=lambda m: m.version)


def latest_version() -> int:
    return max(m.version for m in load_migrations(1))


def applied_versions(client: Client, cluster: str | None = None) -> set[int]:
    for statement in (
        for_cluster(_CREATE_MIGRATIONS_TABLE.strip(), cluster, _database(client))
        if cluster
        else [_CREATE_MIGRATIONS_TABLE]
    ):
        client.command(statement)
    return {row[0] for row in client.query(_SELECT_APPLIED).result_rows}


def _refuse_newer(done: set[int]) -> None:
    known = latest_version()
    if done and max(done) > known:
        raise SchemaTooNew(
            f"the store's schema is at version {max(done)}, newer than this hopscope knows ({known}): "
            "upgrade hopscope (a newer one migrated this store)"
        )


def _database(client: Client) -> str:
    return validate_identifier(getattr(client, "database", None) or "default")


def pending(client: Client, ttl_days: int, cluster: str | None = None) -> list[Migration]:
    """The migrations `migrate` would apply, in order. Changes nothing."""
    exists = client.query(_MIGRATIONS_TABLE_EXISTS).result_rows[0][0]
    done = {row[0] for row in client.query(_SELECT_APPLIED).result_rows} if exists else set()
    _refuse_newer(done)
    return [m for m in load_migrations(ttl_days, cluster, _database(client)) if m.version not in done]


def migrate(client: Client, ttl_days: int, cluster: str | None = None) -> list[Migration]:
    """Apply every pending migration; returns those applied (empty when the schema is current).
    SchemaTooNew when a newer hopscope migrated the store: this one must not write to it."""
    try:
        done = applied_versions(client, cluster)
        _refuse_newer(done)
        applied = []
        for migration in load_migrations(ttl_days, cluster, _database(client)):
            if migration.version in done:
                continue
            for statement in migration.statements:
                client.command(statement)
            client.command(_RECORD, parameters={"version": migration.version, "name": migration.name})
            applied.append(migration)
        return applied
    except SchemaTooNew:
        raise
    except Exception as exc:
        raise StorageUnavailable(f"schema migration failed: {exc}") from exc


def is_current(client: Client) -> bool:
    """True when every migration this version ships has been applied."""
    exists = client.query(_MIGRATIONS_TABLE_EXISTS).result_rows[0][0]
    if not exists:
        return False
    versions = {row[0] for row in client.query(_SELECT_APPLIED).result_rows}
    _refuse_newer(versions)
    return all(m.version in versions for m in load_migrations(1))
