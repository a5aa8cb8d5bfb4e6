"""Shared FastAPI dependencies: the collaborators `create_app` put on `app.state`.
Tests replace them with `app.dependency_overrides`."""

from __future__ import annotations

from typing import Annotated

from clickhouse_connect.driver.client import Client
from fastapi import Depends, Request

from collector.pipeline import IngestPipeline
from collector.settings import Settings
from storage.log_reader import LogReader
from storage.metric_reader import MetricReader
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceReader
from storage.writer import BatchWriter


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_writer(request: Request) -> BatchWriter:
    return request.app.state.writer


def get_pipeline(request: Request) -> IngestPipeline:
    return request.app.state.pipeline


def get_trace_reader(request: Request) -> TraceReader:
    return TraceReader(request.app.state.reader_client)


def get_log_reader(request: Request) -> LogReader:
    # Its own engine session, so a trace's logs are read while its spans are.
    return LogReader(request.app.state.log_client)


def get_metric_reader(request: Request) -> MetricReader:
    return MetricReader(request.app.state.reader_client)


def get_service_reader(request: Request) -> ServiceReader:
    return ServiceReader(request.app.state.reader_client)


def get_reader_client(request: Request) -> Client:
    return request.app.state.reader_client


SettingsDep = Annotated[Settings, Depends(get_settings)]
WriterDep = Annotated[BatchWriter, Depends(get_writer)]
ReaderClientDep = Annotated[Client, Depends(get_reader_client)]
PipelineDep = Annotated[IngestPipeline, Depends(get_pipeline)]
TraceReaderDep = Annotated[TraceReader, Depends(get_trace_reader)]
LogReaderDep = Annotated[LogReader, Depends(get_log_reader)]
ServiceReaderDep = Annotated[ServiceReader, Depends(get_service_reader)]
MetricReaderDep = Annotated[MetricReader, Depends(get_metric_reader)]
