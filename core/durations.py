"""The one duration parser: `250ms`, `1.5s`, `15m`, `6h`, `2d`, `1w`, `800us`, `20ns`.

Used for the query API's relative times and duration filters and for alert rule windows, so a
duration means the same wherever a user writes one.
"""

from __future__ import annotations

import re

_DURATION = re.compile(r"^(\d{1,12}(?:\.\d{1,9})?)\s*(ns|us|µs|ms|s|m|h|d|w)$")
_UNIT_NS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
UNITS = "ns, us, ms, s, m, h, d, w"


def parse_duration_ns(text: str) -> int:
    """Nanoseconds in `text` (a number and a unit); ValueError saying what is expected otherwise."""
    match = _DURATION.match(str(text).strip())
    if not match:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 2h or 7d (units: {UNITS})")
    number, unit = match.groups()
    whole, _, fraction = number.partition(".")
    # Integer arithmetic: 1.1s is exactly 1,100,000,000 ns.
    scale = _UNIT_NS[unit]
    return int(whole) * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)


def is_duration(text: str) -> bool:
    return _DURATION.match(str(text).strip()) is not None
