"""Shared FastAPI dependencies: the collaborators `create_app` put on `app.state`.
Tests replace them with `app.dependency_overrides`."""

from __future__ import annotations

from clickhouse_connect.driver.client import Client
from fastapi import Request

from collector.settings import Settings
from storage.writer import BatchWriter


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_writer(request: Request) -> BatchWriter:
    return request.app.state.writer


def get_reader_client(request: Request) -> Client:
    return request.app.state.reader_client
