"""Webhook bodies in the three formats, and the HMAC signature with the README's recipe."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timezone

from alerting.notifications import ChainSummary, Notification, headers, render, verify

DASH = "http://127.0.0.1:8501"
CHAIN = ChainSummary(
    "85ad16c03ae8c9b6",
    "ledger",
    "INSERT",
    "sqlite3.OperationalError",
    ["frontend", "checkout", "payment", "ledger"],
    True,
    29,
    ["ab" * 16, "cd" * 16],
)
FIRING = Notification(
    id="n-1",
    fingerprint="f1",
    rule="frontend-errors",
    status="firing",
    severity="critical",
    summary="frontend error rate 36% > 5% for 2m",
    labels={"service": "frontend"},
    value=0.36,
    threshold=0.05,
    starts_at=datetime(2026, 11, 22, 0, 7, tzinfo=timezone.utc),
    chains=[CHAIN],
)


def test_generic_names_the_origin_and_links_the_traces():
    body = json.loads(render(FIRING, "generic", DASH, "oncall"))
    assert body["status"] == "firing" and body["starts_at"] == "2026-11-22T00:07:00Z" and body["ends_at"] is None
    chain = body["chains"][0]
    assert (chain["origin_service"], chain["path"]) == ("ledger", ["frontend", "checkout", "payment", "ledger"])
    assert chain["example_trace_urls"][0] == f"{DASH}/trace?trace_id={'ab' * 16}"


def test_slack_message_has_summary_origin_and_links():
    text = json.loads(render(FIRING, "slack", DASH, "oncall"))["text"]
    assert "*FIRING* [critical] *frontend-errors*" in text
    assert "origin *ledger* `INSERT`: sqlite3.OperationalError (frontend → checkout → payment → ledger" in text
    assert f"<{DASH}/trace?trace_id={'ab' * 16}|abababab>" in text


def test_alertmanager_v4_payload():
    body = json.loads(render(FIRING, "alertmanager", DASH, "oncall"))
    assert body["version"] == "4" and body["receiver"] == "oncall" and body["status"] == "firing"
    [alert] = body["alerts"]
    assert alert["labels"] == {"alertname": "frontend-errors", "severity": "critical", "service": "frontend"}
    assert alert["annotations"]["origin"] == "ledger INSERT: sqlite3.OperationalError"
    assert alert["annotations"]["chain"] == "frontend -> checkout -> payment -> ledger"
    assert alert["startsAt"] == "2026-11-22T00:07:00Z" and alert["endsAt"] == "0001-01-01T00:00:00Z"
    assert {"groupKey", "groupLabels", "commonLabels", "commonAnnotations", "externalURL", "truncatedAlerts"} <= set(
        body
    )


def test_signature_follows_the_documented_recipe():
    body = render(FIRING, "generic", DASH, "oncall")
    sent = headers(FIRING.id, body, "s3cret", timestamp=1_795_300_000)
    expected = "sha256=" + hmac.new(b"s3cret", b"1795300000." + body, hashlib.sha256).hexdigest()
    assert sent["X-Hopscope-Signature"] == expected
    assert sent["X-Hopscope-Idempotency-Key"] == "n-1"
    assert verify("s3cret", sent["X-Hopscope-Timestamp"], body, expected, now=1_795_300_100)
    assert not verify("s3cret", sent["X-Hopscope-Timestamp"], body + b" ", expected, now=1_795_300_100)
    assert not verify("wrong", sent["X-Hopscope-Timestamp"], body, expected, now=1_795_300_100)
    assert not verify("s3cret", sent["X-Hopscope-Timestamp"], body, expected, now=1_795_309_999)  # stale
    assert "X-Hopscope-Signature" not in headers(FIRING.id, body, None, timestamp=1)


def test_every_format_says_where_the_time_went_the_deploy_and_what_failures_share():
    from dataclasses import replace

    from alerting.notifications import describe_cause, describe_delta, describe_onset

    chain = replace(
        CHAIN,
        attempts=31,
        evidence="status Error, exception sqlite3.OperationalError",
        latency_cause=describe_cause("ledger", "INSERT entries", 940 * 10**6, 0.94, 12),
        deploy=describe_onset("2.4.0", 1_795_000_000 * 10**9, 3 * 60 * 10**9),
        versions=["2.4.0"],
        attribute_deltas=[describe_delta("user.tier", "free", 0.92, 0.1)],
    )
    firing = replace(FIRING, chains=[chain])
    generic = json.loads(render(firing, "generic", DASH, "oncall"))["chains"][0]
    assert (
        generic["latency_cause"] == "ledger INSERT entries: 940 ms self time (94% of the timed-out call), in 12 traces"
    )
    assert generic["deploy"] == "started with 2.4.0, first seen 11:06 UTC, 3 min before the first failure"
    assert generic["attribute_deltas"] == ["user.tier=free (92% of failures, 10% of successes)"]
    assert generic["attempts"] == 31 and generic["versions"] == ["2.4.0"]
    text = json.loads(render(firing, "slack", DASH, "oncall"))["text"]
    assert "time went to ledger INSERT entries: 940 ms" in text and "deploy: started with 2.4.0" in text
    assert "in common: user.tier=free (92% of failures" in text
    annotations = json.loads(render(firing, "alertmanager", DASH, "oncall"))["alerts"][0]["annotations"]
    assert annotations["latency_cause"].startswith("ledger INSERT entries") and annotations["deploy"].startswith(
        "started"
    )
    assert annotations["in_common"].startswith("user.tier=free")
