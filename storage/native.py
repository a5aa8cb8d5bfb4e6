"""Columnar batches to ClickHouse Native-format blocks.

Encoding needs no connection, only the tables' column types, so it runs wherever the CPU is
free: in the collector's worker processes, next to decoding and conversion. The inserter then only
concatenates the blocks of one table (a Native stream may hold any number of blocks) and sends
them as one INSERT, which keeps the per-row Python work out of the process that owns ClickHouse.
"""

from __future__ import annotations

from clickhouse_connect.datatypes.registry import get_from_name
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.insert import InsertContext
from clickhouse_connect.driver.transform import NativeTransform

from storage.batch import Block, ColumnBatch

_COLUMNS_OF = "SELECT table, name, type FROM system.columns WHERE database = currentDatabase() AND table IN {tables:Array(String)}"

TableSchema = dict[str, dict[str, str]]  # table -> column -> ClickHouse type name


def read_schema(client: Client, tables: list[str]) -> TableSchema:
    """Column types of `tables` as the server reports them (after migrations)."""
    schema: TableSchema = {table: {} for table in tables}
    result = client.query(_COLUMNS_OF, parameters={"tables": tables})
    for table, name, type_name in result.result_rows:
        schema[table][name] = type_name
    return schema


class NativeEncoder:
    """Encodes ColumnBatches for the tables in `schema`. Stateless after construction; thread-safe."""

    def __init__(self, schema: TableSchema) -> None:
        self._types = {
            table: {name: get_from_name(type_name) for name, type_name in columns.items()}
            for table, columns in schema.items()
        }

    def encode(self, batch: ColumnBatch) -> Block:
        names = tuple(batch.columns)
        try:
            table_types = self._types[batch.table]
            types = [table_types[name] for name in names]
        except KeyError as exc:
            raise ValueError(f"no column {exc} in the schema of {batch.table}") from exc
        rows = batch.rows
        context = InsertContext(batch.table, names, types, list(batch.columns.values()), column_oriented=True,
                                block_size=max(rows, 1))  # fmt: skip
        data = b"".join(NativeTransform.build_insert(context))
        if context.insert_exception is not None:
            raise ValueError(f"cannot encode rows for {batch.table}: {context.insert_exception}")
        # The first chunk starts with the "INSERT INTO ... FORMAT Native\n" statement; keep the data.
        return Block(batch.table, names, rows, data[data.index(b"\n") + 1 :])
