"""Parsing and validating query parameters: time ranges, trace ids, limits."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from collector.api.errors import ApiError
from core.durations import is_duration, parse_duration_ns
from core.types import TimeRange

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_RANGE_SECONDS = 31 * 86400


def parse_time(value: str, name: str, now_ns: int) -> int:
    """RFC 3339 (`2026-11-21T10:00:00Z`), Unix seconds, or relative to now (`15m`, `6h`, `2d`)."""
    text = value.strip()
    if is_duration(text):
        return now_ns - parse_duration_ns(text)
    if text == "now":
        return now_ns
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ApiError(
            400,
            "invalid time",
            f"{name}={value!r}: use RFC 3339 (2026-11-21T10:00:00Z) or a relative time such as 15m, 6h, 2d",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp() * 10**9)


def time_range(since: str | None, until: str | None, default: str = "1h") -> TimeRange:
    now_ns = time.time_ns()
    until_ns = parse_time(until, "until", now_ns) if until else now_ns
    since_ns = parse_time(since or default, "since", until_ns if not since else now_ns)
    if since_ns >= until_ns:
        raise ApiError(400, "invalid time range", f"since must be before until (since={since!r}, until={until!r})")
    if until_ns - since_ns > MAX_RANGE_SECONDS * 10**9:
        raise ApiError(400, "invalid time range", f"the range may cover at most {MAX_RANGE_SECONDS // 86400} days")
    return TimeRange(since_ns, until_ns)


def trace_id(value: str) -> str:
    text = value.strip().lower()
    if not _TRACE_ID.match(text) or text == "0" * 32:
        raise ApiError(400, "invalid trace id", f"{value!r}: a trace id is 32 hexadecimal digits, not all zero")
    return text


def limit(value: int, cap: int) -> int:
    if value < 1 or value > cap:
        raise ApiError(400, "invalid limit", f"limit must be between 1 and {cap}, got {value}")
    return value


def duration_ns(value: str | None, name: str) -> int | None:
    """`250ms`, `1.5s`, `2m`, `800us` -> nanoseconds."""
    if value is None:
        return None
    try:
        return parse_duration_ns(value)
    except ValueError as exc:
        raise ApiError(400, "invalid duration", f"{name}: {exc}") from None


def attributes(values: list[str] | None) -> tuple[tuple[str, str], ...]:
    """Repeated `key=value` filters."""
    pairs = []
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ApiError(400, "invalid attribute filter", f"{item!r}: use key=value, for example http.route=/cart")
        pairs.append((key.strip(), value))
    return tuple(pairs)
