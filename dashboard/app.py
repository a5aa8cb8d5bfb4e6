"""The hopscope dashboard: `streamlit run dashboard/app.py` (or `hopscope dashboard`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "pages"

st.set_page_config(page_title="hopscope", page_icon="🔭", layout="wide")
navigation = st.navigation(
    [
        st.Page(PAGES / "overview.py", title="Overview", icon="🏠", default=True),
        st.Page(PAGES / "failures.py", title="Failures", icon="🔥", url_path="failures"),
        st.Page(PAGES / "trace.py", title="Trace", icon="🧵", url_path="trace"),
        st.Page(PAGES / "traces.py", title="Traces", icon="🔎", url_path="traces"),
        st.Page(PAGES / "logs.py", title="Logs", icon="📜", url_path="logs"),
        st.Page(PAGES / "metrics.py", title="Metrics", icon="📈", url_path="metrics"),
    ]
)
st.sidebar.caption("hopscope — follow failures across hops")
navigation.run()
