"""Columnar row batches: the unit the converters produce and the encoder turns into Native blocks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ColumnBatch:
    """Rows for one table, stored column by column (`columns[name][i]` is row i's value).

    Every column list has the same length. Column names are the table's column names; nested
    columns use ClickHouse's flattened names (`Events.Timestamp`).
    """

    table: str
    columns: dict[str, list] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        for values in self.columns.values():
            return len(values)
        return 0
