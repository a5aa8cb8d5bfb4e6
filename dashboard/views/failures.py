"""Failures: failure chains grouped by signature, most impactful first."""

from __future__ import annotations

import streamlit as st

from dashboard.client import ApiUnavailable, FailureGroup
from dashboard.common import (
    FAILURE_CARDS,
    auto_refresh,
    cause_text,
    client,
    compare_link,
    delta_text,
    guarded,
    ms,
    onset_text,
    peer_text,
    per_minute_bars,
    time_range,
    trace_link,
    when,
)

since, until, label = time_range()
with st.sidebar:
    service = st.text_input("Only chains through service", key="failures_service").strip() or None
    kind = {"All": None, "Propagated (users saw it)": "propagated", "Absorbed (hidden by a caller)": "absorbed"}[
        str(
            st.radio("Show", ["All", "Propagated (users saw it)", "Absorbed (hidden by a caller)"], key="failures_kind")
        )
    ]


def _hops(group: FailureGroup) -> None:
    cells = []
    for hop in group["hops"]:
        mark = ":red[●]" if hop["failed"] else ":green[●]"
        via = {"link": "⇢", "async": "⇢ *async* ⇢"}.get(hop["via"], "→")
        cells.append(
            f"{via} {mark} **{hop['service']}** `{hop['operation']}` ({hop['kind']}, {ms(hop['duration_ns'])})"
        )
    cells[0] = cells[0].split(" ", 1)[1]
    origin = group["origin"]
    st.markdown(
        "  \n".join(cells) + f"  \n:red[**origin**]: **{origin['service']}** `{origin['operation']}`"
        f"{peer_text(origin)} — {origin['error_type'] or 'error'}: {origin['message']}"
    )


def _symptoms(group: FailureGroup) -> None:
    """Failures in the group's traces that are its effects (a caller losing its connection to the
    origin's service): listed under it, not as problems of their own."""
    if not group.get("symptoms"):
        return
    lines = [
        f"- **{x['origin']['service']}** `{x['origin']['operation']}`{peer_text(x['origin'])} — "
        f"{x['origin']['normalized_error']} in {x['traces']} of these traces"
        for x in group["symptoms"]
    ]
    st.markdown("**Related symptoms** (effects of this failure, not problems of their own):\n" + "\n".join(lines))


@st.fragment(run_every=auto_refresh())
@guarded
def render() -> None:
    st.title("Failures")
    st.caption(f"{label} · grouped by origin, error and path; most impactful first")
    # The groups first, without what their failing requests have in common (3× sooner at 10 M
    # spans); those lines are filled in below once the cards are on screen.
    groups = client().failures(since, until, service=service, kind=kind, deltas=False)
    if not groups:
        st.success(f"No failures in the {label}" + (f" through {service}." if service else "."))
        return
    detailed, rest = groups[:FAILURE_CARDS], groups[FAILURE_CARDS:]
    in_common = {}
    for group in detailed:
        origin = group["origin"]
        badge = (f":red[●] propagated in {group['propagated_traces']}" if group["propagated_traces"] else "") + (
            f" :orange[●] absorbed in {group['absorbed_traces']}" if group["absorbed_traces"] else ""
        )
        with st.container(border=True):
            st.markdown(f"### {origin['service']} · {origin['operation']} — {origin['normalized_error']}")
            attempts = group.get("attempts", 0)
            retried = f" · **{attempts} attempts**" if attempts > group["traces"] else ""
            st.markdown(
                f"**{group['traces']} traces**{retried} · {badge} · first seen {when(group['first_seen_ns'])} · "
                f"last seen {when(group['last_seen_ns'])} · signature `{group['signature']}`"
            )
            _hops(group)
            _symptoms(group)
            if cause := group.get("latency_cause"):
                st.markdown(f":hourglass: **Where the time went**: {cause_text(cause)}")
            if onset := group.get("deploy_onset"):
                st.markdown(f":rocket: **Deploy**: {onset_text(onset)}")
            elif group.get("versions"):
                st.markdown("Versions: " + ", ".join(f"`{v['version']}` ({v['traces']})" for v in group["versions"]))
            in_common[group["signature"]] = st.empty()
            st.markdown(compare_link(origin["service"], origin["operation"]))
            entries = ", ".join(f"{e['service']} `{e['operation']}` ({e['traces']})" for e in group["entry_points"])
            st.markdown(f"Entry points: {entries}")
            first, last = when(group["per_minute"][0][0] * 10**9), when(group["per_minute"][-1][0] * 10**9)
            st.image(per_minute_bars(group["per_minute"]), use_container_width=True)
            st.caption(f"Failing traces per minute, {first} – {last} (peak {max(n for _, n in group['per_minute'])})")
            st.markdown("Examples: " + " · ".join(trace_link(t) for t in group["example_trace_ids"]))
    if rest:
        st.subheader(f"{len(rest)} more")
        st.markdown(
            "\n".join(
                f"- **{g['origin']['service']}** `{g['origin']['operation']}` — {g['origin']['normalized_error']} · "
                f"{g['traces']} traces ({g['propagated_traces']} propagated) · {' → '.join(g['path'])} · "
                f"{trace_link(g['example_trace_ids'][0])}"
                for g in rest
            )
        )
    try:
        for group in client().failures(since, until, service=service, kind=kind):
            if group.get("attribute_deltas") and group["signature"] in in_common:
                in_common[group["signature"]].markdown(
                    ":mag: **In common**: " + "; ".join(delta_text(d) for d in group["attribute_deltas"])
                )
    except ApiUnavailable:
        pass  # the cards stand without it


render()
