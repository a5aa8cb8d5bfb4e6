"""/api/v1/alerts: the alerts pending or firing now."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from collector.dependencies import RunningAlertingDep

router = APIRouter(prefix="/api/v1/alerts", tags=["alerting"])


@router.get("", summary="Alerts pending or firing now")
def current_alerts(alerting: RunningAlertingDep) -> list[dict]:
    return [asdict(a) for a in alerting.evaluator.tracker.active()]
