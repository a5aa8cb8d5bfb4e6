"""Columnar row batches (what the Python converters produce) and blocks (what the write-ahead log
holds and the inserter sends: rows of one table in one ClickHouse input format)."""

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


@dataclass(frozen=True)
class Block:
    """`rows` records for `table`, as `data` in the ClickHouse input format `fmt`, for `columns` (all
    of the table's when empty). Native blocks come from the Python conversion (storage.native);
    Protobuf blocks are OTLP request bodies, length-delimited, for a landing table that ClickHouse
    converts itself (storage.otlp_schema, migration 014)."""

    table: str
    columns: tuple[str, ...]
    rows: int
    data: bytes
    fmt: str = "Native"
