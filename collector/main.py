"""The collector application: `create_app()` wires settings, storage, alerting and routers.

Storage is opened (and migrated, unless disabled) when the app starts; on shutdown every row
already accepted is written before the app stops.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi_offline import FastAPIOffline
from starlette.concurrency import run_in_threadpool

from alerting.conditions import Readers
from alerting.egress import EgressPolicy
from alerting.rules import AlertConfig, load_config_file
from alerting.service import AlertingService
from collector import health, otlp_codec, otlp_http
from collector.api import (
    alert_channels,
    alert_rules,
    alerts,
    compare,
    failures,
    logs,
    metrics,
    notifications,
    services,
    silences,
    traces,
)
from collector.api import (
    keys as keys_api,
)
from collector.api.errors import ApiError, api_error, validation_error
from collector.auth import KeyRing, env_tokens
from collector.errors import OtlpError
from collector.exposure import check_exposure, private_data_dir
from collector.guard import Doors
from collector.otlp_grpc import grpc_server
from collector.pipeline import IngestPipeline
from collector.selfmetrics import SelfMetrics
from collector.settings import Settings
from collector.shedding import BackgroundYield, InflightBudget
from core.allocator import fix_mmap_threshold
from diagnosis.analyzer import ChainAnalyzer
from storage.chain_store import ChainStore
from storage.leases import LeaseKeeper
from storage.secret_box import SecretBox
from storage.store import Store, StoreOptions, open_store
from storage.trace_reader import TraceReader

log = logging.getLogger("hopscope.collector")

_ROUTERS = (
    otlp_http.router,
    health.router,
    traces.router,
    failures.router,
    compare.router,
    services.router,
    logs.router,
    metrics.router,
    alert_rules.router,
    alerts.router,
    notifications.router,
    alert_channels.router,
    silences.router,
    keys_api.router,
)


async def _otlp_error(request: Request, exc: OtlpError) -> Response:
    try:
        fmt = otlp_codec.media_format(request.headers.get("content-type"))
    except OtlpError:
        fmt = otlp_codec.JSON
    headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return Response(otlp_codec.status_body(exc, fmt), status_code=exc.status, media_type=fmt, headers=headers)


def _store_options(settings: Settings) -> StoreOptions:
    return StoreOptions(
        url=settings.storage_url,
        wal_dir=settings.wal_dir,
        retention_days=settings.retention_days,
        migrate_on_start=settings.migrate_on_start,
        insert_interval=settings.flush_interval_seconds,
        wal_max_bytes=settings.wal_max_bytes,
        wal_min_free_bytes=settings.wal_min_free_bytes,
        cluster=settings.clickhouse_cluster,
        clickhouse_converts=settings.clickhouse_converts,
        insert_max_bytes=settings.insert_max_bytes,
        insert_lanes=settings.insert_lanes,
        wal_segment_bytes=settings.wal_segment_bytes,
    )


ROLLUP_LEASE, ALERTING_LEASE, ANALYSIS_LEASE = "service-map-rollup", "alerting", "failure-analysis"


def _analyzer(
    store: Store, settings: Settings, may_run: Callable[[], bool], yielding: BackgroundYield
) -> ChainAnalyzer:
    """The failure analysis in the background, on its own engine session, giving way to inserts."""
    session = store.session()
    return ChainAnalyzer(
        TraceReader(session), ChainStore(session), interval=settings.analysis_interval_seconds,
        settle=settings.analysis_settle_seconds, may_run=lambda: may_run() and yielding(),
        stop_early=yielding.stop_early,
    )  # fmt: skip


def _alerting(store: Store, settings: Settings, config: AlertConfig | None, leases: LeaseKeeper) -> AlertingService:
    readers = Readers(store.traces, store.services, store.logs, store.metrics, store.compare, store.chains)
    secret_key = settings.secret_key.get_secret_value() if settings.secret_key else None
    return AlertingService(
        store.alerting,
        readers,
        config,
        secrets=SecretBox.open(secret_key, settings.data_dir),
        # In laptop mode the receivers are on this machine too (the demo's, a local test hook).
        egress=EgressPolicy.parse(settings.webhook_allow, allow_loopback=settings.laptop_mode),
        dashboard_url=settings.dashboard_url,
        interval=settings.alert_interval_seconds,
        delay=settings.alert_delay_seconds,
        webhook_timeout=settings.webhook_timeout_seconds,
        may_run=lambda: leases.holds(ALERTING_LEASE),
    )


def create_app(settings: Settings | None = None, alert_config: AlertConfig | None = None) -> FastAPI:
    """Build the collector. `alert_config` is the rule file already loaded (by the command line);
    without it the file named in the settings is loaded here, and a bad one stops start-up."""
    settings = settings or Settings()
    if alert_config is None:
        alert_config = load_config_file(settings.alert_rules_file)

    check_exposure(settings)
    if advice := settings.insert_advice():
        log.warning(advice)
    keys = KeyRing(env_tokens(*(t.get_secret_value() for t in (settings.ingest_tokens, settings.read_tokens,
                                                                settings.admin_tokens))), None)  # fmt: skip

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        fix_mmap_threshold()  # large buffers given back when freed (core.allocator)
        private_data_dir(settings.data_dir)
        store = await run_in_threadpool(open_store, _store_options(settings))
        app.state.store = store
        keys.attach(store.api_keys)
        await run_in_threadpool(keys.reload)
        keys.start()
        app.state.pipeline = await run_in_threadpool(IngestPipeline, store.encoder, settings.ingest_workers)
        app.state.inflight = InflightBudget(settings.inflight_max_bytes)
        # Once-only work (roll-up, alerting) runs on the collector holding its lease: start every
        # collector alike, one of them does it, another takes over within a minute if it dies.
        leases = store.lease_keeper(uuid.uuid4().hex, (ROLLUP_LEASE, ALERTING_LEASE, ANALYSIS_LEASE))
        await run_in_threadpool(leases.start)
        app.state.leases = leases
        app.state.alerting = alerting = _alerting(store, settings, alert_config, leases)
        app.state.metrics.watch(store, app.state.inflight, alerting, leases)
        if settings.alerts:
            await run_in_threadpool(alerting.start)
        # Background work gives way to inserts while a burst is moved into ClickHouse (shedding).
        backlog, round_bytes = (lambda: store.wal.stats().bytes), settings.insert_max_bytes * settings.insert_lanes
        rollup_yield = BackgroundYield(backlog, round_bytes, settings.background_yield_seconds)
        analysis_yield = BackgroundYield(backlog, round_bytes, settings.background_yield_seconds)
        rollup = (
            store.edge_rollup(
                settings.rollup_interval_seconds, may_run=lambda: leases.holds(ROLLUP_LEASE) and rollup_yield()
            )
            if settings.rollups
            else None
        )
        if rollup is not None:
            rollup.start()
        analysis = (
            _analyzer(store, settings, lambda: leases.holds(ANALYSIS_LEASE), analysis_yield)
            if settings.analysis
            else None
        )
        if analysis is not None:
            analysis.start()
        grpc = (
            grpc_server(settings, store, app.state.pipeline, app.state.inflight, keys, app.state.metrics)
            if settings.grpc_port
            else None
        )
        if grpc is not None:
            await grpc.start()
        try:
            yield
        finally:
            if grpc is not None:
                await grpc.stop(grace=10)  # answers the exports in flight, takes no new ones
            if rollup is not None:
                await run_in_threadpool(rollup.stop)
            if analysis is not None:
                await run_in_threadpool(analysis.stop)
            await run_in_threadpool(alerting.stop)
            await run_in_threadpool(keys.stop)
            await run_in_threadpool(leases.stop)
            await run_in_threadpool(app.state.pipeline.close)
            await run_in_threadpool(store.close)

    # /docs (Swagger UI) with its scripts, styles and icon served from the fastapi-offline package:
    # the API docs work without a network (FastAPI's own load a CDN). No ReDoc: its page still
    # loads a logo from the internet.
    app = FastAPIOffline(
        static_url="/docs/assets",
        redoc_url=None,
        title="hopscope collector",
        version="0.1.0",
        summary="OTLP/HTTP receiver storing traces, logs and metrics in ClickHouse",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.keys = keys
    app.state.metrics = SelfMetrics()
    app.add_middleware(Doors, keys=keys, also_allowed=frozenset({settings.host}))  # type: ignore[arg-type]
    app.add_exception_handler(OtlpError, _otlp_error)  # type: ignore[arg-type]
    app.add_exception_handler(ApiError, api_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, validation_error)  # type: ignore[arg-type]
    for router in _ROUTERS:
        app.include_router(router)
    return app
