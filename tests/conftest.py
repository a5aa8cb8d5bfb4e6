"""Shared fixtures. Storage and collector tests run against the real embedded ClickHouse (chDB),
one data directory for the whole test process (chDB allows one path per process)."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from collector.main import create_app
from collector.settings import Settings
from storage.connection import connect
from storage.migrations import migrate


@pytest.fixture(scope="session")
def storage_url(tmp_path_factory) -> str:
    return "chdb://" + str(tmp_path_factory.mktemp("chdb") / "clickhouse")


@pytest.fixture(scope="session")
def ch(storage_url):
    """A client on the test process's embedded ClickHouse, schema applied."""
    client = connect(storage_url)
    migrate(client, ttl_days=7)
    return client


@pytest.fixture
def service_name() -> str:
    """A service name no other test uses, so tests sharing the store do not see each other's rows."""
    return "svc-" + uuid.uuid4().hex[:12]


def make_settings(storage_url: str, **overrides) -> Settings:
    return Settings(clickhouse_url=storage_url, flush_interval_seconds=0.05, **overrides)


@pytest.fixture
def collector(storage_url, ch):
    """The collector app served in-process by Starlette's TestClient (lifespan included)."""
    with TestClient(create_app(make_settings(storage_url))) as client:
        yield client
