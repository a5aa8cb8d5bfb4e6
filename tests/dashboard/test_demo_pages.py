"""Issue 15 on a recorded copy of the live demo's data (`hopscope up --demo`, `hopscope fault
ledger_timeout on`; tests/demo/recorded.py): what a newcomer saw, page by page, rendered by AppTest."""

from __future__ import annotations

import re

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
    strip = next(m.value for m in app.markdown if m.value.startswith("<svg"))
    assert strip.count("<rect") >= 1 and ">0</text>" in strip and " UTC</text>" in strip  # bars, scale, range
    peak = max(int(v) for v in re.findall(r"UTC: (\d+) traces", strip))
    assert f">{peak}</text>" in strip  # the scale's top is the busiest minute
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
