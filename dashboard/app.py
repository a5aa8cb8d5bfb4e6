"""The hopscope dashboard: `streamlit run dashboard/app.py` (or `hopscope dashboard`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.common import signed_in

PAGES = Path(__file__).parent / "views"

# A local image: a Material or emoji page icon is fetched from a font CDN, which fails offline.
st.set_page_config(page_title="hopscope", page_icon=str(Path(__file__).parent / "hopscope.png"), layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page(PAGES / "failures.py", title="Failures", icon=":material/local_fire_department:", url_path="failures"),
        st.Page(PAGES / "trace.py", title="Trace", icon=":material/timeline:", url_path="trace"),
        st.Page(PAGES / "traces.py", title="Traces", icon=":material/search:", url_path="traces"),
        st.Page(PAGES / "compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
        st.Page(PAGES / "logs.py", title="Logs", icon=":material/article:", url_path="logs"),
        st.Page(PAGES / "metrics.py", title="Metrics", icon=":material/show_chart:", url_path="metrics"),
        st.Page(PAGES / "alerts.py", title="Alerts", icon=":material/notifications:", url_path="alerts"),
    ]
)
st.sidebar.caption("hopscope — follow failures across hops")
if signed_in():
    navigation.run()
