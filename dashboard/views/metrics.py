"""Metrics: pick a metric and a service; histograms as p50/p95/p99; RED per service."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.common import auto_refresh, client, guarded, time_range

since, until, label = time_range()


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    api = client()
    st.title("Metrics")
    catalog = api.metrics(since, until)
    if not catalog:
        st.info(f"No metrics in the {label}.")
        return
    names = [m["name"] for m in catalog]
    default = names.index("http.server.duration") if "http.server.duration" in names else 0
    cols = st.columns(2)
    name = cols[0].selectbox("Metric", names, index=default, key="metric")
    info = next(m for m in catalog if m["name"] == name)
    service = cols[1].selectbox("Service", ["all", *info["services"]], key="metric_service")
    body = api.metric(name, since, until, service=None if service == "all" else service)
    st.caption(
        f"{info['type']} · {info['unit'] or 'no unit'} · {body['aggregation']} per {body['step_seconds']} s"
        + (f" · {info['description']}" if info["description"] else "")
    )
    fig = go.Figure()
    for series in body["series"]:
        xs = [p[0] * 1000 for p in series["points"]]
        if body["columns"][1] == "count":
            for i, q in ((2, "p50"), (3, "p95"), (4, "p99")):
                fig.add_trace(go.Scatter(x=xs, y=[p[i] for p in series["points"]], name=f"{series['service']} {q}"))
        else:
            fig.add_trace(go.Scatter(x=xs, y=[p[1] for p in series["points"]], name=series["service"]))
    # Deploy markers: where a version of the shown service(s) first appeared.
    shown = {series["service"] for series in body["series"]}
    for deploy in api.deploys(since, until, service=None if service == "all" else service):
        if deploy["service"] in shown or service == "all":
            fig.add_vline(
                x=deploy["first_seen_ns"] / 1e6,
                line={"dash": "dot", "color": "#7f7f7f"},
                annotation={"text": f"🚀 {deploy['service']} {deploy['version']}", "textangle": -90},
            )
    fig.update_layout(height=420, xaxis={"type": "date"}, margin={"l": 0, "r": 0, "t": 10, "b": 0})
    st.plotly_chart(fig, use_container_width=True)
    st.subheader("Rate, errors, duration per service")
    st.dataframe(
        [
            {
                "service": s["name"],
                "requests/s": round(s["requests_per_second"], 2),
                "error rate": f"{s['error_rate']:.1%}",
                "p50 ms": round(s["p50_ns"] / 1e6, 1),
                "p95 ms": round(s["p95_ns"] / 1e6, 1),
                "p99 ms": round(s["p99_ns"] / 1e6, 1),
            }
            for s in api.services(since, until)["items"]
        ],
        hide_index=True,
        use_container_width=True,
    )


render()
