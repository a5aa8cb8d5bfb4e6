"""Alert rules created through the API, kept in ClickHouse so they survive restarts."""

from __future__ import annotations

import json
import time

from clickhouse_connect.driver.client import Client

_CURRENT = """
SELECT Name, argMax(Body, Version) AS body, argMax(Deleted, Version) AS deleted
FROM hopscope_alert_rules
GROUP BY Name
HAVING deleted = 0
ORDER BY Name
"""

_WRITE = """
INSERT INTO hopscope_alert_rules (Name, Version, Deleted, Body)
VALUES ({name:String}, {version:UInt64}, {deleted:UInt8}, {body:String})
"""


class AlertRuleStore:
    """Rule bodies by name, as JSON-ready dicts. Writes are single rows: rules change rarely."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def all(self) -> dict[str, dict]:
        return {name: json.loads(body) for name, body, _ in self._client.query(_CURRENT).result_rows}

    def put(self, name: str, body: dict) -> None:
        self._write(name, json.dumps(body, sort_keys=True), deleted=False)

    def delete(self, name: str) -> None:
        self._write(name, "", deleted=True)

    def _write(self, name: str, body: str, deleted: bool) -> None:
        # Versions are nanosecond timestamps: the latest write wins, also across collectors.
        self._client.command(
            _WRITE, parameters={"name": name, "version": time.time_ns(), "deleted": int(deleted), "body": body}
        )
