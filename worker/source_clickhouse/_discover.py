"""What the source knows about one ClickHouse table: columns, keys, cursors."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from clickhouse_connect.driver.client import Client
from clickhouse_connect.driver.exceptions import ClickHouseError

from worker import types
from worker.errors import SourceError, UnknownStreamError

logger = logging.getLogger(__name__)

_CURSOR_TYPES = ("Date", "Date32", "DateTime", "DateTime64")
_STRING = re.compile(r"\bString\b")


@dataclass
class Table:
    """One ClickHouse table as a stream: its typed columns and its keys."""

    database: str
    name: str
    columns: dict[str, types.ColumnType]
    primary_key: list[str]
    cursor_candidates: list[str]
    engine: str

    def json_schema(self) -> dict:
        """The stream's JSON schema, every column carrying its exact types."""
        return {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": False,
            "properties": {n: c.json_schema() for n, c in self.columns.items()},
        }


def list_tables(client: Client, database: str) -> list[str]:
    """Names of the tables (not views of other engines) of ``database``."""
    rows = _query(
        client,
        "SELECT name FROM system.tables WHERE database = {db:String} "
        "AND NOT is_temporary AND engine NOT IN ('View', 'MaterializedView') "
        "ORDER BY name",
        {"db": database},
    )
    return [row[0] for row in rows]


def describe(client: Client, database: str, table: str) -> Table:
    """Describe ``database.table``; raise :class:`UnknownStreamError` if absent."""
    tables = _query(
        client,
        "SELECT engine, sorting_key FROM system.tables "
        "WHERE database = {db:String} AND name = {t:String}",
        {"db": database, "t": table},
    )
    if not tables:
        known = ", ".join(list_tables(client, database)) or "none"
        raise UnknownStreamError(
            f"The table {database}.{table} does not exist in ClickHouse (tables "
            f"in {database}: {known}); fix the stream name or the database."
        )
    engine, sorting_key = tables[0]

    rows = _query(
        client,
        "SELECT name, type FROM system.columns WHERE database = {db:String} "
        "AND table = {t:String} ORDER BY position",
        {"db": database, "t": table},
    )
    binary = _binary_string_columns(client, database, table, rows)
    columns = {
        name: types.parse(type_name, utf8=name not in binary)
        for name, type_name in rows
    }

    key = [part.strip().strip("`") for part in sorting_key.split(",") if part.strip()]
    primary_key = key if key and all(k in columns for k in key) else []
    cursors = [
        name
        for name, type_name in rows
        if types.unwrap(type_name).split("(")[0] in _CURSOR_TYPES
    ]
    return Table(database, table, columns, primary_key, cursors, engine)


def _binary_string_columns(client, database, table, rows) -> set[str]:
    """The columns with a String (nested too) holding bytes that are not UTF-8."""
    strings = [name for name, type_name in rows if _STRING.search(type_name)]
    if not strings:
        return set()

    probes = ", ".join(
        f"countIf(NOT isValidUTF8(toString({_ident(n)})))" for n in strings
    )
    counts = _query(client, f"SELECT {probes} FROM {_ident(database)}.{_ident(table)}")
    binary = {name for name, count in zip(strings, counts[0]) if count}
    if binary:
        logger.info("columns holding non-UTF-8 bytes land as BLOB: %s", sorted(binary))
    return binary


def _ident(name: str) -> str:
    return "`" + name.replace("`", "\\`") + "`"


def _query(client: Client, sql: str, parameters: dict | None = None) -> list[tuple]:
    try:
        return client.query(sql, parameters=parameters).result_rows
    except ClickHouseError as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        raise SourceError(
            f"ClickHouse refused a catalog query: {first} Check the database name "
            "and the user's grants on system.tables and system.columns."
        ) from error
