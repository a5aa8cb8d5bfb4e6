"""Alert rules, channels and silences created through the API, kept in ClickHouse so they survive
restarts. Each is a JSON body by name; every change writes a new version and the newest wins (also
across collectors). Writes are single rows: these change rarely."""

from __future__ import annotations

import json
import time

from clickhouse_connect.driver.client import Client

_CURRENT = """
SELECT Name, argMax(Body, Version) AS body, argMax(Deleted, Version) AS deleted
FROM {table:Identifier}
GROUP BY Name
HAVING deleted = 0
ORDER BY Name
"""

_WRITE = """
INSERT INTO {table:Identifier} (Name, Version, Deleted, Body)
VALUES ({name:String}, {version:UInt64}, {deleted:UInt8}, {body:String})
"""


class _VersionedObjects:
    """JSON bodies by name in `TABLE` (a fixed name, never from a request)."""

    TABLE = ""

    def __init__(self, client: Client) -> None:
        self._client = client

    def all(self) -> dict[str, dict]:
        rows = self._client.query(_CURRENT, parameters={"table": self.TABLE}).result_rows
        return {name: json.loads(body) for name, body, _ in rows}

    def put(self, name: str, body: dict) -> None:
        self._write(name, json.dumps(body, sort_keys=True), deleted=False)

    def delete(self, name: str) -> None:
        self._write(name, "", deleted=True)

    def _write(self, name: str, body: str, deleted: bool) -> None:
        # Versions are nanosecond timestamps: the latest write wins, also across collectors.
        params = {"table": self.TABLE, "name": name, "version": time.time_ns(), "deleted": int(deleted), "body": body}
        self._client.command(_WRITE, parameters=params)


class AlertRuleStore(_VersionedObjects):
    """Alert rules by name."""

    TABLE = "hopscope_alert_rules"


class ChannelStore(_VersionedObjects):
    """Notification channels by name (the body keeps the signing secret; the API never returns it)."""

    TABLE = "hopscope_alert_channels"


class SilenceStore(_VersionedObjects):
    """Silences by id."""

    TABLE = "hopscope_alert_silences"


class ApiKeyStore(_VersionedObjects):
    """API keys by id: the body keeps the key's hash, never the key."""

    TABLE = "hopscope_api_keys"
