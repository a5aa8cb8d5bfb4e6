"""Alerts: what fires now, recent notifications (with the failure chains behind them) and their
delivery log, active silences, and the rules."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import streamlit as st

from dashboard.common import auto_refresh, client, guarded, trace_link


def _ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    api = client()
    st.title("Alerts")
    active = api.alerts()
    st.subheader("Now")
    if not active:
        st.success("Nothing is firing.")
    for alert in active:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert["labels"].items()))
        marker = ":red[●] firing" if alert["state"] == "firing" else ":orange[●] pending"
        st.markdown(
            f"{marker} **{alert['rule']}** ({labels}) · value {alert['value']:.4g} · since "
            f"{_ms(int(alert['since'] * 1000))}"
        )
    st.subheader("Recent notifications")
    sent = api.notifications()
    if not sent:
        st.info("No notifications yet.")
    for entry in sent:
        body = json.loads(entry["body"])
        chains = body.get("chains") or []
        origin = (
            f" · origin **{chains[0]['origin_service']}** `{chains[0]['origin_operation']}` — {chains[0]['error']} "
            f"({' → '.join(chains[0]['path'])}) {trace_link(chains[0]['example_trace_ids'][0])}"
            if chains and chains[0]["example_trace_ids"]
            else ""
        )
        state = {"delivered": ":green[delivered]", "failed": ":red[failed]"}.get(entry["status"], ":orange[pending]")
        with st.expander(
            f"{_ms(entry['created_ms'])} · {entry['kind']} · {entry['rule']} → {entry['channel']} · "
            f"{entry['status']} after {entry['attempts']} attempt(s)"
        ):
            st.markdown(f"{state}{origin}")
            for attempt in entry["attempt_log"]:
                outcome = f"HTTP {attempt['http_status']}" if attempt["http_status"] else "no answer"
                st.markdown(
                    f"- attempt {attempt['attempt']} at {_ms(attempt['at_ms'])}: {outcome} "
                    f"{attempt['error']} ({attempt['milliseconds']:.0f} ms)"
                )
    st.subheader("Silences")
    silences = [x for x in api.silences() if x["active"]]
    if not silences:
        st.info("No active silences.")
    for silence in silences:
        what = ", ".join(f"{k}={v}" for k, v in sorted(silence["matchers"].items())) or "all labels"
        st.markdown(
            f"- until {silence['ends']}: rule {silence['rule'] or 'any'} · {what} · {silence['comment']} "
            f"· from the {silence['source']}"
        )
    st.subheader("Rules")
    rules = api.alert_rules()
    if not rules:
        st.info("No alert rules: add them to the rule file (HOPSCOPE_ALERT_RULES_FILE) or POST /api/v1/alert-rules.")
    for rule in rules:
        st.markdown(
            f"- **{rule['name']}** · {rule['type']} · {rule['severity']} · window {rule['window']:.0f} s · "
            f"for {rule['for']:.0f} s · from the {rule['source']}"
        )


render()
