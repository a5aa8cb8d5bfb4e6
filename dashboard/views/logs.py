"""Logs: full-text search, severity, service and trace id; newest first, page by page."""

from __future__ import annotations

import streamlit as st

from dashboard.common import auto_refresh, client, guarded, log_line, time_range

since, until, label = time_range()
st.title("Logs")
with st.form("log_search"):
    cols = st.columns([3, 1, 2, 2])
    words = cols[0].text_input("Search (message and attributes)", placeholder="payment declined")
    severity = cols[1].selectbox("Severity", ["any", "debug", "info", "warn", "error", "fatal"])
    service = cols[2].text_input("Service")
    trace_id = cols[3].text_input("Trace id")
    if st.form_submit_button("Search"):
        st.session_state["log_cursors"] = [None]
cursors = st.session_state.setdefault("log_cursors", [None])


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    page = client().logs(
        since,
        until,
        q=words.strip() or None,
        severity=None if severity == "any" else severity,
        service=service.strip() or None,
        trace_id=trace_id.strip() or None,
        limit=50,
        cursor=cursors[-1],
    )
    if not page["records"]:
        st.info(f"No log records match in the {label}.")
        return
    st.markdown("\n".join(log_line(r) for r in page["records"]))
    left, right = st.columns(2)
    if len(cursors) > 1 and left.button("← Newer"):
        cursors.pop()
        st.rerun()
    if page["next_cursor"] and right.button("Older →"):
        cursors.append(page["next_cursor"])
        st.rerun()


render()
