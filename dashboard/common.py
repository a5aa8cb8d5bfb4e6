"""What every page shares: the time range and auto-refresh controls, the API client, turning API
errors into readable messages, and formatting."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from urllib.parse import quote, urlencode

import streamlit as st

from dashboard.client import DEFAULT_API_URL, ApiClient, ApiRejected, ApiUnavailable, Hop, Origin

FAILURE_CARDS = 10  # failure groups shown hop by hop on the Failures page; the rest one line each

RANGES = {
    "Last 15 minutes": "15m",
    "Last hour": "1h",
    "Last 6 hours": "6h",
    "Last 24 hours": "24h",
    "Last 7 days": "7d",
    "Custom": None,
}


@st.cache_resource
def _client(url: str, token: str | None) -> ApiClient:
    return ApiClient(url, token)


def client() -> ApiClient:
    """The API client for HOPSCOPE_API_URL with this session's token: the read token its user
    signed in with, kept in the session on the server (never sent back to the browser)."""
    url = os.environ.get("HOPSCOPE_API_URL", DEFAULT_API_URL).rstrip("/")
    return _client(url, st.session_state.get("api_token"))


def signed_in() -> bool:
    """Whether this session may read: the collector is open, or the user signed in with a token it
    accepts. Otherwise the sign-in form is shown (and False returned): with tokens on, nobody sees
    data without one."""
    token = st.session_state.get("api_token")
    if st.session_state.get("checked_token", ...) == token:
        return True
    try:
        client().alerts()  # any read will do: this one is answered from memory
    except ApiUnavailable:
        return True  # every page says so, better than a sign-in form would
    except ApiRejected as exc:
        if exc.status not in (401, 403):
            return True
        st.title("hopscope")
        st.write("This collector wants a token. Sign in with a **read** token (`hopscope keys create --scope read`).")
        with st.form("sign-in"):
            entered = st.text_input("Token", type="password")
            if st.form_submit_button("Sign in") and entered.strip():
                st.session_state["api_token"] = entered.strip()
                st.rerun()
        if token:
            st.error("The collector refused that token.")
        return False
    st.session_state["checked_token"] = token
    if token:
        with st.sidebar:
            if st.button("Sign out"):
                for key in ("api_token", "checked_token"):
                    st.session_state.pop(key, None)
                st.rerun()
    return True


def time_range() -> tuple[str, str | None, str]:
    """(since, until, label) from the sidebar picker; until None means now."""
    with st.sidebar:
        label = str(st.selectbox("Time range", list(RANGES), index=1, key="range"))
        relative = RANGES[label]
        if relative is not None:
            return relative, None, label.lower()
        now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
        start = st.datetime_input("From (UTC)", value=now - timedelta(hours=1), key="range_from")
        end = st.datetime_input("To (UTC)", value=now, key="range_to")
    since, until = (
        dt.replace(tzinfo=timezone.utc).isoformat() if dt.tzinfo is None else dt.isoformat() for dt in (start, end)
    )
    return since, until, f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def auto_refresh() -> str | None:
    """The run_every interval for st.fragment when the sidebar toggle is on."""
    with st.sidebar:
        on = st.toggle("Auto-refresh every 30 s", key="auto_refresh")
    return "30s" if on else None


def guarded(render: Callable[..., None]) -> Callable[..., None]:
    """Show API failures as messages a person can act on, never as a traceback."""

    @functools.wraps(render)
    def wrapper(*args, **kwargs) -> None:
        try:
            render(*args, **kwargs)
        except ApiUnavailable:
            st.error(
                f"Cannot reach the hopscope collector at {client().base_url}. Is it running? "
                "(`hopscope up`, or set HOPSCOPE_API_URL)"
            )
        except ApiRejected as exc:
            if exc.status in (401, 403):
                st.session_state.pop("checked_token", None)  # the next run asks to sign in again
                st.error("The collector refused this session's token (revoked, or not a read token): sign in again.")
            else:
                st.error(f"The collector answered {exc.status}: {exc.error} — {exc.detail}")

    return wrapper


def ms(ns: float | int | None) -> str:
    if ns is None:
        return "–"
    value = ns / 1e6
    return f"{value:,.0f} ms" if value >= 100 else f"{value:,.1f} ms"


def when(ns: int) -> str:
    return datetime.fromtimestamp(ns / 1e9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def trace_link(trace_id: str) -> str:
    """A markdown link to the Trace page (the same URL works as a bookmark)."""
    return f"[{trace_id[:12]}…](/trace?trace_id={trace_id})"


def span_link(trace_id: str, span_id: str) -> str:
    """A markdown link to one span: the Trace page with it open in Span details."""
    return f"[span {span_id[:8]}](/trace?trace_id={trace_id}&span_id={span_id})"


def severity(number: int, text: str) -> str:
    """A log record's severity, coloured: red for ERROR and worse, orange WARN, blue INFO, grey below."""
    label = text or str(number)
    if number >= 17:
        return f":red-background[**{label}**]"
    if number >= 13:
        return f":orange-background[**{label}**]"
    if number >= 9:
        return f":blue[{label}]"
    return f":gray[{label}]"


def log_line(record: dict, with_trace: bool = True) -> str:
    """One log record as a markdown list item: time, severity, service, body, the exception's
    message when the body does not say it, and links to its trace and span."""
    body = record["body"]
    attributes = record.get("attributes") or {}
    message = attributes.get("exception.message", "")
    if message and message not in body:
        body += f" — {attributes.get('exception.type', 'exception')}: {message}"
    line = f"- `{when(record['time_ns'])}` {severity(record['severity_number'], record['severity_text'])} "
    line += f"{record['service']}: {body}"
    if record["trace_id"] and with_trace:
        line += f" · {trace_link(record['trace_id'])}"
    if record["trace_id"] and record["span_id"]:
        line += f" · {span_link(record['trace_id'], record['span_id'])}"
    return line


def compare_link(service: str, operation: str | None = None, text: str = "Compare failing vs healthy") -> str:
    """A markdown link to the Compare page for one service (and operation)."""
    query = {"service": service, **({"operation": operation} if operation else {})}
    return f"[{text}](/compare?{urlencode(query, quote_via=quote)})"


def cause_text(cause: dict) -> str:
    """A failure group's latency cause in a line."""
    return (
        f"**{cause['service']}** `{cause['operation']}` — {ms(cause['median_self_ns'])} self time "
        f"({cause['median_share']:.0%} of the timed-out call) in {cause['traces']} traces"
    )


def onset_text(onset: dict) -> str:
    return (
        f"started with **{onset['version']}**, first seen {when(onset['first_seen_ns'])}, "
        f"{onset['lead_ns'] / 60e9:.0f} min before the first failure"
    )


def delta_text(delta: dict) -> str:
    return (
        f"`{delta['key']}={delta['value']}` on {delta['failing_share']:.0%} of failures "
        f"vs {delta['healthy_share']:.0%} of successes"
    )


def chain_text(hops: list[Hop], origin: Origin) -> str:
    services: list[str] = []
    for hop in hops:
        if hop["via"] == "async" and services:
            services.append("⇢ (async)")
        if not services or services[-1] != hop["service"]:
            services.append(hop["service"])
    text = " → ".join(services[:-1] + [f"**{services[-1]}**"]) if services else ""
    text = text.replace("→ ⇢ (async) →", "⇢ async ⇢")
    if origin.get("peer"):
        text += f" → {origin['peer']}"
    return text


def peer_text(origin: Origin) -> str:
    """ " calling **ledger** (`127.0.0.1:42707`)": the service behind the address, and the address."""
    if not origin.get("peer"):
        return ""
    address = origin.get("peer_address")
    return f" calling **{origin['peer']}**" + (f" (`{address}`)" if address else "")


def per_minute_bars(per_minute: list[list[int]], min_minutes: int = 15, max_minutes: int = 120) -> str:
    """Traces per minute as an SVG bar strip (shown as an image): every minute from the first to the last (at
    least `min_minutes`, so a short burst reads as a burst; the last `max_minutes` at most), missing
    minutes as zero, the scale (0 and the peak) on the left and the first and last minute under it.
    An image, not a chart widget: ten cards of it cost the page nothing."""
    counts = {int(t): int(n) for t, n in per_minute}
    last = max(counts)
    first = max(min(min(counts), last - (min_minutes - 1) * 60), last - (max_minutes - 1) * 60)
    series = [counts.get(t, 0) for t in range(first, last + 60, 60)]
    top = max(series) or 1
    left, width, height, bar_area = 34, 600, 64, 44
    step = (width - left) / len(series)
    bars = "".join(
        f'<rect x="{left + i * step + 0.5:.1f}" y="{4 + bar_area - n * bar_area / top:.1f}" '
        f'width="{max(step - 1, 1):.1f}" height="{n * bar_area / top:.1f}" fill="#d62728">'
        f"<title>{_minute(first + i * 60)} UTC: {n} traces</title></rect>"
        for i, n in enumerate(series)
        if n
    )
    label = 'font-size="10" fill="#666" font-family="sans-serif"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="failing traces per minute, peak {top}">'
        f'<line x1="{left}" y1="{4 + bar_area}" x2="{width}" y2="{4 + bar_area}" stroke="#bbb"/>'
        f'<line x1="{left}" y1="4" x2="{left}" y2="{4 + bar_area}" stroke="#bbb"/>'
        f'<text x="{left - 4}" y="12" text-anchor="end" {label}>{top}</text>'
        f'<text x="{left - 4}" y="{4 + bar_area}" text-anchor="end" {label}>0</text>'
        f'{bars}<text x="{left}" y="{height - 2}" {label}>{_minute(first)}</text>'
        f'<text x="{width}" y="{height - 2}" text-anchor="end" {label}>{_minute(last)} UTC</text></svg>'
    )


def _minute(unix_s: int) -> str:
    return datetime.fromtimestamp(unix_s, timezone.utc).strftime("%H:%M")
