"""The query API (`/api/v1`): what the dashboard and alerting read. JSON only; every bad parameter
is a 4xx `{"error": ..., "detail": ...}`."""
