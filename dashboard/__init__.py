"""The on-call dashboard (Streamlit). It reads everything through the collector's query API."""
