"""The service-map roll-up: a store rolled up per minute answers exactly as the live join did."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from hopscope_cli.collector_process import CollectorProcess
from hopscope_cli.processes import query_data_dir
from tests.analysis.scenarios import ERROR, S, to_request

pytestmark = pytest.mark.slow
PB = {"Content-Type": "application/x-protobuf"}


def _edges(url: str) -> dict:
    body = httpx.get(url + "/api/v1/service-map", params={"since": "1h"}, timeout=60).json()
    return {(e["caller"], e["callee"]): (e["calls"], e["errors"], round(e["p50_ns"], -3)) for e in body["edges"]}


_ROLL_UP = """
import sys
from storage.connection import connect
from storage.service_edges import EdgeRollup
print(EdgeRollup(connect("chdb://" + sys.argv[1])).run_once())
"""


def _roll_up(data) -> None:
    path = str((data / "clickhouse").resolve())
    done = subprocess.run([sys.executable, "-c", _ROLL_UP, path], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and int(done.stdout.split()[-1]) > 0, done.stderr


def test_rolled_up_minutes_answer_like_the_live_join(tmp_path):
    data = tmp_path / "data"
    now = time.time_ns()
    with CollectorProcess(data, env={"HOPSCOPE_ROLLUPS": "false"}) as live:
        for minutes_ago in (25, 18, 12, 7, 3, 0.5):  # old minutes get rolled up; the last stays live
            for i in range(3):
                spans = [
                    S("root", "web", "GET /", status=ERROR if i == 0 else 0),
                    S(
                        "call",
                        "web",
                        "GET",
                        kind="Client",
                        parent="root",
                        status=ERROR if i == 0 else 0,
                        duration_ms=8 + i,
                    ),
                    S("api", "api", "GET /x", parent="call", status=ERROR if i == 0 else 0),
                    S("db", "api", "SELECT", kind="Client", parent="api", attrs={"db.system": "postgresql"}),
                ]
                body = to_request(spans, os.urandom(16).hex(), now - int(minutes_ago * 60 * 10**9) + i)
                assert (
                    httpx.post(live.url + "/v1/traces", content=body.SerializeToString(), headers=PB).status_code == 200
                )
        live.wait_stored()
        expected = _edges(live.url)
    assert expected[("web", "api")][:2] == (18, 6) and expected[("api", "postgresql")][:2] == (18, 0)
    assert query_data_dir(data, "SELECT count() AS n FROM hopscope_service_edges") == [{"n": 0}]

    # The roll-up pass the collector's background thread runs, run once here on the stopped store.
    _roll_up(data)
    minutes = query_data_dir(
        data, "SELECT count() AS rows, sum(Calls) AS calls FROM hopscope_service_edges WHERE Caller = 'web'"
    )
    assert minutes == [{"rows": 5, "calls": 15}]  # five old minutes rolled up; the newest still live
    with CollectorProcess(data, env={"HOPSCOPE_ROLLUPS": "false"}) as rolled:
        assert _edges(rolled.url) == expected


_NEW_STORE = """
import sys, time
from storage.connection import connect
from storage.migrations import migrate
from storage.service_edges import MINUTE_NS, EdgeRollup
client = connect("chdb://" + sys.argv[1])
migrate(client, 7)
rollup = EdgeRollup(client)
print(rollup.run_once())
client.command("INSERT INTO otel_traces (Timestamp, TraceId, SpanId, ServiceName, SpanName, SpanKind) "
               "VALUES (now64(9) - INTERVAL 10 MINUTE, 'ab', 'cd', 'web', 'GET', 'Client')")
print(rollup.run_once())
"""


def test_a_new_store_is_rolled_up_from_its_first_span_not_a_day_of_empty_minutes(tmp_path):
    path = str(tmp_path / "clickhouse")
    done = subprocess.run([sys.executable, "-c", _NEW_STORE, path], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    empty, after_one_span = (int(n) for n in done.stdout.split()[-2:])
    # Nothing stored: nothing to roll up. One span 10 minutes ago: its minute up to two minutes ago (the lag).
    assert empty == 0 and 7 <= after_one_span <= 9
