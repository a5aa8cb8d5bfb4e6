"""Rule files and rule bodies: every rule type accepted, and every mistake named with its line."""

from __future__ import annotations

import pytest

from alerting.rules import ConfigError, ErrorRateRule, load_config, parse_rule

GOOD = """
rules:
  - name: frontend-errors
    type: error_rate
    service: frontend
    window: 5m
    for: 2m
    threshold: 0.05
    severity: critical
    labels: {team: shop}
  - {name: checkout-p95, type: latency, service: checkout, quantile: 0.95, threshold: 800ms}
  - {name: checkout-to-payment, type: edge_error_rate, caller: checkout, callee: payment, threshold: 0.1}
  - {name: ledger-db-slow, type: edge_latency, caller: ledger, callee: sqlite, threshold: 250ms}
  - {name: new-problem, type: new_signature, service: checkout, lookback: 7d}
  - {name: ledger-timeouts, type: signature_count, signature: 85ad16c03ae8c9b6, threshold: 20}
  - {name: declines, type: log_count, query: payment declined, log_severity: error, threshold: 50}
  - {name: queue-depth, type: metric_threshold, metric: queue.depth, aggregation: max, op: ">", threshold: 1000,
     attributes: {queue: orders}}
  - {name: shipping-silent, type: no_data, service: shipping, window: 10m}
channels:
  - {name: oncall, url: "https://hooks.example.com/x", format: slack, secret: s3cret, match: {severity: critical}}
silences:
  - {matchers: {service: inventory}, ends: "2026-12-01T00:00:00Z", comment: migration}
"""


def test_every_rule_type_loads():
    config = load_config(GOOD)
    assert [r.type for r in config.rules] == [
        "error_rate",
        "latency",
        "edge_error_rate",
        "edge_latency",
        "new_signature",
        "signature_count",
        "log_count",
        "metric_threshold",
        "no_data",
    ]
    errors = config.rules[0]
    assert isinstance(errors, ErrorRateRule)
    assert (errors.window, errors.for_, errors.threshold, errors.labels) == (300.0, 120.0, 0.05, {"team": "shop"})
    assert config.rules[1].threshold == 0.8
    assert config.rules[4].lookback == 7 * 86400
    assert "s3cret" not in repr(config.channels[0]) and config.channels[0].secret.get_secret_value() == "s3cret"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "rules:\n  - name: a\n    type: error_rate\n    service: x\n    threshold: 5\n",
            "alerts.yaml:5: rules[0].threshold: Input should be less than or equal to 1",
        ),
        (
            "rules:\n  - name: a\n    type: eror_rate\n    service: x\n",
            "alerts.yaml:3: rules[0].type: Input tag 'eror_rate' found using 'type' does not match any of the expected",
        ),
        (
            "rules:\n  - name: a\n    type: latency\n    service: x\n    threshold: fast\n",
            "alerts.yaml:5: rules[0].threshold: 'fast' is not a duration such as 30s, 5m, 2h or 7d",
        ),
        ("rules:\n  - name: a\n    type: no_data\n", "alerts.yaml:2: rules[0].service: Field required"),
        (
            "rules:\n  - name: a\n    type: no_data\n    service: x\n    sevrity: high\n",
            "alerts.yaml:5: rules[0].sevrity: Extra inputs are not permitted",
        ),
        (
            "rules:\n  - {name: a, type: no_data, service: x}\n  - {name: a, type: no_data, service: y}\n",
            "alerts.yaml:1: (top level): two rules are named 'a'",
        ),
        ("channels:\n  - name: c\n    url: not-a-url\n", "alerts.yaml:3: channels[0].url: Input should be a valid URL"),
        ("silences:\n  - ends: 2026-12-01T00:00:00Z\n", "alerts.yaml:2: silences[0]: a silence needs a rule or"),
        ("rules: [\n", "alerts.yaml:2: not valid YAML"),
        ("- just a list\n", "alerts.yaml: the file must be a mapping"),
    ],
)
def test_mistakes_point_at_the_line_and_field(text, expected):
    with pytest.raises(ConfigError) as exc:
        load_config(text)
    assert any(problem.startswith(expected) for problem in exc.value.problems), exc.value.problems


def test_an_api_body_is_validated_the_same_way():
    rule = parse_rule({"name": "x", "type": "edge_latency", "caller": "a", "callee": "b", "threshold": "1s"})
    assert rule.threshold == 1.0 and rule.quantile == 0.95
    with pytest.raises(ConfigError) as exc:
        parse_rule(
            {
                "name": "bad name!",
                "type": "edge_latency",
                "caller": "a",
                "callee": "b",
                "quantile": 0.9,
                "threshold": "1s",
            }
        )
    assert any(p.startswith("name: String should match pattern") for p in exc.value.problems)
    assert any(p.startswith("quantile: Input should be 0.5 or 0.95") for p in exc.value.problems)


def test_an_empty_file_is_an_empty_configuration():
    assert load_config("") == load_config("rules: []\n")
