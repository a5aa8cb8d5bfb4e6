"""Every rule type fires on seeded data with the right labels and values, and resolves once the
window has moved past it — the real evaluator over the real embedded store."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from cryptography.fernet import Fernet
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from alerting.channels import ChannelRegistry
from alerting.conditions import Readers
from alerting.egress import EgressPolicy
from alerting.evaluator import Evaluator
from alerting.rules import parse_rule
from storage.alert_objects import ChannelStore
from storage.alert_outbox import AlertOutbox
from storage.alert_state import AlertStateStore
from storage.log_reader import LogReader
from storage.metric_reader import MetricReader
from storage.secret_box import SecretBox
from storage.service_reader import ServiceReader
from storage.trace_reader import TraceReader
from tests.analysis.scenarios import ERROR, S, to_request

PB = {"Content-Type": "application/x-protobuf"}
LATER = 10 * 60 * 10**9  # ten minutes on: every 1-minute window is past the seeded data


@pytest.fixture
def seeded(collector):
    tag = uuid.uuid4().hex[:6]
    n = {role: f"{role}-{tag}" for role in ("web", "api", "worker")}
    now = time.time_ns()
    base = now - 20 * 10**9

    def trace(spans):
        body = to_request(spans, os.urandom(16).hex(), base).SerializeToString()
        assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200

    for i in range(4):
        trace(
            [
                S("r", n["web"], "GET /", status=ERROR if i < 2 else 0, duration_ms=900),
                S("c", n["web"], "GET", kind="Client", parent="r", status=ERROR if i < 2 else 0, duration_ms=880),
                S(
                    "a",
                    n["api"],
                    "GET /x",
                    parent="c",
                    status=ERROR if i < 2 else 0,
                    duration_ms=870,
                    exception=("KeyError", "'k'") if i < 2 else None,
                ),
            ]
        )
    trace([S("w", n["worker"], "job")])
    logs = ExportLogsServiceRequest()
    rl = logs.resource_logs.add()
    rl.resource.attributes.add(key="service.name", value=AnyValue(string_value=n["api"]))
    for i in range(3):
        record = rl.scope_logs.add().log_records.add(time_unix_nano=base + i, severity_number=17)
        record.body.string_value = f"payment declined {tag} #{i}"
    assert collector.post("/v1/logs", content=logs.SerializeToString(), headers=PB).status_code == 200
    metrics = ExportMetricsServiceRequest()
    rm = metrics.resource_metrics.add()
    rm.resource.attributes.add(key="service.name", value=AnyValue(string_value=n["worker"]))
    rm.scope_metrics.add().metrics.add(name=f"queue.depth.{tag}").gauge.data_points.add(
        as_int=1500, time_unix_nano=base
    )
    assert collector.post("/v1/metrics", content=metrics.SerializeToString(), headers=PB).status_code == 200
    return n, tag, now


def _evaluator(ch, rules) -> Evaluator:
    readers = Readers(TraceReader(ch), ServiceReader(ch), LogReader(ch), MetricReader(ch))
    return Evaluator(
        readers,
        AlertOutbox(ch),
        AlertStateStore(ch),
        lambda: rules,
        ChannelRegistry([], ChannelStore(ch), SecretBox(Fernet.generate_key()), EgressPolicy()),
        list,
        "http://dash",
    )


def _fire_and_resolve(ch, rule, now, later_rule_ok=True):
    evaluator = _evaluator(ch, [rule])
    fired = evaluator.run_once(now)
    resolved = evaluator.run_once(now + LATER)
    return fired, resolved


@pytest.mark.parametrize(
    "kind",
    [
        "error_rate",
        "latency",
        "edge_error_rate",
        "edge_latency",
        "signature_count",
        "new_signature",
        "log_count",
        "metric_threshold",
    ],
)
def test_rule_type_fires_and_resolves(ch, seeded, kind):
    n, tag, now = seeded
    body = {
        "error_rate": {"service": n["web"], "threshold": 0.25},
        "latency": {"service": n["web"], "quantile": 0.95, "threshold": "500ms"},
        "edge_error_rate": {"caller": n["web"], "callee": n["api"], "threshold": 0.25},
        "edge_latency": {"caller": n["web"], "callee": n["api"], "threshold": "500ms"},
        "signature_count": {"service": n["api"], "threshold": 2},
        "new_signature": {"service": n["api"], "lookback": "1h"},
        "log_count": {"query": f"declined {tag}", "service": n["api"], "threshold": 3},
        "metric_threshold": {"metric": f"queue.depth.{tag}", "aggregation": "max", "op": ">", "threshold": 1000},
    }[kind]
    rule = parse_rule({"name": f"{kind}-{tag}", "type": kind, "window": "1m", "severity": "critical", **body})
    fired, resolved = _fire_and_resolve(ch, rule, now)
    assert [f.status for f in fired] == ["firing"], fired
    alert = fired[0]
    expected_value = {
        "error_rate": 0.5,
        "edge_error_rate": 0.5,
        "signature_count": 2.0,
        "new_signature": 2.0,
        "log_count": 3.0,
        "metric_threshold": 1500.0,
    }
    if kind in expected_value:
        assert alert.value == pytest.approx(expected_value[kind])
    elif kind == "latency":
        assert alert.value == pytest.approx(0.9, rel=0.01)
    else:
        assert alert.value == pytest.approx(0.88, rel=0.01)
    if kind in ("error_rate", "latency", "signature_count", "new_signature", "edge_error_rate"):
        assert alert.chains and alert.chains[0].origin_service == n["api"], alert.chains
    assert [r.status for r in resolved] == ["resolved"]
    assert resolved[0].fingerprint == alert.fingerprint


def test_no_data_fires_when_a_service_goes_silent_and_resolves_when_it_returns(ch, collector, seeded):
    n, tag, now = seeded
    rule = parse_rule({"name": f"silent-{tag}", "type": "no_data", "service": n["worker"], "window": "1m"})
    evaluator = _evaluator(ch, [rule])
    assert evaluator.run_once(now) == []  # the worker sent a span 20 s ago
    [silent] = evaluator.run_once(now + LATER)
    assert silent.status == "firing" and silent.labels["service"] == n["worker"]
    body = to_request([S("w", n["worker"], "job")], os.urandom(16).hex(), now + LATER - 10**9).SerializeToString()
    assert collector.post("/v1/traces", content=body, headers=PB).status_code == 200
    assert [r.status for r in evaluator.run_once(now + LATER + 10 * 10**9)] == ["resolved"]


def test_a_restarted_evaluator_neither_resends_nor_forgets(ch, seeded):
    n, tag, now = seeded
    rule = parse_rule({"name": f"restart-{tag}", "type": "error_rate", "service": n["web"], "window": "1m",
                       "threshold": 0.25})  # fmt: skip
    assert [f.status for f in _evaluator(ch, [rule]).run_once(now)] == ["firing"]
    restarted = _evaluator(ch, [rule])  # a new collector on the same store
    restarted.restore()
    assert restarted.run_once(now + 10**9) == []  # still firing, and already notified
    assert [r.status for r in restarted.run_once(now + LATER)] == ["resolved"]
