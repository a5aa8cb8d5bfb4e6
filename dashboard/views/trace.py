"""Trace: the waterfall, the failure chains, span details and the trace's logs. Deep link:
`/trace?trace_id=...`."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from dashboard.common import auto_refresh, chain_text, client, guarded, log_line, ms, trace_link, when

MAX_BARS = 2000  # beyond this the waterfall shows the failure chains' spans and the slowest others

st.title("Trace")
trace_id = st.text_input("Trace id", value=st.query_params.get("trace_id", ""), key="trace_id").strip().lower()
if trace_id:
    st.query_params["trace_id"] = trace_id


def _waterfall(spans: list[dict], highlighted: set[str], critical: dict[str, int]) -> go.Figure:
    t0 = min(s["span"]["start_ns"] for s in spans)
    services = sorted({s["span"]["service"] for s in spans})
    palette = ["#1f77b4", "#9467bd", "#17becf", "#bcbd22", "#8c564b", "#e377c2", "#7f7f7f", "#2ca02c", "#ff7f0e"]
    colors = {svc: palette[i % len(palette)] for i, svc in enumerate(services)}
    shown = spans
    if len(spans) > MAX_BARS:
        rest = sorted(
            (s for s in spans if s["span"]["span_id"] not in highlighted), key=lambda s: -s["span"]["duration_ns"]
        )[: MAX_BARS - len(highlighted)]
        shown = sorted(
            [s for s in spans if s["span"]["span_id"] in highlighted] + rest, key=lambda s: s["span"]["start_ns"]
        )
    depth = {s["span"]["span_id"]: d for d, s in _tree_order(spans)}
    shown = [s for _, s in _tree_order(shown)]
    on_path = [s["span"]["span_id"] in critical for s in shown]
    labels = [
        f"{'  ' * min(depth.get(s['span']['span_id'], 0), 12)}{s['span']['service']} · {s['span']['name']} ·{i}"
        for i, s in enumerate(shown)
    ]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=[max(s["span"]["duration_ns"], 1) / 1e6 for s in shown],
            base=[(s["span"]["start_ns"] - t0) / 1e6 for s in shown],
            orientation="h",
            marker={
                "color": [colors[s["span"]["service"]] for s in shown],
                "line": {
                    "color": [
                        "#d62728" if s["failed"] else "#111111" if p else "rgba(0,0,0,0)"
                        for s, p in zip(shown, on_path, strict=True)
                    ],
                    "width": [
                        4 if s["span"]["span_id"] in highlighted else 2 if s["failed"] or p else 0
                        for s, p in zip(shown, on_path, strict=True)
                    ],
                },
            },
            hovertext=[
                f"{s['span']['service']} {s['span']['name']} ({s['span']['kind']}) {ms(s['span']['duration_ns'])}"
                + (" — FAILED" if s["failed"] else "")
                + (f" — critical path, self time {ms(critical[s['span']['span_id']])}" if p else "")
                for s, p in zip(shown, on_path, strict=True)
            ],
            hoverinfo="text",
            name="spans",
        )
    )
    # The critical path: a dark strip under each of its spans, as long as the span's own time on it.
    path = [(i, s) for i, s in enumerate(shown) if s["span"]["span_id"] in critical]
    if path:
        fig.add_trace(
            go.Scatter(
                y=[labels[i] for i, _ in path],
                x=[(s["span"]["start_ns"] - t0) / 1e6 for _, s in path],
                mode="markers",
                marker={"symbol": "diamond", "size": 9, "color": "#111111"},
                hovertext=[f"critical path: {ms(critical[s['span']['span_id']])} self time" for _, s in path],
                hoverinfo="text",
                name="critical path",
            )
        )
    fig.update_layout(
        showlegend=bool(path),
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"},
        height=min(80 + 22 * len(shown), 4000),
        margin={"l": 0, "r": 0, "t": 10, "b": 0},
        xaxis_title="ms since the trace started",
        yaxis={"autorange": "reversed", "showticklabels": len(shown) <= 200},
    )
    return fig


def _tree_order(spans: list[dict]) -> list[tuple[int, dict]]:
    """(depth, span) parents before children, siblings by start time — the waterfall's rows."""
    by_id = {s["span"]["span_id"]: s for s in spans}
    children: dict[str, list[dict]] = {}
    roots = []
    for s in sorted(spans, key=lambda s: s["span"]["start_ns"]):
        parent = s["span"]["parent_span_id"]
        if parent and parent in by_id and parent != s["span"]["span_id"]:
            children.setdefault(parent, []).append(s)
        else:
            roots.append(s)
    ordered, stack, seen = [], [(0, r) for r in reversed(roots)], set()
    while stack:
        depth, s = stack.pop()
        if s["span"]["span_id"] in seen:
            continue
        seen.add(s["span"]["span_id"])
        ordered.append((depth, s))
        stack.extend((depth + 1, c) for c in reversed(children.get(s["span"]["span_id"], [])))
    return ordered


FOLD = 200  # attribute values longer than this are folded


def _span_details(chosen: dict) -> None:
    """One span as a readable table: what it is, its status, its attributes (sorted, long values
    folded), its events (exceptions with type, message and stack trace) and its links."""
    span = chosen["span"]
    status = span["status_code"] + (f" — {span['status_message']}" if span["status_message"] else "")
    rows = [
        ("name", f"`{span['name']}`"),
        ("service", span["service"]),
        ("kind", span["kind"]),
        ("status", (":red[failed] · " if chosen["failed"] else "") + status),
        ("duration", ms(span["duration_ns"])),
        (
            "span id",
            f"`{span['span_id']}`" + (f" (parent `{span['parent_span_id']}`)" if span["parent_span_id"] else ""),
        ),
    ]
    if span.get("version"):
        rows.append(("version", span["version"]))
    st.markdown("| | |\n| --- | --- |\n" + "\n".join(f"| **{k}** | {v} |" for k, v in rows))
    attributes = sorted(span["attributes"].items())
    if attributes:
        st.dataframe(
            [{"attribute": k, "value": v if len(v) <= FOLD else v[:FOLD] + " …"} for k, v in attributes],
            hide_index=True,
            use_container_width=True,
        )
        for key, value in attributes:
            if len(value) > FOLD:
                with st.expander(f"{key} (full value, {len(value):,} characters)"):
                    st.code(value, language="text")
    for event in span["events"]:
        attrs = event["attributes"]
        if event["name"] == "exception":
            st.markdown(
                f":red[**exception**] `{attrs.get('exception.type', '')}`: {attrs.get('exception.message', '')}"
            )
            if attrs.get("exception.stacktrace"):
                st.code(attrs["exception.stacktrace"], language="text")
        else:
            st.markdown(f"**event** `{event['name']}` at {when(event['time_ns'])}")
        rest = {
            k: v for k, v in attrs.items() if k not in ("exception.type", "exception.message", "exception.stacktrace")
        }
        if rest:
            st.markdown("\n".join(f"- `{k}` = {v}" for k, v in sorted(rest.items())))
    if span["links"]:
        st.markdown("Links: " + ", ".join(f"{trace_link(t)} span `{s}`" for t, s in span["links"]))


def _chain_line(chain: dict) -> str:
    origin = chain["origin"]
    kind = "propagated: the caller saw it" if chain["propagated"] else "absorbed by a caller above"
    attempts = f", {chain['attempts']} attempts" if chain.get("attempts", 1) > 1 else ""
    line = (
        f"Failure chain ({kind}{attempts}): {chain_text(chain['hops'], origin)} — origin **{origin['service']}** "
        f"`{origin['operation']}`: {origin['error_type'] or 'error'}: {origin['message']}"
    )
    evidence = origin.get("evidence") or {}
    if evidence.get("log"):
        line += f"  \nlogged: **{evidence['log']['severity']}** {evidence['log']['exception_type']} {evidence['log']['message']}"
    cause = chain.get("latency_cause")
    if cause:
        outlived = " (kept running after the caller gave up)" if cause["outlived_caller"] else ""
        line += (
            f"  \n:hourglass: where the time went: **{cause['service']}** `{cause['operation']}` — "
            f"{ms(cause['self_ns'])} self time, {cause['share']:.0%} of the timed-out call{outlived}"
        )
    if chain.get("upstream_traces"):
        line += "  \nproduced in " + ", ".join(trace_link(t) for t in chain["upstream_traces"])
    return line


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    if not trace_id:
        st.info("Enter a trace id, or open one from the Failures, Traces or Logs pages.")
        return
    detail = client().trace(trace_id)
    spans, chains = detail["spans"], detail["failure_chains"]
    t0 = min(s["span"]["start_ns"] for s in spans)
    duration = max(s["span"]["start_ns"] + s["span"]["duration_ns"] for s in spans) - t0
    services = sorted({s["span"]["service"] for s in spans})
    st.caption(f"{trace_id} · started {when(t0)} · {ms(duration)} · {len(spans)} spans · {len(services)} services")
    span_names = {s["span"]["span_id"]: f"{s['span']['service']} `{s['span']['name']}`" for s in spans}
    for chain in chains:
        st.error(_chain_line(chain))
    if not chains:
        st.success("No failed spans in this trace.")
    for chain in detail.get("async_failure_chains", []):
        st.warning(f"Downstream, asynchronously ({trace_link(chain['trace_id'])}): " + _chain_line(chain))
    if detail.get("async_cut"):
        st.caption("More linked traces exist than were followed (at most 50, 3 broker hops).")
    critical = {step["span_id"]: step["self_ns"] for step in detail.get("critical_path", [])}
    if critical:
        slowest = max(critical, key=lambda k: critical[k])
        st.caption(
            f"Critical path: {len(critical)} spans (◆ in the waterfall, dark outline); most time on it: "
            f"{span_names.get(slowest, slowest)} {ms(critical[slowest])} self time"
        )
    highlighted = {hop["span_id"] for chain in chains for hop in chain["hops"]}
    st.plotly_chart(_waterfall(spans, highlighted, critical), use_container_width=True)
    if len(spans) > MAX_BARS:
        st.caption(f"Showing the failure chains and the {MAX_BARS} slowest spans of {len(spans)}.")
    st.subheader("Span details")
    names = {f"{s['span']['service']} · {s['span']['name']} · {s['span']['span_id']}": s for s in spans}
    failed_first = sorted(names, key=lambda n: not names[n]["failed"])
    # Open on the span the link asked for (a log record's), else the origin of the first failure
    # chain: the span on-call wants to read first.
    position = {names[n]["span"]["span_id"]: i for i, n in enumerate(failed_first)}
    origin_id = chains[0]["origin"]["span_id"] if chains else ""
    start = position.get(st.query_params.get("span_id", ""), position.get(origin_id, 0))
    chosen = names[str(st.selectbox("Span", failed_first, index=start, key="span"))]
    _span_details(chosen)
    st.subheader("Logs")
    if not detail["logs"]:
        st.info("No log records for this trace.")
    else:
        st.markdown("\n".join(log_line(r, with_trace=False) for r in detail["logs"]))


render()
