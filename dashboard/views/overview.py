"""Overview: every service worst first, the service map, and the top failure chains."""

from __future__ import annotations

import math

import plotly.graph_objects as go
import streamlit as st

from dashboard.common import (
    auto_refresh,
    cause_text,
    chain_text,
    client,
    guarded,
    ms,
    onset_text,
    time_range,
    trace_link,
    when,
)

since, until, label = time_range()


def _service_map(body: dict) -> go.Figure | None:
    nodes = [n["name"] for n in body["nodes"]]
    if not nodes:
        return None
    kinds = {n["name"]: n["type"] for n in body["nodes"]}
    pos = {
        name: (math.cos(2 * math.pi * i / len(nodes)), math.sin(2 * math.pi * i / len(nodes)))
        for i, name in enumerate(nodes)
    }
    fig = go.Figure()
    for edge in body["edges"]:
        (x0, y0), (x1, y1) = pos[edge["caller"]], pos[edge["callee"]]
        rate = edge["errors"] / edge["calls"] if edge["calls"] else 0
        color = "#d62728" if rate >= 0.05 else "#ff7f0e" if rate > 0 else "#2ca02c"
        fig.add_trace(
            go.Scatter(
                x=[x0, x1],
                y=[y0, y1],
                mode="lines",
                line={"color": color, "width": 1 + 4 * rate},
                hoverinfo="skip",
                showlegend=False,
            )
        )
        fig.add_annotation(
            x=(x0 + 2 * x1) / 3,
            y=(y0 + 2 * y1) / 3,
            text=f"{rate:.0%} · p95 {ms(edge['p95_ns'])}",
            showarrow=False,
            font={"size": 10, "color": color},
        )
    symbols = {"service": "circle", "database": "square", "queue": "diamond", "external": "triangle-up"}
    fig.add_trace(
        go.Scatter(
            x=[pos[n][0] for n in nodes],
            y=[pos[n][1] for n in nodes],
            mode="markers+text",
            text=nodes,
            textposition="top center",
            marker={"size": 22, "symbol": [symbols.get(kinds[n], "circle") for n in nodes], "color": "#1f77b4"},
            showlegend=False,
            hovertext=[f"{n} ({kinds[n]})" for n in nodes],
            hoverinfo="text",
        )
    )
    fig.update_layout(
        height=460, margin={"l": 10, "r": 10, "t": 10, "b": 10}, xaxis={"visible": False}, yaxis={"visible": False}
    )
    return fig


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    api = client()
    st.title("Overview")
    st.caption(f"{label} · collector {api.base_url}")
    services = api.services(since, until)["items"]
    left, right = st.columns([3, 2])
    with left:
        st.subheader("Services, worst first")
        if not services:
            st.info(f"No requests in the {label}. Send telemetry to the collector, or pick a longer range.")
        else:
            st.dataframe(
                [
                    {
                        "service": s["name"],
                        "requests/s": round(s["requests_per_second"], 3),
                        "error rate": f"{s['error_rate']:.1%}",
                        "p95": ms(s["p95_ns"]),
                        "p99": ms(s["p99_ns"]),
                        "requests": s["requests"],
                        "errors": s["errors"],
                    }
                    for s in services
                ],
                hide_index=True,
                use_container_width=True,
            )
            worst = services[:12]
            if not any(s["errors"] for s in services):
                st.success(f"No errors in the {label}: {sum(s['requests'] for s in services):,} requests, all fine.")
                worst = []
            bars = go.Figure(
                go.Bar(
                    x=[s["error_rate"] * 100 for s in worst],
                    y=[s["name"] for s in worst],
                    orientation="h",
                    marker={
                        "color": [
                            "#d62728" if s["error_rate"] >= 0.05 else "#ff7f0e" if s["error_rate"] > 0 else "#2ca02c"
                            for s in worst
                        ]
                    },
                    text=[f"{s['error_rate']:.1%} · p95 {ms(s['p95_ns'])}" for s in worst],
                    textposition="auto",
                )
            )
            bars.update_layout(
                height=60 + 28 * len(worst),
                margin={"l": 0, "r": 0, "t": 10, "b": 0},
                xaxis_title="error rate %",
                yaxis={"autorange": "reversed"},
            )
            if worst:
                st.plotly_chart(bars, use_container_width=True)
    with right:
        st.subheader("Service map")
        figure = _service_map(api.service_map(since, until))
        if figure is None:
            st.info("No calls between services in this range.")
        else:
            st.plotly_chart(figure, use_container_width=True)
    st.subheader("Top failure chains")
    groups = api.failures(since, until)[:5]
    if not groups:
        st.success(f"No failures in the {label}.")
    for group in groups:
        origin = group["origin"]
        seen = "users saw it" if group["propagated_traces"] else "absorbed by a caller"
        extra = ""
        if cause := group.get("latency_cause"):
            extra += f"  \n:hourglass: time went to {cause_text(cause)}"
        if onset := group.get("deploy_onset"):
            extra += f"  \n:rocket: {onset_text(onset)}"
        st.markdown(
            f"**{origin['service']}** · `{origin['operation']}` — {origin['normalized_error']}  \n"
            f"{chain_text(group['hops'], origin)} · {group['traces']} traces · {seen} · "
            f"example {trace_link(group['example_trace_ids'][0])}{extra}"
        )
    deploys = api.deploys(since, until)
    if deploys:
        st.subheader("Deploys")
        st.markdown(
            "\n".join(
                f"- :rocket: `{when(d['first_seen_ns'])}` **{d['service']}** {d['version']}"
                + (f" ({d['environment']})" if d["environment"] else "")
                for d in reversed(deploys[-20:])
            )
        )


render()
