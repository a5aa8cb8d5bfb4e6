"""Shared FastAPI dependencies: the collaborators `create_app` opened, for the routers.
Routers take these and nothing from `app.state`; tests replace them with `app.dependency_overrides`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from alerting.service import AlertingService
from collector.api.errors import ApiError
from collector.auth import KeyRing
from collector.pipeline import IngestPipeline
from collector.selfmetrics import SelfMetrics
from collector.settings import Settings
from collector.shedding import InflightBudget
from storage.alert_objects import ApiKeyStore
from storage.chain_store import ChainStore
from storage.compare_reader import CompareReader
from storage.log_reader import LogReader
from storage.metric_reader import MetricReader
from storage.service_reader import ServiceReader
from storage.store import Store
from storage.trace_reader import TraceReader


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_inflight(request: Request) -> InflightBudget:
    return request.app.state.inflight


def get_pipeline(request: Request) -> IngestPipeline:
    return request.app.state.pipeline


def get_trace_reader(store: Annotated[Store, Depends(get_store)]) -> TraceReader:
    return store.traces


def get_log_reader(store: Annotated[Store, Depends(get_store)]) -> LogReader:
    return store.logs


def get_metric_reader(store: Annotated[Store, Depends(get_store)]) -> MetricReader:
    return store.metrics


def get_service_reader(store: Annotated[Store, Depends(get_store)]) -> ServiceReader:
    return store.services


def get_compare_reader(store: Annotated[Store, Depends(get_store)]) -> CompareReader:
    return store.compare


def get_chain_store(store: Annotated[Store, Depends(get_store)]) -> ChainStore:
    return store.chains


def get_self_metrics(request: Request) -> SelfMetrics:
    return request.app.state.metrics


def get_keys(request: Request) -> KeyRing:
    return request.app.state.keys


def get_key_store(store: Annotated[Store, Depends(get_store)]) -> ApiKeyStore:
    return store.api_keys


def get_alerting(request: Request) -> AlertingService:
    return request.app.state.alerting


def get_running_alerting(alerting: Annotated[AlertingService, Depends(get_alerting)]) -> AlertingService:
    """Alerting, for what only a collector that evaluates alerts can answer (409 otherwise)."""
    if not alerting.running:
        raise ApiError(409, "alerting is off", "this collector does not evaluate alerts (HOPSCOPE_ALERTS=false)")
    return alerting


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
InflightDep = Annotated[InflightBudget, Depends(get_inflight)]
PipelineDep = Annotated[IngestPipeline, Depends(get_pipeline)]
TraceReaderDep = Annotated[TraceReader, Depends(get_trace_reader)]
LogReaderDep = Annotated[LogReader, Depends(get_log_reader)]
ServiceReaderDep = Annotated[ServiceReader, Depends(get_service_reader)]
CompareReaderDep = Annotated[CompareReader, Depends(get_compare_reader)]
ChainStoreDep = Annotated[ChainStore, Depends(get_chain_store)]
MetricReaderDep = Annotated[MetricReader, Depends(get_metric_reader)]
AlertingDep = Annotated[AlertingService, Depends(get_alerting)]
KeysDep = Annotated[KeyRing, Depends(get_keys)]
SelfMetricsDep = Annotated[SelfMetrics, Depends(get_self_metrics)]
KeyStoreDep = Annotated[ApiKeyStore, Depends(get_key_store)]
RunningAlertingDep = Annotated[AlertingService, Depends(get_running_alerting)]
