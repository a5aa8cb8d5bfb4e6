"""The schema for a ClickHouse cluster, made from the single-node migrations.

With `HOPSCOPE_CLICKHOUSE_CLUSTER=name` every migration statement is rewritten so that the same
table names work on a cluster (nothing above storage changes):

- a table `T` becomes `T_local` on every node (`ON CLUSTER`, the `Replicated*MergeTree` twin of its
  engine, replicated through ClickHouse Keeper at `/clickhouse/tables/{shard}/<database>/T_local`
  with the `{replica}` macro), and `T` a `Distributed` table over them, which the collector writes
  to and the readers read from. Spans and logs are sharded by `cityHash64(TraceId)`, so a trace
  stays on one shard and a trace lookup touches one shard; everything else by `rand()`.
- a materialized view reads and writes the `_local` tables: it works per shard.
- a landing table (ENGINE = Null: OTLP request bodies ClickHouse converts itself, migration 014) is
  created as it is on every node (the collector inserts into the node it is connected to), and its
  view writes to the `Distributed` table, so the spans it makes are sharded by trace like any other;
  its query is changed on every node (`ALTER TABLE … ON CLUSTER … MODIFY QUERY`).
- SQL functions are created, replaced or dropped on every node; a view is dropped on every node.
- a backfill (`INSERT INTO T SELECT … FROM S`) runs between the Distributed tables: with
  `parallel_distributed_insert_select = 2` each shard copies its own rows into its own `T_local`.
- `ALTER TABLE T ADD COLUMN` runs on both, so the Distributed table reads the new column too;
  settings, skip indexes and projections apply to the `_local` table (a Distributed table has
  none); the non-replicated deduplication window is not needed (replicated tables deduplicate
  inserts by default).

`hopscope migrate` (and `--dry-run`) runs them once for the cluster; collectors start with
HOPSCOPE_MIGRATE_ON_START=false.
"""

from __future__ import annotations

import re

_CREATE_TABLE = re.compile(
    r"^CREATE TABLE IF NOT EXISTS (?P<name>\w+) \((?P<columns>.*)\)\s*ENGINE = (?P<engine>\w+)(?:\((?P<args>[^)]*)\))?"
    r"(?P<rest>.*)$",
    re.S,
)
_CREATE_VIEW = re.compile(
    r"^CREATE MATERIALIZED VIEW IF NOT EXISTS (?P<name>\w+)\s+TO (?P<target>\w+)(?P<select>.*\bFROM )(?P<source>\w+)"
    r"(?P<rest>.*)$",
    re.S,
)
_ALTER = re.compile(r"^ALTER TABLE (?P<name>\w+) (?P<action>.*)$", re.S)
_DROP = re.compile(r"^DROP (?P<what>VIEW|FUNCTION) IF EXISTS (?P<name>\w+)$")
_MODIFY_QUERY = re.compile(
    r"^ALTER TABLE (?P<name>\w+) MODIFY QUERY(?P<select>.*\bFROM )(?P<source>\w+)(?P<rest>.*)$", re.S
)
_INSERT_SELECT = re.compile(r"^INSERT INTO \w+ \([^)]*\)\s*SELECT\b", re.S)
_CREATE_FUNCTION = re.compile(
    r"^CREATE (?P<how>FUNCTION IF NOT EXISTS|OR REPLACE FUNCTION) (?P<name>\w+) (?P<rest>AS .*)$", re.S
)
_LANDING = re.compile(r"^otlp_\w+_in$")
# What only a MergeTree table has: a Distributed table takes column changes, not these.
_LOCAL_ONLY = re.compile(r"^\s*(MODIFY SETTING|(ADD|DROP|MATERIALIZE|CLEAR) (INDEX|PROJECTION))\b", re.I)
_BY_TRACE = {"otel_traces", "otel_traces_trace_id_ts", "otel_logs"}


def for_cluster(statement: str, cluster: str, database: str) -> list[str]:
    """The statements that do on `cluster` what `statement` does on one node (`cluster` and
    `database` are validated identifiers: DDL cannot take bound parameters)."""
    on = f"ON CLUSTER {cluster}"
    if match := _DROP.match(statement):
        return [f"DROP {match['what']} IF EXISTS {match['name']} {on}"]
    if match := _CREATE_FUNCTION.match(statement):
        return [f"CREATE {match['how']} {match['name']} {on} {match['rest']}"]
    if (match := _CREATE_TABLE.match(statement)) and _LANDING.match(match["name"]):
        return [f"CREATE TABLE IF NOT EXISTS {match['name']} {on} ({match['columns']}) ENGINE = {match['engine']}"
                f"{match['rest']}"]  # fmt: skip
    if (match := _MODIFY_QUERY.match(statement)) and _LANDING.match(match["source"]):
        return [f"ALTER TABLE {match['name']} {on} MODIFY QUERY{match['select']}{match['source']}{match['rest']}"]
    if (match := _CREATE_VIEW.match(statement)) and _LANDING.match(match["source"]):
        return [f"CREATE MATERIALIZED VIEW IF NOT EXISTS {match['name']} {on} TO {match['target']}"
                f"{match['select']}{match['source']}{match['rest']}"]  # fmt: skip
    if match := _CREATE_TABLE.match(statement):
        name, engine, args = match["name"], match["engine"], match["args"]
        path = f"'/clickhouse/tables/{{shard}}/{database}/{name}_local', '{{replica}}'"
        replicated = f"Replicated{engine}({path}{', ' + args if args else ''})"
        shard_by = "cityHash64(TraceId)" if name in _BY_TRACE else "rand()"
        return [
            f"CREATE TABLE IF NOT EXISTS {name}_local {on} ({match['columns']}) ENGINE = {replicated}{match['rest']}",
            f"CREATE TABLE IF NOT EXISTS {name} {on} AS {name}_local "
            f"ENGINE = Distributed({cluster}, {database}, {name}_local, {shard_by})",
        ]
    if match := _CREATE_VIEW.match(statement):
        return [
            f"CREATE MATERIALIZED VIEW IF NOT EXISTS {match['name']} {on} TO {match['target']}_local"
            f"{match['select']}{match['source']}_local{match['rest']}"
        ]
    if _INSERT_SELECT.match(statement):
        # Between Distributed tables, with parallel_distributed_insert_select = 2 (the connection's
        # CLUSTER_SETTINGS): every shard copies its own rows into its own table.
        return [statement]
    if match := _ALTER.match(statement):
        name, action = match["name"], match["action"]
        if "non_replicated_deduplication_window" in action:
            return []
        if _LOCAL_ONLY.match(action):
            return [f"ALTER TABLE {name}_local {on} {action}"]
        return [f"ALTER TABLE {name}_local {on} {action}", f"ALTER TABLE {name} {on} {action}"]
    raise ValueError(f"no cluster form for: {statement[:80]}")
