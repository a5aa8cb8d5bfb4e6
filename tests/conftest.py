"""Shared fixtures. Storage and collector tests run against the real embedded ClickHouse (chDB),
one data directory for the whole test process (chDB allows one path per process)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from collector.main import create_app
from collector.settings import Settings
from storage.connection import connect
from storage.migrations import migrate

# This test process's scratch directories, removed when it exits (a run used to leave ~1,000 behind).
_SCRATCH = Path(tempfile.mkdtemp(prefix="hopscope-test-"))
atexit.register(shutil.rmtree, _SCRATCH, ignore_errors=True)

# Where a running demo records itself for `hopscope fault` (hopscope_cli.demo.pointer_file): a
# directory of this test run, not the user's.
os.environ["XDG_STATE_HOME"] = tempfile.mkdtemp(prefix="state-", dir=_SCRATCH)


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
    """Settings for an in-process collector on the test store, its write-ahead log in a fresh
    directory unless `data_dir` is given."""
    overrides.setdefault("data_dir", Path(tempfile.mkdtemp(prefix="data-", dir=_SCRATCH)))
    overrides.setdefault("grpc_port", 0)  # several in-process collectors may run at once
    return Settings(clickhouse_url=storage_url, flush_interval_seconds=0.05, **overrides)


class StoringClient(TestClient):
    """Exports are answered once logged durably, and inserted a moment later; tests read right
    after they write, so each accepted export waits here until the inserter has moved it."""

    def __init__(self, app, base_url: str = "http://127.0.0.1", **kwargs) -> None:
        # A loopback Host: laptop mode refuses others (DNS rebinding); Starlette's default is "testserver".
        super().__init__(app, base_url=base_url, **kwargs)

    def post(self, url, *args, **kwargs):  # type: ignore[override]
        response = super().post(url, *args, **kwargs)
        if str(url).startswith("/v1/") and response.status_code == 200:
            assert self.app.state.store.inserter.flush(), "the inserter did not empty the log"  # type: ignore[attr-defined]
        return response


@pytest.fixture
def collector(storage_url, ch, tmp_path):
    """The collector app served in-process by Starlette's TestClient (lifespan included)."""
    with StoringClient(create_app(make_settings(storage_url, data_dir=tmp_path / "data"))) as client:
        yield client


@pytest.fixture
def quiet_collector(storage_url, ch, tmp_path):
    """A collector whose background analysis is off: the test runs the analyzer itself
    (`quiet_collector.analyzer.run_once()`)."""
    from diagnosis.analyzer import ChainAnalyzer

    settings = make_settings(storage_url, data_dir=tmp_path / "data", analysis=False, alerts=False)
    with StoringClient(create_app(settings)) as client:
        store = client.app.state.store
        client.analyzer = ChainAnalyzer(store.traces, store.chains, settle=10.0)  # type: ignore[attr-defined]
        yield client
