"""Issue 15 on a recorded copy of the live demo's data (`hopscope up --demo`, `hopscope fault
ledger_timeout on`; tests/demo/recorded.py): what a newcomer saw, page by page, rendered by AppTest."""

from __future__ import annotations

import re

import httpx

from dashboard.common import per_minute_bars
from tests.dashboard.test_pages import _run, _text


def _graphviz(app) -> str:
    charts = app.get("graphviz_chart")
    assert len(charts) == 1, "the service map is drawn by Graphviz"
    return charts[0].proto.spec


def test_overview_lists_the_ledger_once_with_a_layered_service_map(demo_collector, monkeypatch):
    app = _run("overview.py", monkeypatch, demo_collector.url)
    text = _text(app)
    problems = [line for line in text.splitlines() if " — " in line and line.startswith("**")]
    assert problems == ["**ledger** · `INSERT` — sqlite3.OperationalError  "], problems  # one problem, not three
    dot = _graphviz(app)
    assert "rankdir=LR" in dot and '"payment" -> "ledger"' in dot and "{ rank=max; " in dot
    assert "127.0.0.1" not in dot  # the ledger's address is the ledger
    assert 'URL="/?service=ledger"' in dot  # a node opens the page focused on it


def test_focusing_on_a_service_filters_the_overview(demo_collector, monkeypatch):
    app = _run("overview.py", monkeypatch, demo_collector.url, {"service": "inventory"})
    assert set(app.dataframe[0].value["service"]) == {"inventory", "checkout"}  # it and its callers
    assert "Top failure chains through inventory" in [s.value for s in app.subheader]
    assert "Focused on **inventory**" in _text(app)
    assert app.selectbox[0].value == "inventory"
    app.selectbox[0].set_value("All services").run()
    assert "service" not in app.query_params
    assert {"frontend", "ledger"} <= set(app.dataframe[0].value["service"])


def test_failure_card_names_the_peer_lists_the_symptom_and_draws_minutes(demo_collector, monkeypatch):
    app = _run("failures.py", monkeypatch, demo_collector.url)
    text = _text(app)
    assert text.count("### ") == 1 and "### ledger · INSERT — sqlite3.OperationalError" in text
    assert "**Related symptoms**" in text
    assert "**payment** `POST` calling **ledger** (`127.0.0.1:" in text and "httpx.ReadError" in text
    assert len(app.get("image")) == 1  # the card's per-minute bar strip
    assert any(c.value.startswith("Failing traces per minute, ") for c in app.caption)
    # Every demo service ran 1.0.0 from the start: its first version is not a deploy.
    assert "**Deploy**" not in text and "started with" not in text


def test_trace_page_shows_a_retried_chain_once(demo_collector, monkeypatch):
    retried = next(
        t["trace_id"]
        for t in demo_collector.recorded
        if sum(s["service"] == "ledger" and s["name"] == "INSERT" for s in t["spans"]) >= 2
    )
    app = _run("trace.py", monkeypatch, demo_collector.url, {"trace_id": retried})
    chains = [e.value for e in app.error]
    ledger = [c for c in chains if "origin **ledger** `INSERT`" in c]
    assert len(ledger) == 1 and "attempts" in ledger[0], chains


def test_logs_are_coloured_searchable_in_exception_messages_and_link_to_their_span(demo_collector, monkeypatch):
    app = _run("logs.py", monkeypatch, demo_collector.url)
    app.text_input[0].set_value("locked")
    app.button[0].click().run()  # the form's Search button
    text = _text(app)
    assert ":red-background[**ERROR**]" in text  # severity coloured
    assert "database is locked" in text  # found in exception.message: the body does not say it
    assert "&span_id=" in text
    record = next(r for t in demo_collector.recorded for r in t["logs"] if r["span_id"])
    app = _run(
        "trace.py", monkeypatch, demo_collector.url, {"trace_id": record["trace_id"], "span_id": record["span_id"]}
    )
    assert app.selectbox[0].value.endswith(record["span_id"])  # the log's span is open in Span details
    assert f"span_id={record['span_id']}" in _text(app)


def test_the_per_minute_strip_has_bars_a_scale_and_its_range(demo_collector):
    """The strip of the recorded incident: a short burst is a burst (at least 15 minutes wide), not
    one block; the scale's top is the busiest minute; the first and last minute are written under it."""
    group = httpx.get(demo_collector.url + "/api/v1/failures", params={"since": "1h"}, timeout=60).json()["groups"][0]
    strip = per_minute_bars(group["per_minute"])
    minutes = [m for m, _ in group["per_minute"]]
    assert strip.count("<rect") == sum(1 for _, n in group["per_minute"] if n)
    assert ">0</text>" in strip and f">{max(n for _, n in group['per_minute'])}</text>" in strip
    widths = {float(w) for w in re.findall(r'<rect [^>]*width="([0-9.]+)"', strip)}
    assert max(widths) < 600 / 15  # one bar per minute of at least fifteen
    assert " UTC</text>" in strip and (max(minutes) - min(minutes)) < 15 * 60
