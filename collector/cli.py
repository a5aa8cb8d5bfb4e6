"""The `hopscope` command: `hopscope collector`, `hopscope up`, `hopscope migrate`.

Flags override `HOPSCOPE_*` environment variables, which override the defaults (see
collector.settings). Settings are resolved here once and passed down.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from pydantic import ValidationError

from collector.settings import Settings

_FLAGS = {  # flag -> (settings field, type, help)
    "--host": ("host", str, "listen address (HOPSCOPE_HOST, default 127.0.0.1)"),
    "--port": ("port", int, "OTLP/HTTP port (HOPSCOPE_PORT, default 4318)"),
    "--data-dir": ("data_dir", str, "data directory for the embedded ClickHouse (HOPSCOPE_DATA_DIR, default ./data)"),
    "--clickhouse-url": (
        "clickhouse_url",
        str,
        "chdb:///abs/path or http(s)://user:pass@host:8123/db "
        "(HOPSCOPE_CLICKHOUSE_URL, default chdb://<data-dir>/clickhouse)",
    ),
    "--retention-days": ("retention_days", int, "days telemetry is kept (HOPSCOPE_RETENTION_DAYS, default 7)"),
    "--log-level": ("log_level", str, "debug, info, warning or error (HOPSCOPE_LOG_LEVEL, default info)"),
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
    up = commands.add_parser(
        "up",
        help="run everything that exists: today the collector",
        description="Start the whole platform on this machine (embedded ClickHouse, no server).",
    )
    _add_flags(up, serve_flags)
    migrate = commands.add_parser(
        "migrate",
        help="apply schema migrations and exit",
        description="Create or upgrade the ClickHouse schema, then exit. Run it once for a "
        "cluster and start collectors with HOPSCOPE_MIGRATE_ON_START=false.",
    )
    _add_flags(migrate, ("--data-dir", "--clickhouse-url", "--retention-days", "--log-level"))
    return parser


def resolve_settings(args: argparse.Namespace) -> Settings:
    """Settings from the environment, with every flag that was given taking precedence."""
    overrides = {
        field: getattr(args, field) for field, _, _ in _FLAGS.values() if getattr(args, field, None) is not None
    }
    return Settings(**overrides)


def _serve(settings: Settings) -> int:
    import uvicorn

    from collector.main import create_app

    class _Server(uvicorn.Server):
        """uvicorn waits for in-flight requests before the app's shutdown runs; ours wait for their
        rows' flush, so shutdown first tells the writer to stop lingering."""

        def __init__(self, config, app) -> None:
            super().__init__(config)
            self._app = app

        def handle_exit(self, sig, frame) -> None:
            super().handle_exit(sig, frame)
            writer = getattr(self._app.state, "writer", None)
            if writer is not None:
                # A signal handler must not take the writer's lock (the interrupted code may hold it).
                threading.Thread(target=writer.drain, daemon=True).start()

    print(
        f"hopscope collector: OTLP/HTTP on http://{settings.host}:{settings.port}  "
        f"(storage: {settings.storage_url.split('@')[-1]})",
        flush=True,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=30,
    )
    # uvicorn drains requests and runs the app's shutdown (the writer's final flush) on SIGTERM or
    # SIGINT, then re-raises the signal to the handler that was installed before it. Installing
    # a no-op there makes a completed graceful shutdown exit 0, as supervisors expect.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server = _Server(config, app)
    server.run()
    return 0 if server.started else 1


def _migrate(settings: Settings) -> int:
    from storage.connection import connect, describe
    from storage.migrations import migrate

    applied = migrate(connect(settings.storage_url), settings.retention_days)
    for migration in applied:
        print(f"applied {migration.version:03d}_{migration.name}")
    print(f"schema current at {describe(settings.storage_url)} ({len(applied)} migrations applied)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = resolve_settings(args)
    except ValidationError as exc:
        print(f"hopscope: invalid setting: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "migrate":
        return _migrate(settings)
    return _serve(settings)


if __name__ == "__main__":
    sys.exit(main())
