"""Every dashboard page rendered by Streamlit's AppTest against a real collector with seeded data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import httpx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.common import FAILURE_CARDS
from tests.polling import wait_until

PAGES = Path(__file__).resolve().parents[2] / "dashboard" / "views"


def _run(page: str, monkeypatch, url: str, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("HOPSCOPE_API_URL", url)
    app = AppTest.from_file(str(PAGES / page), default_timeout=60)
    for key, value in (query or {}).items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def _text(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [e.value for e in app.error] + [i.value for i in app.info]
    parts += [s.value for s in app.success] + [c.value for c in app.caption] + [t.value for t in app.title]
    parts += [w.value for w in app.warning]
    return "\n".join(str(p) for p in parts)


def test_overview_shows_services_and_the_top_failure_chain(seeded_collector, monkeypatch):
    app = _run("overview.py", monkeypatch, seeded_collector.url)
    table = app.dataframe[0].value
    assert {"frontend", "checkout", "payment", "ledger", "inventory"} <= set(table["service"])
    text = _text(app)
    assert "**ledger** · `INSERT` — sqlite3.OperationalError" in text
    assert "frontend → checkout → payment → **ledger** → sqlite" in text and "6 traces" in text


def test_failures_page_groups_chains_with_links_and_filters(seeded_collector, monkeypatch):
    app = _run("failures.py", monkeypatch, seeded_collector.url)
    text = _text(app)
    assert "### ledger · INSERT — sqlite3.OperationalError" in text
    assert "### inventory · GET /stock/{sku} — HTTP 503" in text
    assert "propagated in 6" in text and "absorbed in 6" in text
    assert f"/trace?trace_id={seeded_collector.traces['broken'][-1]}" in text
    app.radio[0].set_value("Absorbed (hidden by a caller)").run()
    text = _text(app)
    assert "inventory · GET /stock/{sku}" in text and "ledger · INSERT" not in text


def test_trace_deep_link_shows_waterfall_chain_and_logs(seeded_collector, monkeypatch):
    trace_id = seeded_collector.traces["broken"][0]
    app = _run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": trace_id})
    text = _text(app)
    assert "Failure chain (propagated" in text and "origin **ledger** `INSERT`" in text
    assert "8 spans · 4 services" in text
    assert len(app.get("plotly_chart")) == 1
    assert text.count("ledger write failed") == 1 and f"database is locked ({trace_id[:6]})" in text


def test_trace_page_errors_are_messages(seeded_collector, monkeypatch):
    app = _run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": "nothex"})
    assert "invalid trace id" in _text(app)
    app = _run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": "5ca1ab1e" * 4})
    assert "trace not found" in _text(app)


def test_traces_search_and_logs_search(seeded_collector, monkeypatch):
    app = _run("traces.py", monkeypatch, seeded_collector.url)
    seeded = sum(len(ids) for ids in seeded_collector.traces.values())
    assert seeded == 22 and f"{seeded} traces, newest first" in _text(app)
    app.text_input[0].set_value("inventory")
    app.button[0].click().run()
    assert "6 traces" in _text(app)
    logs = _run("logs.py", monkeypatch, seeded_collector.url)
    assert _text(logs).count("ledger write failed") == 6


def test_metrics_page_shows_histogram_quantiles_and_red(seeded_collector, monkeypatch):
    app = _run("metrics.py", monkeypatch, seeded_collector.url)
    assert app.selectbox[0].value == "http.server.duration"
    assert "histogram · ms · quantiles per" in _text(app)
    assert len(app.get("plotly_chart")) == 1
    assert "frontend" in set(app.dataframe[0].value["service"])
    app.selectbox[1].set_value("frontend").run()
    assert not app.exception


def test_metrics_page_empty_state(monkeypatch, seeded_collector):
    monkeypatch.setenv("HOPSCOPE_API_URL", seeded_collector.url)
    app = AppTest.from_file(str(PAGES / "metrics.py"), default_timeout=60)
    app.session_state["range"] = "Custom"
    app.session_state["range_from"] = datetime(2020, 1, 1, 0, 0)
    app.session_state["range_to"] = datetime(2020, 1, 1, 1, 0)
    app.run()
    assert not app.exception and "No metrics in the 2020-01-01 00:00 – 2020-01-01 01:00 UTC." in _text(app)


@pytest.mark.parametrize("page", ["overview.py", "failures.py", "traces.py", "logs.py", "metrics.py"])
def test_unreachable_collector_is_a_message_not_a_traceback(page, monkeypatch):
    app = _run(page, monkeypatch, "http://127.0.0.1:9")
    assert "Cannot reach the hopscope collector at http://127.0.0.1:9" in _text(app)


def test_a_trace_with_thousands_of_spans_stays_usable(seeded_collector, monkeypatch):
    import os
    import time

    from tests.analysis.scenarios import ERROR, S, to_request

    spans = [S("root", "batch", "POST /import")]
    for i in range(4999):
        spans.append(
            S(
                f"s{i}",
                "worker",
                "INSERT",
                kind="Client",
                parent="root",
                duration_ms=1 + i % 7,
                status=ERROR if i == 4321 else 0,
            )
        )
    trace_id = os.urandom(16).hex()
    body = to_request(spans, trace_id, time.time_ns() - 30 * 10**9).SerializeToString()
    response = httpx.post(
        seeded_collector.url + "/v1/traces",
        content=body,
        headers={"Content-Type": "application/x-protobuf"},
        timeout=60,
    )
    assert response.status_code == 200
    seeded_collector.wait_stored()
    started = time.monotonic()
    app = _run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": trace_id})
    took = time.monotonic() - started
    text = _text(app)
    assert "5000 spans" in text and "Showing the failure chains and the 2000 slowest spans of 5000" in text
    assert "origin **worker** `INSERT`" in text
    assert took < 30, f"{took:.1f}s to render a 5,000-span trace"


def test_alerts_page_shows_firing_alerts_and_rules(seeded_collector, monkeypatch):
    app = _run("alerts.py", monkeypatch, seeded_collector.url)
    assert "Nothing is firing." in _text(app) or "firing" in _text(app)
    rule = {
        "name": "dash-frontend-errors",
        "type": "error_rate",
        "service": "frontend",
        "window": "1h",
        "threshold": 0.1,
        "severity": "critical",
    }
    assert httpx.post(seeded_collector.url + "/api/v1/alert-rules", json=rule).status_code == 201
    wait_until(lambda: httpx.get(seeded_collector.url + "/api/v1/alerts").json(), 30, "the alert to fire")
    app = _run("alerts.py", monkeypatch, seeded_collector.url)
    text = _text(app)
    assert ":red[●] firing **dash-frontend-errors** (service=frontend) · value 0.5" in text
    assert "**dash-frontend-errors** · error_rate · critical · window 3600 s · for 0 s · from the api" in text
    assert "No active silences." in text


def test_failure_cards_carry_latency_cause_deploy_and_what_failures_share(seeded_collector, monkeypatch):
    text = _text(_run("failures.py", monkeypatch, seeded_collector.url))
    assert "### gateway · recs.Get — DeadlineExceeded" in text
    assert (
        "**Where the time went**: **recs** `SELECT history` — 493 ms self time (99% of the timed-out call) in 4 traces"
        in text
    )
    assert ":rocket: **Deploy**: started with **3.1.0**" in text
    assert "**In common**: `user.tier=free` on 100% of failures vs 0% of successes" in text
    assert "[Compare failing vs healthy](/compare?service=gateway&operation=recs.Get)" in text
    assert "⇢ *async* ⇢" in text  # the consumer's chain, continued up through its producer


def test_failures_page_cards_keep_the_collectors_ranking(seeded_collector, monkeypatch):
    """One card per group up to FAILURE_CARDS, in the order the collector ranks them, none lost, and
    the "in common" lines (a second, slower request) land in their cards."""
    app = _run("failures.py", monkeypatch, seeded_collector.url)
    groups = httpx.get(seeded_collector.url + "/api/v1/failures", params={"since": "1h", "deltas": "false"}).json()
    expected = [
        f"### {g['origin']['service']} · {g['origin']['operation']} — {g['origin']['normalized_error']}"
        for g in groups["groups"][:FAILURE_CARDS]
    ]
    assert len(expected) >= 3
    assert [m.value.split("\n\n")[0] for m in app.markdown if m.value.startswith("### ")] == expected
    assert "**In common**: `user.tier=free`" in _text(app)


def test_compare_page_ranks_the_attribute_values_of_failures(seeded_collector, monkeypatch):
    app = _run("compare.py", monkeypatch, seeded_collector.url, {"service": "gateway", "operation": "recs.Get"})
    text = _text(app)
    assert "4 failing and 4 healthy spans" in text
    assert "**user.tier=free** (span): 100% of failing spans, 0% of healthy ones" in text
    assert app.dataframe[0].value["value"][0] == "free" and len(app.get("plotly_chart")) == 1
    quiet = _text(
        _run("compare.py", monkeypatch, seeded_collector.url, {"service": "ledger", "operation": "POST /entries"})
    )
    assert "No healthy spans" in quiet and "100%" not in quiet  # all six failed: nothing to compare with


def test_trace_page_shows_critical_path_latency_cause_and_async_hops(seeded_collector, monkeypatch):
    slow = _text(_run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": seeded_collector.traces["slow"][0]}))
    assert "Critical path: 4 spans" in slow and "recs `SELECT history` 493 ms self time" in slow
    assert "where the time went: **recs** `SELECT history` — 493 ms self time, 99% of the timed-out call" in slow
    producer = seeded_collector.traces["produced"][0]
    produced = _text(_run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": producer}))
    assert "No failed spans in this trace." in produced and "Downstream, asynchronously" in produced
    consumer = seeded_collector.traces["consumed"][0]
    consumed = _text(_run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": consumer}))
    assert "web ⇢ async ⇢ shipping → **carrier**" in consumed and f"produced in [{producer[:12]}" in consumed


def test_overview_lists_deploys_and_metric_charts_mark_them(seeded_collector, monkeypatch):
    text = _text(_run("overview.py", monkeypatch, seeded_collector.url))
    assert "**gateway** 3.1.0" in text
    chart = _run("metrics.py", monkeypatch, seeded_collector.url).get("plotly_chart")[0]
    assert "gateway 3.1.0" in chart.proto.spec


def test_overview_without_errors_says_so_instead_of_an_empty_chart(healthy_collector, monkeypatch):
    app = _run("overview.py", monkeypatch, healthy_collector.url)
    text = _text(app)
    assert "No errors in the last hour: 6 requests, all fine." in text and "No failures in the last hour." in text
    assert len(app.get("plotly_chart")) == 0  # no error-rate chart with an axis from −1 to 0.5
    assert len(app.get("graphviz_chart")) == 1  # the service map


def test_span_details_open_on_the_origin_as_a_readable_table(seeded_collector, monkeypatch):
    app = _run("trace.py", monkeypatch, seeded_collector.url, {"trace_id": seeded_collector.traces["broken"][0]})
    text = _text(app)
    assert app.selectbox[0].value.startswith("ledger · INSERT · ")  # not the root span
    assert "| **name** | `INSERT` |" in text and "| **status** | :red[failed] · Error |" in text
    assert ":red[**exception**] `sqlite3.OperationalError`: database is locked" in text
    attributes = app.dataframe[0].value
    assert list(attributes["attribute"]) == ["db.system"] and list(attributes["value"]) == ["sqlite"]
    assert not app.get("json")  # no collapsed {...}
