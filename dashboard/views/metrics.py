"""Metrics: pick a metric and a service; histograms as p50/p95/p99; RED per service."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.common import auto_refresh, client, guarded, time_range

since, until, label = time_range()
MAX_SERIES = 8  # one per service; beyond that the smallest are summed (or, for quantiles, maxed) as "other"
# Eight colours told apart easily (Plotly's D3 qualitative set).
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]
UNITS = {"ms": "ms", "s": "seconds", "us": "µs", "ns": "ns", "By": "bytes", "1": "", "%": "%"}


def axis_title(name: str, unit: str, quantile: str | None) -> str:
    """The y axis: what is drawn and its unit ("p95 http.server.duration (ms)")."""
    shown = UNITS.get(unit, unit.strip("{}"))
    return f"{quantile + ' ' if quantile else ''}{name}" + (f" ({shown})" if shown else "")


def chart_series(body: dict, quantile: str | None) -> list[tuple[str, list, list]]:
    """One series per service (for a histogram: the chosen quantile only), the largest MAX_SERIES - 1
    kept and the rest folded into "other", so the chart stays readable."""
    column = {"p50": 2, "p95": 3, "p99": 4}.get(quantile or "", 1)
    series = [(s["service"], {p[0]: p[column] for p in s["points"] if p[column] is not None}) for s in body["series"]]
    series.sort(key=lambda item: -max(item[1].values(), default=0))
    kept, rest = (series, []) if len(series) <= MAX_SERIES else (series[: MAX_SERIES - 1], series[MAX_SERIES - 1 :])
    out = [(name, [t * 1000 for t in sorted(points)], [points[t] for t in sorted(points)]) for name, points in kept]
    if rest:
        folded: dict[int, float] = {}
        for _, points in rest:
            for t, v in points.items():
                folded[t] = max(folded.get(t, v), v) if quantile else folded.get(t, 0) + v
        how = "max" if quantile else "sum"
        out.append(
            (f"other ({how} of {len(rest)})", [t * 1000 for t in sorted(folded)], [folded[t] for t in sorted(folded)])
        )
    return out


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
    quantile = None
    if body["columns"][1] == "count":
        quantile = st.radio("Quantile", ["p50", "p95", "p99"], index=1, horizontal=True, key="metric_quantile")
    fig = go.Figure()
    for i, (series_name, xs, ys) in enumerate(chart_series(body, quantile)):
        fig.add_trace(go.Scatter(x=xs, y=ys, name=series_name, line={"color": PALETTE[i % len(PALETTE)]}))
    # Deploy markers: where a version of the shown service(s) first appeared.
    shown = {series["service"] for series in body["series"]}
    for deploy in api.deploys(since, until, service=None if service == "all" else service):
        if deploy["service"] in shown or service == "all":
            fig.add_vline(
                x=deploy["first_seen_ns"] / 1e6,
                line={"dash": "dot", "color": "#7f7f7f"},
                annotation={"text": f"🚀 {deploy['service']} {deploy['version']}", "textangle": -90},
            )
    fig.update_layout(
        height=420,
        xaxis={"type": "date"},
        yaxis={"title": {"text": axis_title(name, info["unit"], quantile)}},
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        legend={"orientation": "h", "y": -0.15, "font": {"size": 13}},
    )
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
