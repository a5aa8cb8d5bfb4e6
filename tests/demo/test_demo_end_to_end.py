"""The demo shop end to end: collector + seven demo processes on free ports, load with faults on,
then everything checked from storage (spans, links, logs, metrics, exceptions)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from demo import load
from hopscope_cli.collector_process import CollectorProcess
from hopscope_cli.demo import Demo
from hopscope_cli.processes import query_data_dir
from tests.polling import wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """Run the scenario once; the tests below read what it stored."""
    tmp = tmp_path_factory.mktemp("shop")
    with CollectorProcess(tmp / "data") as collector:
        demo = Demo(collector.url, tmp / "demo").start()
        try:
            send = lambda n: asyncio.run(load.run(demo.urls["frontend"], rate=20, count=n, every=0))  # noqa: E731
            healthy = send(8)
            for fault in ("payment_glitch", "inventory_down", "shipping_failure"):
                demo.set_fault(fault, True)
            absorbed = send(8)
            for fault in ("payment_glitch", "inventory_down", "shipping_failure"):
                demo.set_fault(fault, False)
            demo.set_fault("ledger_timeout", True)
            broken = send(4)
            demo.set_fault("ledger_timeout", False)
            demo.set_fault("slow_db", True)
            slow = send(3)
            demo.set_fault("slow_db", False)
            wait_until(lambda: httpx.get(demo.urls["queue"] + "/topics/orders").json()["depth"] == 0, 30, "shipping")
        finally:
            exits = demo.stop()
        failures = httpx.get(collector.url + "/api/v1/failures?since=30m", timeout=60).json()
    return {
        "failures": failures,
        "data": tmp / "data",
        "healthy": healthy,
        "absorbed": absorbed,
        "broken": broken,
        "slow": slow,
        "exits": exits,
    }


def q(shop, sql):
    return query_data_dir(shop["data"], sql)


def test_users_see_what_the_faults_should_show(shop):
    assert (shop["healthy"].ok, shop["healthy"].failed) == (8, 0)
    assert (shop["absorbed"].ok, shop["absorbed"].failed) == (8, 0)  # fallback and retry hide these faults
    assert (shop["broken"].ok, shop["broken"].failed) == (0, 4)  # the ledger timeout reaches the user
    assert max(shop["exits"].values()) < 5, shop["exits"]


def test_traces_cross_at_least_five_services(shop):
    rows = q(
        shop,
        "SELECT TraceId, uniqExact(ServiceName) AS services, groupUniqArray(ServiceName) AS names "
        "FROM otel_traces GROUP BY TraceId HAVING services >= 5",
    )
    assert len(rows) >= 16
    assert {"frontend", "checkout", "inventory", "payment", "ledger", "queue", "shipping"} <= set(
        max(rows, key=lambda r: r["services"])["names"]
    )


def test_every_parent_is_found_across_process_boundaries(shop):
    orphans = q(
        shop,
        "SELECT count() AS n FROM otel_traces AS c LEFT ANTI JOIN otel_traces AS p "
        "ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId WHERE c.ParentSpanId != ''",
    )
    assert orphans == [{"n": 0}]
    hops = q(
        shop,
        "SELECT p.ServiceName AS caller, c.ServiceName AS callee, p.SpanKind AS kind, count() AS n "
        "FROM otel_traces AS c JOIN otel_traces AS p ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId "
        "WHERE c.ServiceName != p.ServiceName GROUP BY caller, callee, kind",
    )
    edges = {(h["caller"], h["callee"]) for h in hops if h["kind"] in ("Client", "Producer")}
    assert {
        ("frontend", "checkout"),
        ("checkout", "inventory"),
        ("checkout", "payment"),
        ("payment", "ledger"),
        ("checkout", "queue"),
        ("checkout", "shipping"),
    } <= edges


def test_the_asynchronous_hop_is_linked_to_its_producer(shop):
    rows = q(
        shop,
        "SELECT c.TraceId AS trace, c.ParentSpanId AS parent, c.Links.SpanId AS links, p.SpanKind AS kind "
        "FROM otel_traces AS c JOIN otel_traces AS p ON c.TraceId = p.TraceId AND c.ParentSpanId = p.SpanId "
        "WHERE c.ServiceName = 'shipping' AND c.SpanKind = 'Consumer'",
    )
    assert len(rows) >= 16  # every placed order was shipped (or failed to ship) in its own trace
    assert all(r["kind"] == "Producer" and r["links"] == [r["parent"]] for r in rows)


def test_logs_carry_the_trace_ids_of_their_requests(shop):
    rows = q(
        shop,
        "SELECT l.ServiceName AS service, l.Body AS body, l.SeverityText AS severity, "
        "t.SpanName AS span FROM otel_logs AS l JOIN otel_traces AS t "
        "ON l.TraceId = t.TraceId AND l.SpanId = t.SpanId",
    )
    placed = [r for r in rows if r["service"] == "frontend" and r["body"].startswith("order ")]
    assert len(placed) >= 16 and all(r["span"] == "POST /checkout" for r in placed)
    assert any(r["service"] == "ledger" and r["severity"] == "ERROR" for r in rows)
    unlinked = q(shop, "SELECT count() AS n FROM otel_logs WHERE TraceId = '' AND ServiceName != ''")
    assert unlinked == [{"n": 0}]  # every log line of the shop was written inside a request


def test_http_server_duration_metrics_arrived(shop):
    # Cumulative histograms: the latest point of each series holds its total.
    rows = q(
        shop,
        "SELECT ServiceName, sum(latest) AS requests FROM (SELECT ServiceName, Attributes, "
        "argMax(Count, TimeUnix) AS latest FROM otel_metrics_histogram "
        "WHERE MetricName IN ('http.server.duration', 'http.server.request.duration') "
        "GROUP BY ServiceName, Attributes) GROUP BY ServiceName",
    )
    counts = {r["ServiceName"]: r["requests"] for r in rows}
    assert {"frontend", "checkout", "payment", "ledger", "inventory"} <= set(counts)
    assert counts["frontend"] >= 20


def _exceptions(shop, where):
    return q(
        shop,
        "SELECT ServiceName, SpanName, SpanKind, StatusCode, "
        "arrayFilter((a, n) -> n = 'exception', Events.Attributes, Events.Name) AS ex "
        f"FROM otel_traces WHERE {where}",
    )


def test_injected_faults_are_recorded_on_the_right_spans(shop):
    glitches = _exceptions(shop, "ServiceName = 'payment' AND SpanKind = 'Server' AND StatusCode = 'Error'")
    card = [g for g in glitches if any(e["exception.type"].endswith("CardProcessorError") for e in g["ex"])]
    assert len(card) == 8  # the first attempt of each of the 8 orders placed while payment_glitch was on
    assert all(e["exception.message"].startswith("card processor rejected") for g in card for e in g["ex"])

    db = _exceptions(shop, "ServiceName = 'ledger' AND SpanKind = 'Client' AND StatusCode = 'Error'")
    assert db and all(g["SpanName"] == "INSERT" for g in db)
    shipping = _exceptions(shop, "ServiceName = 'shipping' AND StatusCode = 'Error'")
    assert len(shipping) == 8
    assert all(any(e["exception.type"].endswith("ShipmentError") for e in g["ex"]) for g in shipping)


def test_unhandled_exceptions_land_on_the_server_span_with_type_message_and_stack(shop):
    rows = _exceptions(shop, "ServiceName = 'ledger' AND SpanKind = 'Server' AND StatusCode = 'Error'")
    assert rows
    for row in rows:
        event = next(e for e in row["ex"] if e["exception.type"].endswith("OperationalError"))
        assert event["exception.message"] == "database is locked"
        assert "Traceback" in event["exception.stacktrace"] and "ledger.py" in event["exception.stacktrace"]


def test_a_slow_database_slows_the_whole_path(shop):
    assert (shop["slow"].ok, shop["slow"].failed) == (3, 0)
    rows = q(
        shop,
        "SELECT s.Duration AS db, f.Duration AS frontend FROM otel_traces AS s JOIN otel_traces AS f "
        "ON s.TraceId = f.TraceId WHERE s.ServiceName = 'ledger' AND s.SpanName = 'WITH' "
        "AND f.ServiceName = 'frontend' AND f.SpanKind = 'Server'",
    )
    assert len(rows) == 3
    typical = q(
        shop,
        "SELECT quantile(0.5)(Duration) AS d FROM otel_traces WHERE ServiceName = 'ledger' "
        "AND SpanName = 'INSERT' AND StatusCode != 'Error'",
    )[0]["d"]
    for row in rows:
        assert row["db"] > 10 * typical  # the slow query dominates the ledger's work...
        assert row["frontend"] > row["db"]  # ...and the user waits for it


def _groups(shop, origin_service):
    return [g for g in shop["failures"]["groups"] if g["origin"]["service"] == origin_service]


def test_the_ledger_timeout_is_one_problem_whose_origin_is_the_ledger(shop):
    [group] = _groups(shop, "ledger")
    assert group["origin"]["operation"] == "INSERT" and group["origin"]["peer"] == "sqlite"
    assert group["origin"]["normalized_error"].endswith("OperationalError")
    assert group["path"] == ["frontend", "checkout", "payment", "ledger"]
    assert group["traces"] == 4 and group["propagated_traces"] == 4  # every broken checkout, seen by users
    assert group["entry_points"] == [{"service": "frontend", "operation": "POST /checkout", "traces": 4}]
    assert shop["failures"]["groups"][0]["signature"] == group["signature"]  # the most impactful problem


def test_absorbed_faults_are_reported_as_absorbed(shop):
    for service, error in (("inventory", "HTTP 503"), ("payment", "CardProcessorError"), ("shipping", "ShipmentError")):
        [group] = [g for g in _groups(shop, service) if g["origin"]["normalized_error"].endswith(error)]
        assert group["traces"] == 8 and group["absorbed_traces"] == 8 and group["propagated_traces"] == 0, service
    [inventory] = _groups(shop, "inventory")
    assert inventory["origin"]["normalized_error"] == "HTTP 503"
    assert inventory["path"] == ["frontend", "checkout", "inventory"]
