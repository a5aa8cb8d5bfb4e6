"""ClickHouse converts OTLP itself (migration 014): it must write exactly the rows the Python
conversion (storage.model) writes, column by column, for every request of the corpus, and refuse
with HOPSCOPE_PYTHON_PATH what it does not reproduce (those requests take the Python conversion)."""

from __future__ import annotations

import uuid

import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

from storage.inserter import PYTHON_PATH
from storage.model import spans_to_batch
from storage.model.traces import TRACE_COLUMNS
from storage.otlp_schema import LANDING_TABLES, delimited, insert_settings
from tests.storage.corpus import corpus

_STORED = """
SELECT toUnixTimestamp64Nano(Timestamp), TraceId, SpanId, ParentSpanId, TraceState, SpanName, SpanKind, ServiceName,
       ResourceAttributes, ScopeName, ScopeVersion, SpanAttributes, Duration, StatusCode, StatusMessage,
       arrayMap(t -> toUnixTimestamp64Nano(t), Events.Timestamp), Events.Name, Events.Attributes,
       Links.TraceId, Links.SpanId, Links.TraceState, Links.Attributes
FROM otel_traces WHERE TraceId IN {ids:Array(String)}
"""


def _comparable(value):
    """Maps compared with their order (a Map keeps its pairs in order), lists element by element."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, (list, tuple)):
        return [_comparable(v) for v in value]
    return value


def _rows(columns: dict[str, list]) -> list[list]:
    return [list(row) for row in zip(*(columns[name] for name in TRACE_COLUMNS), strict=True)]


def _insert_for_clickhouse(ch, body: bytes) -> None:
    table = LANDING_TABLES["traces"]
    settings = insert_settings(table) | {"insert_deduplication_token": uuid.uuid4().hex}
    ch.raw_insert(table, None, insert_block=delimited(body), fmt="Protobuf", settings=settings)


@pytest.mark.parametrize("entry", corpus(), ids=lambda entry: entry[0])
def test_clickhouse_writes_exactly_the_rows_python_writes(ch, entry):
    name, request, python_path = entry
    batch, rejected = spans_to_batch(request)
    assert rejected.count == 0, f"the corpus request {name!r} holds spans the converters refuse"
    expected = sorted(_comparable(_rows(batch.columns)), key=lambda row: (row[1], row[2]))
    try:
        _insert_for_clickhouse(ch, request.SerializeToString())
    except DatabaseError as exc:
        assert python_path and PYTHON_PATH in str(exc), f"{name}: {exc}"
        return
    assert not python_path, f"{name}: SQL converted a request it was expected to leave to Python"
    stored = ch.query(_STORED, parameters={"ids": sorted(set(batch.columns["TraceId"]))}).result_rows
    actual = sorted(_comparable([list(row) for row in stored]), key=lambda row: (row[1], row[2]))
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        for column, g, w in zip(TRACE_COLUMNS, got, want, strict=True):
            assert g == w, f"{name}: {column} differs for span {want[2]}: ClickHouse {g!r:.300}, Python {w!r:.300}"
