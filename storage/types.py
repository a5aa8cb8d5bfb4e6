"""Query inputs shared by the readers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TimeRange:
    """[since_ns, until_ns) in Unix nanoseconds."""

    since_ns: int
    until_ns: int

    @property
    def seconds(self) -> float:
        return (self.until_ns - self.since_ns) / 1e9
