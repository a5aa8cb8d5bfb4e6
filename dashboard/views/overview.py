"""Overview: every service worst first, the service map, and the top failure chains."""

from __future__ import annotations

from urllib.parse import quote

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


_SHAPES = {
    "service": 'shape=box style="rounded,filled" fillcolor="#eef4fb" color="#1f77b4"',
    "database": 'shape=cylinder style=filled fillcolor="#f3f3f3" color="#555555"',
    "queue": 'shape=cds style=filled fillcolor="#f7f0fb" color="#7b4fa0"',
    "external": 'shape=box style="dashed" color="#777777"',
}


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _neighbours(graph: dict, focus: str | None) -> set[str | None]:
    """`focus`, its callers and what it calls."""
    near: set[str | None] = {focus}
    near |= {e["callee"] for e in graph["edges"] if e["caller"] == focus}
    return near | {e["caller"] for e in graph["edges"] if e["callee"] == focus}


def service_map_dot(body: dict, focus: str | None = None) -> str | None:
    """The service map as Graphviz DOT: layered left to right (callers left, databases and queues
    on the right), arrow heads, each edge labelled with its calls, error rate and p95, coloured by
    error rate. Each node links to this page focused on it; `focus` and its neighbours stand out."""
    if not body["nodes"]:
        return None
    near = _neighbours(body, focus)
    lines = [
        "digraph services {",
        '  rankdir=LR; nodesep=0.35; ranksep=0.7; bgcolor="transparent";',
        '  node [fontname="Helvetica" fontsize=14 margin="0.2,0.08"];',
        '  edge [fontname="Helvetica" fontsize=11 arrowsize=0.8];',
    ]
    for node in body["nodes"]:
        name, kind = node["name"], node["type"]
        faded = ' fontcolor="#aaaaaa" color="#cccccc"' if focus and name not in near else ""
        bold = " penwidth=2.5" if name == focus else ""
        link = f' URL={_quoted("/?service=" + quote(name))} target="_self" tooltip={_quoted(f"{name} ({kind}): focus on it")}'
        lines.append(f"  {_quoted(name)} [{_SHAPES.get(kind, _SHAPES['service'])}{bold}{faded}{link}];")
    sinks = [n["name"] for n in body["nodes"] if n["type"] in ("database", "queue")]
    if sinks:
        lines.append("  { rank=max; " + " ".join(_quoted(n) for n in sinks) + " }")
    for edge in body["edges"]:
        rate = edge["errors"] / edge["calls"] if edge["calls"] else 0
        color = "#d62728" if rate >= 0.05 else "#ff7f0e" if rate > 0 else "#2ca02c"
        if focus and focus not in (edge["caller"], edge["callee"]):
            color = "#dddddd"
        label = f"{edge['calls']:,} · {rate:.0%} err · p95 {ms(edge['p95_ns'])}"
        lines.append(
            f"  {_quoted(edge['caller'])} -> {_quoted(edge['callee'])} "
            f'[label={_quoted(label)} color="{color}" fontcolor="{color}" penwidth={1 + 3 * rate:.1f}];'
        )
    lines.append("}")
    return "\n".join(lines)


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    api = client()
    st.title("Overview")
    st.caption(f"{label} · collector {api.base_url}")
    focus = st.query_params.get("service") or None
    services = api.services(since, until)["items"]
    graph = api.service_map(since, until)
    if focus:
        near = _neighbours(graph, focus)
        services = [s for s in services if s["name"] in near]
        st.info(f"Focused on **{focus}**: it, its callers and what it calls. Choose “All services” to see everything.")
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
                with right:
                    st.subheader("Error rate")
                    st.plotly_chart(bars, use_container_width=True)
    # Full width: a layered graph is wide, and squeezed into a column its labels could not be read.
    st.subheader("Service map")
    names = sorted(n["name"] for n in graph["nodes"])
    chosen = st.selectbox(
        "Focus on a service (or click one on the map)",
        ["All services", *names],
        index=names.index(focus) + 1 if focus in names else 0,
    )
    if (chosen if chosen != "All services" else None) != focus:
        if chosen == "All services":
            del st.query_params["service"]
        else:
            st.query_params["service"] = chosen
        st.rerun()
    dot = service_map_dot(graph, focus)
    if dot is None:
        st.info("No calls between services in this range.")
    else:
        st.graphviz_chart(dot, use_container_width=True)
    st.subheader("Top failure chains" + (f" through {focus}" if focus else ""))
    groups = api.failures(since, until, service=focus)[:5]
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
