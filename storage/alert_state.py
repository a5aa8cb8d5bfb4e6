"""The alert evaluator's state (pending and firing alerts), saved after every pass so a restarted
collector neither re-sends nor forgets."""

from __future__ import annotations

import json
import time

from clickhouse_connect.driver.client import Client

_STATE_READ = "SELECT argMax(Body, Version) FROM hopscope_alert_state WHERE Id = 0"
_STATE_WRITE = "INSERT INTO hopscope_alert_state (Id, Version, Body) VALUES (0, {version:UInt64}, {body:String})"


class AlertStateStore:
    """One JSON document, the newest version winning."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def load(self) -> list[dict]:
        body = self._client.query(_STATE_READ).result_rows[0][0]
        return json.loads(body) if body else []

    def save(self, alerts: list[dict]) -> None:
        self._client.command(_STATE_WRITE, parameters={"version": time.time_ns(), "body": json.dumps(alerts)})
