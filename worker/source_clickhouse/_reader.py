"""Reading one stream from ClickHouse in pages by key range, never by OFFSET.

A read orders the table by its paging key (the primary key, or the cursor
followed by the primary key for incremental reads) and asks for one page of
rows at a time, each page starting strictly after the last key of the one
before. Every page ends with a :class:`Checkpoint` naming that key, so a read
stopped anywhere resumes from the last checkpoint with nothing lost or
repeated. Pages keep memory bounded whatever the table size.

Two shapes of the same rows come out: Arrow record batches (the fast
transport) and complete JSONEachRow lines (the protocol transport). Both
select the same columns through :mod:`worker.types`' wire expressions.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import orjson
import pyarrow as pa
from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from worker import protocol, types
from worker.errors import ConfigError, SourceError
from worker.source_clickhouse._discover import Table, _ident

logger = logging.getLogger(__name__)

DEFAULT_PAGE_ROWS = 500_000
JSON_SETTINGS = {
    "output_format_json_quote_denormals": 1,
    "output_format_json_quote_64bit_integers": 0,
    "output_format_json_quote_decimals": 0,
    "output_format_json_named_tuples_as_objects": 1,
    "output_format_json_escape_forward_slashes": 0,
    "date_time_output_format": "iso",
}
ARROW_SETTINGS = {
    "output_format_arrow_low_cardinality_as_dictionary": 0,
    "output_format_arrow_string_as_string": 1,
}
_CHUNK_BYTES = 4 << 20
SOURCE_ALIAS = "_source"


@dataclass
class Checkpoint:
    """The end of a page: every row up to ``after`` on ``key`` has been read."""

    key: list[str]
    after: list
    rows: int

    def state(self) -> dict:
        """The stream state a later read resumes from."""
        return {"key": self.key, "after": self.after}


class StreamReader:
    """Pages through one table; see the module docstring."""

    def __init__(
        self,
        client: Client,
        table: Table,
        key: list[str],
        page_rows: int = DEFAULT_PAGE_ROWS,
        after: list | None = None,
    ) -> None:
        missing = [k for k in key if k not in table.columns]
        if missing:
            raise ConfigError(
                f"The key column(s) {missing} are not columns of "
                f"{table.database}.{table.name}; pick from {list(table.columns)}."
            )
        if after is not None and len(after) != len(key):
            raise ConfigError(
                f"The state for {table.name} holds {len(after)} key value(s) but the "
                f"key {key} has {len(key)}; delete the state file to read afresh."
            )
        self.client = client
        self.table = table
        self.key = key
        self.page_rows = page_rows if key else 0
        self.after = after

    def arrow_batches(self) -> Iterator[pa.RecordBatch | Checkpoint]:
        """Yield Arrow batches, then a checkpoint at the end of each page."""
        while True:
            sql = self._page_sql(types.FAST)
            rows, last = 0, None
            for batch in self._arrow_stream(sql):
                if batch.num_rows:
                    rows += batch.num_rows
                    last = batch.slice(batch.num_rows - 1)
                    yield batch
            if not self._end_page(rows, last and self._arrow_key(last)):
                return
            yield Checkpoint(self.key, self.after, rows)
            if rows < self.page_rows:
                return

    def json_lines(self) -> Iterator[bytes | Checkpoint]:
        """Yield chunks of whole JSONEachRow lines, then a checkpoint per page."""
        while True:
            sql = self._page_sql(types.PROTOCOL)
            rows, last_line = 0, None
            for chunk in self._json_stream(sql):
                rows += chunk.count(b"\n")
                last_line = chunk[chunk.rfind(b"\n", 0, len(chunk) - 1) + 1 :]
                yield chunk
            key = last_line and self._json_key(last_line)
            if not self._end_page(rows, key):
                return
            yield Checkpoint(self.key, self.after, rows)
            if rows < self.page_rows:
                return

    def _end_page(self, rows: int, last_key: list | None) -> bool:
        """Advance past the page; False when there is nothing to checkpoint."""
        if not self.key or not rows:
            return False
        self.after = last_key
        return True

    def _page_sql(self, transport: str) -> str:
        """One page's query. Columns are named through the table's alias, so a
        wire expression's output name never shadows the column in WHERE or
        ORDER BY (``toUnixTimestamp64Micro(t) AS t`` must not be compared as t)."""
        columns = ", ".join(
            f"{column.wire(_column(name), transport)} AS {_ident(name)}"
            for name, column in self.table.columns.items()
        )
        table = f"{_ident(self.table.database)}.{_ident(self.table.name)}"
        sql = f"SELECT {columns} FROM {table} AS {SOURCE_ALIAS}"
        if self.key and self.after is not None:
            sql += f" WHERE {self._after_condition()}"
        if self.key:
            order = ", ".join(_column(k) for k in self.key)
            sql += f" ORDER BY {order} LIMIT {int(self.page_rows)}"
        return sql

    def _after_condition(self) -> str:
        """``key > after``, with a leading bound the primary index can use."""
        literals = [
            self.table.columns[k].literal(v) for k, v in zip(self.key, self.after)
        ]
        names = [_column(k) for k in self.key]
        if len(names) == 1:
            return f"{names[0]} > {literals[0]}"
        return (
            f"{names[0]} >= {literals[0]} AND "
            f"({', '.join(names)}) > ({', '.join(literals)})"
        )

    def _arrow_key(self, last_row: pa.RecordBatch) -> list:
        return [_plain(last_row.column(k)[0].as_py()) for k in self.key]

    def _json_key(self, line: bytes) -> list:
        row = orjson.loads(line)
        return [row[k] for k in self.key]

    def _arrow_stream(self, sql: str) -> Iterator[pa.RecordBatch]:
        try:
            with self.client.query_arrow_stream(
                sql, settings=ARROW_SETTINGS, use_strings=True
            ) as stream:
                yield from stream
        except ClickHouseError as error:
            raise self._read_error(error) from error

    def _json_stream(self, sql: str) -> Iterator[bytes]:
        """The page as JSONEachRow bytes, streamed as the engine produces them.

        The JSON settings ride in the statement's own SETTINGS clause: handed
        to the client separately, they make the embedded engine materialise
        the whole page before its first byte.
        """
        try:
            body = self.client.raw_stream(
                f"{sql} SETTINGS {_settings_clause(JSON_SETTINGS)}", fmt="JSONEachRow"
            )
        except ClickHouseError as error:
            raise self._read_error(error) from error
        read = body.read if hasattr(body, "read") else io.BytesIO(b"".join(body)).read
        yield from protocol.line_chunks(read, _CHUNK_BYTES)

    def _read_error(self, error: ClickHouseError) -> SourceError:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return SourceError(
            f"Reading {self.table.database}.{self.table.name} failed in ClickHouse: "
            f"{first} The read stopped at the last checkpoint; rerun to resume."
        )


def _column(name: str) -> str:
    """A column of the table being read, named through its alias."""
    return f"{SOURCE_ALIAS}.{_ident(name)}"


def _settings_clause(settings: dict) -> str:
    """``name=value, ...`` for a SETTINGS clause; strings become SQL literals."""
    return ", ".join(
        f"{name}='{value}'" if isinstance(value, str) else f"{name}={value}"
        for name, value in settings.items()
    )


def _plain(value):
    """A wire value as JSON can hold it in a state message."""
    if isinstance(value, (int, str, float, bool)) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
