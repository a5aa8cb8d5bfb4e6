"""The collector application: `create_app()` wires settings, storage and routers, nothing else."""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool

from alerting.conditions import Readers
from alerting.delivery import Deliverer
from alerting.evaluator import Evaluator
from alerting.rules import AlertConfig, Channel, Silence, load_config, parse_rule
from collector import health, otlp_codec, otlp_http
from collector.api import alert_rules, alerts, failures, logs, metrics, services, traces
from collector.api.errors import ApiError, api_error, validation_error
from collector.errors import OtlpError
from collector.pipeline import TABLES, IngestPipeline
from collector.rollups import EdgeRollup
from collector.settings import Settings
from storage.alert_store import CHANNELS, SILENCES, AlertOutbox, AlertRuleStore
from storage.connection import connect, describe
from storage.errors import StorageUnavailable
from storage.log_reader import LogReader
from storage.metric_reader import MetricReader
from storage.migrations import is_current as schema_is_current
from storage.migrations import migrate
from storage.native import read_schema
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceReader
from storage.writer import BatchWriter

log = logging.getLogger("hopscope.collector")


async def _otlp_error(request: Request, exc: OtlpError) -> Response:
    try:
        fmt = otlp_codec.media_format(request.headers.get("content-type"))
    except OtlpError:
        fmt = otlp_codec.JSON
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return Response(otlp_codec.status_body(exc, fmt), status_code=exc.status, media_type=fmt, headers=headers)


def load_alert_config(path) -> AlertConfig | None:
    """The rule file, validated; ConfigError (with file:line:field problems) when it is invalid."""
    if path is None:
        return None
    return load_config(Path(path).read_text(encoding="utf-8"), source=str(path))


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the collector. Storage is opened (and migrated, unless disabled) when the app starts;
    on shutdown every row already accepted is written before the app stops."""
    settings = settings or Settings()
    alert_config = load_alert_config(settings.alert_rules_file)  # a bad rule file stops start-up here

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        url = settings.storage_url
        writer_client = await run_in_threadpool(connect, url)
        if settings.migrate_on_start:
            applied = await run_in_threadpool(migrate, writer_client, settings.retention_days)
            for migration in applied:
                log.info("applied schema migration %03d_%s", migration.version, migration.name)
        elif not await run_in_threadpool(schema_is_current, writer_client):
            # Fail fast: a collector that cannot store anything must not look alive to a supervisor.
            raise StorageUnavailable(f"the schema at {describe(url)} is not current: run `hopscope migrate` first")
        app.state.reader_client = await run_in_threadpool(connect, url)
        app.state.log_client = await run_in_threadpool(connect, url)
        schema = await run_in_threadpool(read_schema, writer_client, TABLES)
        app.state.pipeline = IngestPipeline(schema, settings.ingest_workers)
        writer = BatchWriter(
            writer_client,
            flush_interval=settings.flush_interval_seconds,
            max_batch_rows=settings.batch_max_rows,
            max_queued_rows=settings.queue_max_rows,
        )
        writer.start()
        app.state.writer = writer
        evaluator = deliverer = None
        if settings.alerts:
            alert_client = await run_in_threadpool(connect, url)
            readers = Readers(
                TraceReader(alert_client),
                ServiceReader(alert_client),
                LogReader(alert_client),
                MetricReader(alert_client),
            )
            outbox = AlertOutbox(alert_client)
            rule_store = AlertRuleStore(alert_client)
            channel_store = AlertRuleStore(alert_client, CHANNELS)
            silence_store = AlertRuleStore(alert_client, SILENCES)
            evaluator = Evaluator(
                readers,
                outbox,
                alert_config,
                lambda: [parse_rule(b) for b in rule_store.all().values()],
                settings.dashboard_url,
                interval=settings.alert_interval_seconds,
                api_channels=lambda: [Channel.model_validate(b) for b in channel_store.all().values()],
                api_silences=lambda: [Silence.model_validate(b) for b in silence_store.all().values()],
            )
            deliverer = Deliverer(outbox, lambda: evaluator.channels, timeout=settings.webhook_timeout_seconds)
            await run_in_threadpool(evaluator.start)
            deliverer.start()
        app.state.evaluator, app.state.deliverer = evaluator, deliverer
        rollup = None
        if settings.rollups:
            rollup = EdgeRollup(ServiceReader(app.state.reader_client), interval=settings.rollup_interval_seconds)
            rollup.start()
        log.info("storage ready at %s", describe(url))
        try:
            yield
        finally:
            if rollup is not None:
                await run_in_threadpool(rollup.stop)
            if evaluator is not None:
                await run_in_threadpool(evaluator.stop)
                await run_in_threadpool(deliverer.stop)
            await run_in_threadpool(app.state.pipeline.close)
            await run_in_threadpool(writer.close)
            stats = writer.stats()
            log.info("writer closed: %d rows written in %d inserts", stats.rows_written, stats.inserts)

    app = FastAPI(
        title="hopscope collector",
        version="0.1.0",
        summary="OTLP/HTTP receiver storing traces, logs and metrics in ClickHouse",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.alert_config = alert_config
    app.add_exception_handler(OtlpError, _otlp_error)
    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.include_router(otlp_http.router)
    app.include_router(health.router)
    for router in (
        traces.router,
        failures.router,
        services.router,
        logs.router,
        metrics.router,
        alert_rules.router,
        alerts.router,
    ):
        app.include_router(router)
    return app
