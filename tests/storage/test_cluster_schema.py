"""The cluster schema: every migration rewritten for a cluster parses in ClickHouse's own parser
(`formatQuery`), and says what a cluster needs (nothing runs: no cluster here)."""

from __future__ import annotations

import re

from storage.cluster import for_cluster
from storage.migrations import load_migrations


def _cluster_statements() -> list[str]:
    return [
        out
        for migration in load_migrations(7)
        for statement in migration.statements
        for out in for_cluster(statement, "hopscope", "otel")
    ]


def test_every_cluster_statement_parses(ch):
    statements = _cluster_statements()
    assert len(statements) > 30
    for statement in statements:
        formatted = ch.query("SELECT formatQuery({q:String})", parameters={"q": statement}).result_rows[0][0]
        if formatted.startswith("INSERT INTO"):  # a backfill: between Distributed tables, shard by shard
            continue
        assert "ON CLUSTER hopscope" in formatted, statement[:120]


def test_tables_are_replicated_and_distributed_by_trace_id():
    statements = _cluster_statements()
    creates = [s for s in statements if s.startswith("CREATE TABLE")]
    local = [s for s in creates if "_local ON CLUSTER" in s.split("(", 1)[0]]
    assert local and all("ENGINE = Replicated" in s and "{shard}" in s and "{replica}" in s for s in local)
    traces = next(s for s in creates if s.startswith("CREATE TABLE IF NOT EXISTS otel_traces ON CLUSTER"))
    assert "Distributed(hopscope, otel, otel_traces_local, cityHash64(TraceId))" in traces
    view = next(s for s in statements if "MATERIALIZED VIEW" in s)
    assert "TO otel_traces_trace_id_ts_local" in view and "FROM otel_traces_local" in view
    # Request bodies land on the node the collector talks to; their spans go through the Distributed table.
    landing = next(s for s in creates if s.startswith("CREATE TABLE IF NOT EXISTS otlp_traces_in ON CLUSTER"))
    assert "ENGINE = Null" in landing
    landing_view = next(s for s in statements if "MATERIALIZED VIEW IF NOT EXISTS otlp_traces_in_mv" in s)
    assert "TO otel_traces AS" in landing_view and "FROM otlp_traces_in ARRAY JOIN" in landing_view
    assert not any("non_replicated_deduplication_window" in s for s in statements)
    added = [s for s in statements if "ADD COLUMN IF NOT EXISTS HopscopeFailed" in s]
    assert {s.split()[2] for s in added} == {"otel_traces_local", "otel_traces"}


def test_migrate_dry_run_prints_the_cluster_schema(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "HOPSCOPE_CLICKHOUSE_CLUSTER": "hopscope"}
    done = subprocess.run([sys.executable, "-m", "hopscope_cli", "migrate", "--dry-run", "--data-dir", str(tmp_path)],
                          capture_output=True, text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "CREATE TABLE IF NOT EXISTS otel_traces_local ON CLUSTER hopscope" in done.stdout
    assert "ENGINE = Distributed(hopscope, default, otel_traces_local, cityHash64(TraceId))" in done.stdout


def test_indexes_and_projections_are_altered_on_the_local_tables_only():
    # A Distributed table refuses them ("Alter of type 'ADD_INDEX' is not supported by storage
    # Distributed"): the shards' tables carry them.
    statements = _cluster_statements()
    for marker in ("ADD INDEX IF NOT EXISTS idx_link_trace_id", "ADD PROJECTION IF NOT EXISTS trace_id_order",
                   "MATERIALIZE PROJECTION trace_id_order", "ADD INDEX IF NOT EXISTS idx_text"):  # fmt: skip
        altered = [s.split()[2] for s in statements if marker in s]
        assert altered and all(name.endswith("_local") for name in altered), (marker, altered)


def test_metric_points_are_converted_on_the_node_and_sorted_into_the_distributed_tables():
    # Migration 023: the old views are dropped on every node; the points' Null table is on every node
    # (like a landing table), and the views sorting its rows write to the Distributed tables.
    statements = _cluster_statements()
    assert "DROP VIEW IF EXISTS otlp_metrics_in_gauge_mv ON CLUSTER hopscope" in statements
    points = next(s for s in statements if s.startswith("CREATE TABLE IF NOT EXISTS otlp_metric_points_in ON"))
    assert "ENGINE = Null" in points and "_local" not in points
    convert = next(s for s in statements if "VIEW IF NOT EXISTS otlp_metrics_in_points_mv" in s)
    assert "TO otlp_metric_points_in AS" in convert and "FROM otlp_metrics_in ARRAY JOIN" in convert
    gauge = next(s for s in statements if "VIEW IF NOT EXISTS otlp_metric_points_in_gauge_mv" in s)
    assert "TO otel_metrics_gauge AS" in gauge and "FROM otlp_metric_points_in\nWHERE" in gauge


def test_the_landing_views_queries_change_on_every_node():
    # Migrations 027-029: the landing views' queries are replaced in place on every node (no moment
    # without a view, when a landing table would swallow an insert), still reading the landing table.
    statements = _cluster_statements()
    for view, landing in (("otlp_traces_in_mv", "otlp_traces_in"), ("otlp_logs_in_mv", "otlp_logs_in"),
                          ("otlp_metrics_in_points_mv", "otlp_metrics_in")):  # fmt: skip
        modify = [s for s in statements if s.startswith(f"ALTER TABLE {view} ")]
        assert modify, view
        for statement in modify:
            assert statement.startswith(f"ALTER TABLE {view} ON CLUSTER hopscope MODIFY QUERY")
            assert re.search(rf"\bFROM {landing}\b", statement) and "_local" not in statement


def test_the_links_backfill_runs_shard_by_shard_between_the_distributed_tables():
    # Migration 025 copies the links stored before its view into otel_traces_links. On a cluster the
    # statement names the Distributed tables; the migrating connection's
    # parallel_distributed_insert_select = 2 makes every shard copy its own rows to its own table.
    from storage.connection import CLUSTER_SETTINGS

    statements = _cluster_statements()
    backfill = [s for s in statements if s.startswith("INSERT INTO")]
    assert len(backfill) == 1
    assert backfill[0].startswith("INSERT INTO otel_traces_links (") and "FROM otel_traces ARRAY JOIN" in backfill[0]
    assert "_local" not in backfill[0]
    assert CLUSTER_SETTINGS["parallel_distributed_insert_select"] == 2
    table = next(s for s in statements if s.startswith("CREATE TABLE IF NOT EXISTS otel_traces_links ON CLUSTER"))
    assert "Distributed(hopscope, otel, otel_traces_links_local, rand())" in table
    view = next(s for s in statements if "VIEW IF NOT EXISTS otel_traces_links_mv" in s)
    assert "TO otel_traces_links_local" in view and "FROM otel_traces_local ARRAY JOIN" in view
    dropped = [s for s in statements if "DROP INDEX IF EXISTS idx_link_trace_id" in s]
    assert dropped and all(s.split()[2] == "otel_traces_local" for s in dropped)
