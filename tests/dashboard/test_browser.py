"""The dashboard in a real headless Chromium (Debian's, driven by Playwright), served by
`hopscope up` on free ports with seeded data. Screenshots go to test-output/screenshots/."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from hopscope_cli.processes import free_port, wait_http_ok
from tests.dashboard.conftest import seed

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: install Debian's chromium package (.ci/run does)"
    tmp = tmp_path_factory.mktemp("browser")
    port, dash_port = free_port(), free_port()
    log = open(tmp / "up.log", "w")  # noqa: SIM115
    up = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hopscope_cli",
            "up",
            "--port",
            str(port),
            "--grpc-port",
            str(free_port()),
            "--dashboard-port",
            str(dash_port),
            "--data-dir",
            str(tmp / "data"),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    collector, dashboard = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{dash_port}"
    try:
        wait_http_ok(dashboard + "/_stcore/health", process=up)
    except (TimeoutError, RuntimeError):
        raise AssertionError((tmp / "up.log").read_text()) from None
    traces = seed(collector)
    try:
        yield {"dashboard": dashboard, "collector": collector, "traces": traces}
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield chromium
        chromium.close()


def _visit(browser, url: str, expect: list[str], shot: str) -> str:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(url)
        for text in expect:
            page.get_by_text(text, exact=False).first.wait_for(timeout=60_000)
        page.wait_for_timeout(500)  # let charts finish drawing before the screenshot
        assert page.locator('[data-testid="stException"]').count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True)
        return page.inner_text("body")
    finally:
        page.close()


def test_overview_names_the_origin_of_the_seeded_failure(platform, browser):
    body = _visit(browser, platform["dashboard"] + "/", ["Top failure chains", "sqlite3.OperationalError"], "overview")
    assert "frontend → checkout → payment → ledger → sqlite" in body


def test_failures_page_shows_the_chain_and_its_examples(platform, browser):
    body = _visit(
        browser, platform["dashboard"] + "/failures", ["ledger · INSERT — sqlite3.OperationalError"], "failures"
    )
    assert "inventory · GET /stock/{sku} — HTTP 503" in body and "propagated in 6" in body


def test_trace_deep_link_shows_waterfall_and_logs(platform, browser):
    trace_id = platform["traces"]["broken"][0]
    body = _visit(
        browser,
        f"{platform['dashboard']}/trace?trace_id={trace_id}",
        ["Failure chain", "Span details", "ledger write failed"],
        "trace",
    )
    assert "origin ledger INSERT" in body.replace("`", "")


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        ("/traces", "traces, newest first"),
        ("/logs", "ledger write failed"),
        ("/metrics", "quantiles per"),
        ("/alerts", "Recent notifications"),
    ],
)
def test_other_pages_render(platform, browser, path, expect):
    _visit(browser, platform["dashboard"] + path, [expect], path.strip("/"))


def test_with_tokens_nobody_sees_data_without_signing_in(tmp_path, browser):
    port, dash_port = free_port(), free_port()
    env = {**os.environ, "HOPSCOPE_INGEST_TOKENS": "ingest-t", "HOPSCOPE_READ_TOKENS": "read-t",
           "HOPSCOPE_ADMIN_TOKENS": "admin-t"}  # fmt: skip
    log = open(tmp_path / "up.log", "w")  # noqa: SIM115
    up = subprocess.Popen(
        [sys.executable, "-m", "hopscope_cli", "up", "--port", str(port), "--grpc-port", str(free_port()),
         "--dashboard-port", str(dash_port), "--data-dir", str(tmp_path / "data")],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    try:
        wait_http_ok(f"http://127.0.0.1:{dash_port}/_stcore/health", process=up)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"http://127.0.0.1:{dash_port}/")
        page.get_by_text("This collector wants a token", exact=False).first.wait_for(timeout=60_000)
        assert page.get_by_text("Services", exact=True).count() == 0
        field = page.get_by_label("Token")
        field.fill("ingest-t")  # a token, but not one that may read
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("The collector refused that token", exact=False).first.wait_for(timeout=60_000)
        page.get_by_label("Token").fill("read-t")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Sign out").wait_for(timeout=60_000)
        page.get_by_label("Token").wait_for(state="detached", timeout=60_000)  # the form (typed here) is gone
        assert "read-t" not in page.content()  # and the server never sends the token back
        assert page.locator('[data-testid="stException"]').count() == 0
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "signed-in.png"), full_page=True)
        page.close()
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(60)
        log.close()


def test_failure_cards_say_where_the_time_went_and_compare_opens_from_them(platform, browser):
    body = _visit(
        browser, platform["dashboard"] + "/failures", ["Where the time went", "In common"], "failures-diagnosis"
    )
    assert "recs SELECT history" in body.replace("`", "") and "started with 3.1.0" in body
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.goto(platform["dashboard"] + "/failures")
        link = page.locator('a[href^="/compare?service=gateway"]').first
        link.wait_for(timeout=60_000)
        href = link.get_attribute("href") or ""  # Streamlit opens markdown links in a new tab
        assert href.startswith("/compare?service=gateway")
        page.goto(platform["dashboard"] + href)
        page.get_by_text("of failing spans", exact=False).first.wait_for(timeout=60_000)
        assert "service=gateway" in page.url and "user.tier=free" in page.inner_text("body")
        page.wait_for_timeout(500)
        page.screenshot(path=str(SHOTS / "compare.png"), full_page=True)
    finally:
        page.close()


def test_trace_page_marks_the_critical_path_and_the_async_continuation(platform, browser):
    slow = platform["traces"]["slow"][0]
    body = _visit(
        browser,
        f"{platform['dashboard']}/trace?trace_id={slow}",
        ["Critical path", "where the time went"],
        "trace-slow",
    )
    assert "critical path" in body  # the waterfall's legend
    producer = platform["traces"]["produced"][0]
    body = _visit(
        browser, f"{platform['dashboard']}/trace?trace_id={producer}", ["Downstream, asynchronously"], "trace-async"
    )
    assert "carrier" in body and "async" in body


def test_nothing_is_fetched_from_the_internet(platform, browser):
    """Offline: the dashboard (page icon included) and the API docs load every asset from the
    machine itself; any request elsewhere is refused and recorded."""
    outside: list[str] = []

    def local_only(route) -> None:
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    try:
        page.route("**/*", local_only)
        page.goto(platform["dashboard"] + "/")
        page.get_by_text("Top failure chains", exact=False).first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)
        icon = page.evaluate("document.querySelector('link[rel~=\"icon\"]')?.href || ''")
        assert urlsplit(icon).hostname in ("127.0.0.1", "localhost"), icon
        page.goto(platform["collector"] + "/docs")
        page.locator(".swagger-ui .title").first.wait_for(timeout=60_000)
        assert "hopscope collector" in page.locator(".swagger-ui .title").first.inner_text()
        page.screenshot(path=str(SHOTS / "api-docs.png"))

    finally:
        page.close()
    assert outside == []
