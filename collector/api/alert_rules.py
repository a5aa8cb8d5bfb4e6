"""/api/v1/alert-rules: list, get, create, update and delete alert rules.

Rules from the rule file (HOPSCOPE_ALERT_RULES_FILE) are listed with `"source": "file"` and are
read-only here; rules created through the API persist in ClickHouse. Bodies are validated exactly
as the file is.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Response

from alerting.rules import ConfigError, parse_rule
from alerting.service import AlertingService
from collector.api.errors import ApiError
from collector.dependencies import AlertingDep

router = APIRouter(prefix="/api/v1/alert-rules", tags=["alerting"])


def _file_rules(alerting: AlertingService) -> dict[str, dict]:
    return {r.name: r.model_dump(mode="json", by_alias=True) for r in alerting.config.rules}


def _all(alerting: AlertingService) -> dict[str, dict]:
    rules = {name: {**body, "source": "api"} for name, body in alerting.rule_store.all().items()}
    rules.update({name: {**body, "source": "file"} for name, body in _file_rules(alerting).items()})
    return rules


def _validated(body: Any) -> dict:
    try:
        return parse_rule(body).model_dump(mode="json", by_alias=True)
    except ConfigError as exc:
        raise ApiError(400, "invalid rule", "; ".join(exc.problems)) from None


@router.get("", summary="All alert rules (file and API)")
def list_rules(alerting: AlertingDep) -> list[dict]:
    return sorted(_all(alerting).values(), key=lambda r: r["name"])


@router.get("/{name}", summary="One alert rule")
def get_rule(name: str, alerting: AlertingDep) -> dict:
    rule = _all(alerting).get(name)
    if rule is None:
        raise ApiError(404, "rule not found", f"no alert rule named {name!r}")
    return rule


@router.post("", status_code=201, summary="Create an alert rule")
def create_rule(alerting: AlertingDep, body: Any = Body(...)) -> dict:
    rule = _validated(body)
    if rule["name"] in _all(alerting):
        raise ApiError(409, "rule exists", f"an alert rule named {rule['name']!r} exists; PUT to change it")
    alerting.rule_store.put(rule["name"], rule)
    return {**rule, "source": "api"}


@router.put("/{name}", summary="Replace an alert rule created through the API")
def update_rule(name: str, alerting: AlertingDep, body: Any = Body(...)) -> dict:
    if name in _file_rules(alerting):
        raise ApiError(409, "rule from file", f"{name!r} is defined in the rule file; change it there")
    if name not in alerting.rule_store.all():
        raise ApiError(404, "rule not found", f"no alert rule named {name!r}")
    rule = _validated(body)
    if rule["name"] != name:
        raise ApiError(400, "invalid rule", f"the body names {rule['name']!r}, the path {name!r}")
    alerting.rule_store.put(name, rule)
    return {**rule, "source": "api"}


@router.delete("/{name}", status_code=204, summary="Delete an alert rule created through the API")
def delete_rule(name: str, alerting: AlertingDep) -> Response:
    if name in _file_rules(alerting):
        raise ApiError(409, "rule from file", f"{name!r} is defined in the rule file; remove it there")
    if name not in alerting.rule_store.all():
        raise ApiError(404, "rule not found", f"no alert rule named {name!r}")
    alerting.rule_store.delete(name)
    return Response(status_code=204)
