"""Compare: what the failing requests have in common. Failing spans of a selection against its
healthy spans in the same range, attribute values ranked by how over-represented they are among
the failures. Deep link: `/compare?service=...&operation=...`."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.common import auto_refresh, client, guarded, time_range

since, until, label = time_range()
st.title("Compare failing vs healthy")
params = st.query_params
with st.form("compare"):
    cols = st.columns(3)
    service = cols[0].text_input("Service", value=params.get("service", ""))
    operation = cols[1].text_input("Operation", value=params.get("operation", ""))
    attrs = cols[2].text_input("Attributes", value=params.get("attr", ""), placeholder="deployment.environment=prod")
    st.form_submit_button("Compare")
if service.strip():
    st.query_params["service"] = service.strip()
if operation.strip():
    st.query_params["operation"] = operation.strip()


def _chart(deltas: list[dict]) -> go.Figure:
    labels = [f"{d['key']}={d['value']}" for d in deltas]
    fig = go.Figure(
        [
            go.Bar(
                name="failing",
                y=labels,
                x=[d["failing_share"] * 100 for d in deltas],
                orientation="h",
                marker={"color": "#d62728"},
            ),
            go.Bar(
                name="healthy",
                y=labels,
                x=[d["healthy_share"] * 100 for d in deltas],
                orientation="h",
                marker={"color": "#2ca02c"},
            ),
        ]  # fmt: skip
    )
    fig.update_layout(
        barmode="group",
        height=80 + 44 * len(deltas),
        margin={"l": 0, "r": 0, "t": 30, "b": 0},
        xaxis_title="% of spans carrying the value",
        yaxis={"autorange": "reversed"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    result = client().compare(
        since,
        until,
        service=service.strip() or None,
        operation=operation.strip() or None,
        attr=[a.strip() for a in attrs.split(",") if a.strip()],
        limit=15,
    )
    selection = " · ".join(x for x in (service.strip(), operation.strip()) if x) or "all spans"
    st.caption(
        f"{selection} · {label} · {result['failing_spans']:,} failing and {result['healthy_spans']:,} healthy spans"
        + (
            f" (compared: a sample of {result['sampled_failing']:,} and {result['sampled_healthy']:,})"
            if (result["sampled_failing"], result["sampled_healthy"])
            != (result["failing_spans"], result["healthy_spans"])
            else ""
        )
    )
    if not result["failing_spans"]:
        st.success(f"No failing spans in this selection in the {label}: nothing to compare.")
        return
    if not result["healthy_spans"]:
        st.info(f"No healthy spans of this selection in the {label} to compare the failing ones with.")
        return
    deltas = result["deltas"]
    if not deltas:
        st.info("No attribute value stands out among the failing spans.")
        return
    st.markdown(
        "\n".join(
            f"- **{d['key']}={d['value']}** ({d['source']}): {d['failing_share']:.0%} of failing spans, "
            f"{d['healthy_share']:.0%} of healthy ones"
            for d in deltas[:3]
        )
    )
    st.plotly_chart(_chart(deltas), use_container_width=True)
    st.dataframe(
        [
            {
                "attribute": d["key"],
                "value": d["value"],
                "source": d["source"],
                "failing": f"{d['failing_share']:.1%} ({d['failing']})",
                "healthy": f"{d['healthy_share']:.1%} ({d['healthy']})",
            }
            for d in deltas
        ],
        hide_index=True,
        use_container_width=True,
    )


render()
