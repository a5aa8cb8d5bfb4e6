"""/api/v1/alert-rules: list, get, create, update and delete alert rules.

Rules from the rule file (HOPSCOPE_ALERT_RULES_FILE) are listed with `"source": "file"` and are
read-only here; rules created through the API persist in ClickHouse. Bodies are validated exactly
as the file is.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Request, Response

from alerting.rules import ConfigError, parse_rule
from collector.api.errors import ApiError
from storage.alert_store import AlertRuleStore

router = APIRouter(prefix="/api/v1/alert-rules", tags=["alerting"])


def _store(request: Request) -> AlertRuleStore:
    return AlertRuleStore(request.app.state.reader_client)


def _file_rules(request: Request) -> dict[str, dict]:
    config = getattr(request.app.state, "alert_config", None)
    return {r.name: r.model_dump(mode="json", by_alias=True) for r in (config.rules if config else [])}


def _all(request: Request) -> dict[str, dict]:
    rules = {name: {**body, "source": "api"} for name, body in _store(request).all().items()}
    rules.update({name: {**body, "source": "file"} for name, body in _file_rules(request).items()})
    return rules


def _validated(body: Any) -> dict:
    try:
        return parse_rule(body).model_dump(mode="json", by_alias=True)
    except ConfigError as exc:
        raise ApiError(400, "invalid rule", "; ".join(exc.problems)) from None


@router.get("", summary="All alert rules (file and API)")
def list_rules(request: Request) -> list[dict]:
    return sorted(_all(request).values(), key=lambda r: r["name"])


@router.get("/{name}", summary="One alert rule")
def get_rule(name: str, request: Request) -> dict:
    rule = _all(request).get(name)
    if rule is None:
        raise ApiError(404, "rule not found", f"no alert rule named {name!r}")
    return rule


@router.post("", status_code=201, summary="Create an alert rule")
def create_rule(request: Request, body: Any = Body(...)) -> dict:
    rule = _validated(body)
    if rule["name"] in _all(request):
        raise ApiError(409, "rule exists", f"an alert rule named {rule['name']!r} exists; PUT to change it")
    _store(request).put(rule["name"], rule)
    return {**rule, "source": "api"}


@router.put("/{name}", summary="Replace an alert rule created through the API")
def update_rule(name: str, request: Request, body: Any = Body(...)) -> dict:
    if name in _file_rules(request):
        raise ApiError(409, "rule from file", f"{name!r} is defined in the rule file; change it there")
    if name not in _store(request).all():
        raise ApiError(404, "rule not found", f"no alert rule named {name!r}")
    rule = _validated(body)
    if rule["name"] != name:
        raise ApiError(400, "invalid rule", f"the body names {rule['name']!r}, the path {name!r}")
    _store(request).put(name, rule)
    return {**rule, "source": "api"}


@router.delete("/{name}", status_code=204, summary="Delete an alert rule created through the API")
def delete_rule(name: str, request: Request) -> Response:
    if name in _file_rules(request):
        raise ApiError(409, "rule from file", f"{name!r} is defined in the rule file; remove it there")
    if name not in _store(request).all():
        raise ApiError(404, "rule not found", f"no alert rule named {name!r}")
    _store(request).delete(name)
    return Response(status_code=204)
