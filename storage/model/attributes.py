"""AnyValue and attribute lists to strings and string maps, as the ClickHouse exporter stores them."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timezone


def format_double(value: float) -> str:
    """Shortest round-trip text of a double, without a trailing `.0` (Go's 'f', -1 style)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


def _raw(value):
    """An AnyValue as a JSON-ready Python value (for arrays and key-value lists)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_raw(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _raw(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    if kind == "double_value":
        return value.double_value if math.isfinite(value.double_value) else format_double(value.double_value)
    return getattr(value, kind)


def any_value_to_str(value) -> str:
    """Scalars as text (`true`, `42`, `1.5`), bytes as base64, arrays and maps as compact JSON."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return value.string_value
    if kind == "int_value":
        return str(value.int_value)
    if kind == "bool_value":
        return "true" if value.bool_value else "false"
    if kind == "double_value":
        return format_double(value.double_value)
    if kind is None:
        return ""
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return json.dumps(_raw(value), separators=(",", ":"), ensure_ascii=False)


def attributes_to_map(attributes) -> dict[str, str]:
    """A repeated KeyValue as {key: value-as-string}; a repeated key keeps its last value."""
    out = {}
    for kv in attributes:
        value = kv.value
        kind = value.WhichOneof("value")
        if kind == "string_value":
            out[kv.key] = value.string_value
        else:
            out[kv.key] = any_value_to_str(value)
    return out


@dataclass
class Rejections:
    """Records rejected one by one during conversion, for OTLP's partial_success."""

    count: int = 0
    reasons: list[str] = field(default_factory=list)

    def add(self, reason: str) -> None:
        self.count += 1
        if reason not in self.reasons and len(self.reasons) < 5:
            self.reasons.append(reason)

    @property
    def message(self) -> str:
        return "; ".join(self.reasons)


# DateTime64(9) holds signed 64-bit nanoseconds (until 2262); OTLP's fixed64 can carry more.
MAX_NANOS = 2**63 - 1


def time_error(*nanos: int) -> str | None:
    """Why one of these Unix-nanosecond timestamps cannot be stored, or None."""
    for value in nanos:
        if value > MAX_NANOS:
            return f"timestamp {value} is out of range (after year 2262)"
    return None


@dataclass(frozen=True)
class TimeWindow:
    """The times a record may carry in the column the tables are partitioned by (one partition a
    day): not older than the retention (the TTL would drop it at once) and not more than a day
    ahead. Bounding it bounds the partitions any insert touches, so one client's far-off
    timestamps cannot make an insert that carries everyone's rows fail."""

    earliest_ns: int
    latest_ns: int

    @classmethod
    def around(cls, now_ns: int, retention_days: int) -> TimeWindow:
        day = 86_400 * 10**9
        return cls(now_ns - retention_days * day, now_ns + day)

    def error(self, nanos: int) -> str | None:
        if nanos < self.earliest_ns:
            return f"timestamp {_iso(nanos)} is older than the retention window (from {_iso(self.earliest_ns)})"
        if nanos > self.latest_ns:
            return f"timestamp {_iso(nanos)} is more than a day in the future (after {_iso(self.latest_ns)})"
        return None


def _iso(nanos: int) -> str:
    seconds = min(max(nanos // 10**9, 0), 253_402_300_799)  # datetime's range: year 1 to 9999
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def window_error(window: TimeWindow | None, nanos: int) -> str | None:
    return window.error(nanos) if window is not None else None


_ZERO_TRACE = bytes(16)
_ZERO_SPAN = bytes(8)


def trace_id_error(trace_id: bytes, required: bool) -> str | None:
    """Why `trace_id` is invalid, or None. Optional ids may be empty."""
    if not trace_id and not required:
        return None
    if len(trace_id) != 16 or trace_id == _ZERO_TRACE:
        return f"invalid trace id {trace_id.hex()!r}: must be 16 bytes, not all zero"
    return None


def span_id_error(span_id: bytes, required: bool) -> str | None:
    if not span_id and not required:
        return None
    if len(span_id) != 8 or span_id == _ZERO_SPAN:
        return f"invalid span id {span_id.hex()!r}: must be 8 bytes, not all zero"
    return None
