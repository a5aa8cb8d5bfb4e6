"""The `hopscope` command: `hopscope collector | up | migrate | dashboard | fault`.

Flags override `HOPSCOPE_*` environment variables, which override the defaults (see
collector.settings). Settings and the alert rule file are read here once and passed down.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from alerting.rules import AlertConfig, ConfigError, load_config, load_config_file
from collector.settings import Settings
from hopscope_cli.keys import add_commands as add_key_commands

if TYPE_CHECKING:
    from collector.server import Companion

_FLAGS = {  # flag -> (settings field, type, help)
    "--host": ("host", str, "listen address (HOPSCOPE_HOST, default 127.0.0.1)"),
    "--port": ("port", int, "OTLP/HTTP port (HOPSCOPE_PORT, default 4318)"),
    "--grpc-port": ("grpc_port", int, "OTLP/gRPC port (HOPSCOPE_GRPC_PORT, default 4317; 0 turns it off)"),
    "--data-dir": ("data_dir", str, "data directory for the embedded ClickHouse (HOPSCOPE_DATA_DIR, default ./data)"),
    "--clickhouse-url": (
        "clickhouse_url",
        str,
        "chdb:///abs/path or http(s)://user:pass@host:8123/db "
        "(HOPSCOPE_CLICKHOUSE_URL, default chdb://<data-dir>/clickhouse)",
    ),
    "--retention-days": ("retention_days", int, "days telemetry is kept (HOPSCOPE_RETENTION_DAYS, default 7)"),
    "--log-level": ("log_level", str, "debug, info, warning or error (HOPSCOPE_LOG_LEVEL, default info)"),
    "--tls-cert": ("tls_cert", str, "serve HTTP and gRPC over TLS with this PEM certificate (HOPSCOPE_TLS_CERT)"),
    "--tls-key": ("tls_key", str, "…and this PEM private key (HOPSCOPE_TLS_KEY)"),
}


def _add_flags(parser: argparse.ArgumentParser, names: tuple[str, ...]) -> None:
    for flag in names:
        field, kind, help_text = _FLAGS[flag]
        parser.add_argument(flag, dest=field, type=kind, default=None, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hopscope",
        description="hopscope: collect OpenTelemetry traces, logs and metrics into ClickHouse and follow "
        "failures across service hops to where they started.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    serve_flags = tuple(_FLAGS)
    collector = commands.add_parser(
        "collector",
        help="run the OTLP collector alone",
        description="Run the OTLP/HTTP collector (POST /v1/traces, /v1/logs, /v1/metrics).",
    )
    _add_flags(collector, serve_flags)
    collector.add_argument(
        "--insecure", action="store_true", help="listen beyond loopback without tokens (HOPSCOPE_INSECURE)"
    )
    up = commands.add_parser(
        "up",
        help="run everything: the collector and the dashboard (and with --demo the demo shop)",
        description="Start the whole platform on this machine (embedded ClickHouse, no server).",
    )
    _add_flags(up, serve_flags)
    up.add_argument("--insecure", action="store_true", help="listen beyond loopback without tokens (HOPSCOPE_INSECURE)")
    up.add_argument("--dashboard-port", type=int, default=8501, help="dashboard port (default 8501)")
    up.add_argument("--no-dashboard", action="store_true", help="do not start the dashboard")
    up.add_argument("--demo", action="store_true", help="also start the demo shop and steady load against it")
    up.add_argument("--demo-rate", type=float, default=2.0, help="demo requests per second (default 2)")
    up.add_argument(
        "--demo-faults", default="", help="faults on from the start, comma-separated (see `hopscope fault`)"
    )
    migrate = commands.add_parser(
        "migrate",
        help="apply schema migrations and exit",
        description="Create or upgrade the ClickHouse schema, then exit. Run it once for a "
        "cluster and start collectors with HOPSCOPE_MIGRATE_ON_START=false.",
    )
    _add_flags(migrate, ("--data-dir", "--clickhouse-url", "--retention-days", "--log-level"))
    migrate.add_argument("--dry-run", action="store_true", help="print the statements that would run, change nothing")
    dashboard = commands.add_parser(
        "dashboard",
        help="run the on-call dashboard alone",
        description="Run the Streamlit dashboard, reading the collector's query API.",
    )
    dashboard.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    dashboard.add_argument("--port", type=int, default=8501, help="port (default 8501)")
    dashboard.add_argument(
        "--api-url", default="http://127.0.0.1:4318", help="the collector (default http://127.0.0.1:4318)"
    )
    fault = commands.add_parser(
        "fault",
        help="switch a demo fault on or off (no arguments: list them)",
        description="Switch a named fault on or off in the demo started by `hopscope up --demo`.",
    )
    fault.add_argument("name", nargs="?", help="fault name; omit to list the faults")
    fault.add_argument("state", nargs="?", choices=("on", "off"))
    _add_flags(fault, ("--data-dir",))
    add_key_commands(commands)
    return parser


def resolve_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with every flag that was given taking precedence."""
    overrides = {
        field: getattr(args, field) for field, _, _ in _FLAGS.values() if getattr(args, field, None) is not None
    }
    if getattr(args, "insecure", False):
        overrides["insecure"] = True
    return Settings(**overrides)


def _serve(
    settings: Settings, args: argparse.Namespace, alert_config: AlertConfig | None, receiver: Companion | None = None
) -> int:
    from collector.server import serve
    from hopscope_cli.up import companions

    grpc = f", OTLP/gRPC on {settings.host}:{settings.grpc_port}" if settings.grpc_port else ""
    print(
        f"hopscope collector: OTLP/HTTP on http://{settings.host}:{settings.port}{grpc}  "
        f"(storage: {settings.storage_url.split('@')[-1]})",
        flush=True,
    )
    from collector.exposure import ExposureRefused

    try:
        if args.command == "collector":
            return serve(settings, alert_config)
        return serve(settings, alert_config, companion=companions(settings, args, receiver))
    except ExposureRefused as exc:  # create_app checks before anything listens
        print(f"hopscope: {exc}", file=sys.stderr)
        return 2


def _dashboard(args: argparse.Namespace) -> int:
    from hopscope_cli.dashboard import run

    return run(args.host, args.port, args.api_url)


def _fault(settings: Settings, args: argparse.Namespace) -> int:
    from demo.faults import FAULTS
    from hopscope_cli.demo import active_faults, find_demo, set_fault

    chosen = args.data_dir is not None or "HOPSCOPE_DATA_DIR" in os.environ
    try:
        services = find_demo(Path(settings.data_dir).resolve() / "demo", look_elsewhere=not chosen)
    except FileNotFoundError as exc:
        services, missing = {}, str(exc)
    if args.name is None:
        active = active_faults(services) if services else None
        if active is None:
            print("no demo running (start one with `hopscope up --demo`); its faults:")
        for name, text in FAULTS.items():
            state = "   " if active is None else ("on " if name in active else "off")
            print(f"{state} {name:18} {text}")
        if active is not None:
            print("switch one with `hopscope fault NAME on|off`")
        return 0
    if args.state is None:
        print("hopscope fault: say on or off", file=sys.stderr)
        return 2
    if not services:
        print(f"hopscope fault: {missing}", file=sys.stderr)
        return 2
    try:
        took = set_fault(services, args.name, args.state == "on")
    except ValueError as exc:
        print(f"hopscope fault: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name} switched {args.state} in {len(took)} of {len(services)} demo services")
    return 0 if took else 1


def _migrate(settings: Settings, dry_run: bool) -> int:
    from storage.connection import connect, describe
    from storage.errors import SchemaTooNew
    from storage.migrations import migrate, pending

    client = connect(settings.storage_url)
    try:
        if dry_run:
            todo = pending(client, settings.retention_days, settings.clickhouse_cluster)
            for migration in todo:
                print(f"-- {migration.version:03d}_{migration.name}")
                for statement in migration.statements:
                    print(statement + ";\n")
            print(f"-- {len(todo)} migrations pending at {describe(settings.storage_url)}; nothing was changed")
            return 0
        applied = migrate(client, settings.retention_days, settings.clickhouse_cluster)
    except SchemaTooNew as exc:
        print(f"hopscope migrate: {exc}", file=sys.stderr)
        return 2
    for migration in applied:
        print(f"applied {migration.version:03d}_{migration.name}")
    print(f"schema current at {describe(settings.storage_url)} ({len(applied)} migrations applied)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "dashboard":
        return _dashboard(args)
    if args.command == "keys":
        from hopscope_cli.keys import run

        return run(args)
    try:
        settings = resolve_settings(args)
    except ValidationError as exc:
        print(f"hopscope: invalid setting: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per HTTP request is noise here
    alert_config = None
    if args.command in ("collector", "up"):
        try:
            alert_config = load_config_file(settings.alert_rules_file)
        except (ConfigError, OSError) as exc:
            print(f"hopscope: the alert rule file is invalid:\n{exc}", file=sys.stderr)
            return 2
    receiver = None
    if args.command == "up" and args.demo and alert_config is None:
        # The demo's own rules, notifying a local receiver: breaking the demo fires alerts.
        from demo.receiver import WebhookReceiver, rules_for
        from hopscope_cli.processes import free_port

        receiver = WebhookReceiver(free_port(), Path(settings.data_dir).resolve() / "demo")
        alert_config = load_config(rules_for(receiver.url), source="demo/alerts.yaml")
    if args.command == "migrate":
        return _migrate(settings, args.dry_run)
    if args.command == "fault":
        return _fault(settings, args)
    return _serve(settings, args, alert_config, receiver)


if __name__ == "__main__":
    sys.exit(main())
