"""Traces: search by service, operation, status, duration and attributes."""

from __future__ import annotations

import streamlit as st

from dashboard.common import auto_refresh, client, compare_link, guarded, ms, time_range, trace_link, when

since, until, label = time_range()
st.title("Traces")
with st.form("trace_search"):
    cols = st.columns(4)
    service = cols[0].text_input("Service")
    operation = cols[1].text_input("Operation")
    status = cols[2].selectbox("Status", ["any", "error", "ok"])
    limit = cols[3].number_input("Limit", 1, 1000, 50)
    row = st.columns(3)
    min_duration = row[0].text_input("Min duration", placeholder="250ms")
    max_duration = row[1].text_input("Max duration", placeholder="2s")
    attrs = row[2].text_input("Attributes", placeholder="http.route=/cart, deployment.environment=prod")
    st.form_submit_button("Search")


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    found = client().traces(
        since,
        until,
        service=service.strip() or None,
        operation=operation.strip() or None,
        status=None if status == "any" else status,
        min_duration=min_duration.strip() or None,
        max_duration=max_duration.strip() or None,
        limit=int(limit),
        attr=[a.strip() for a in attrs.split(",") if a.strip()],
    )
    if not found:
        st.info(f"No traces match in the {label}.")
        return
    st.caption(f"{len(found)} traces, newest first")
    if service.strip():
        st.markdown(compare_link(service.strip(), operation.strip() or None, "Compare failing vs healthy spans"))
    st.markdown(
        "\n".join(
            f"- {':red[●]' if t['failed'] else ':green[●]'} {trace_link(t['trace_id'])} **{t['root_service']}** `{t['root_operation']}` "
            f"· {ms(t['duration_ns'])} · {t['spans']} spans · {when(t['start_ns'])}"
            for t in found
        )
    )


render()
