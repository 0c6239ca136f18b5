"""Writing one stream into one DuckDB table under a sync mode.

* ``overwrite``: rows go to a stage table; only when the stream is complete
  does one transaction drop the old table and rename the stage into place,
  so a reader sees the old table or the new one, never half of either.
* ``append``: rows go straight to the table inside a transaction that
  commits only at a checkpoint, so what is committed matches the last state.
* ``append_dedup``: rows go to a stage table; at each checkpoint one
  transaction deletes the target rows whose primary key reappears and inserts
  the latest staged row of each key.

Rows arrive as Arrow batches (fast transport) or as files of RECORD lines that
DuckDB's JSON reader parses (protocol transport); both pass through the load
expressions of :mod:`worker.types`.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping

import duckdb
import pyarrow as pa

from worker import types
from worker.errors import ConfigError, DestinationError

logger = logging.getLogger(__name__)

MODES = ("overwrite", "append", "append_dedup")
STAGE_PREFIX = "_etlkit_stage_"
_BATCH = "_etlkit_batch"


def quote(name: str) -> str:
    """A DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def columns_from_schema(json_schema: Mapping) -> dict[str, types.ColumnType]:
    """The typed columns of a stream, from its catalog JSON schema."""
    columns = {}
    for name, prop in (json_schema.get("properties") or {}).items():
        clickhouse = prop.get("x-clickhouse-type")
        if clickhouse:
            columns[name] = _parse_declared(clickhouse, prop.get("x-duckdb-type"))
        else:
            columns[name] = types.from_json_schema(prop)
    if not columns:
        raise ConfigError(
            "The stream's json_schema has no properties; rediscover the catalog."
        )
    return columns


def _parse_declared(clickhouse: str, duckdb_type: str | None) -> types.ColumnType:
    """The column type the source declared; its Strings are bytes when it says so."""
    column = types.parse(clickhouse)
    if duckdb_type and _normal(column.duckdb) != _normal(duckdb_type):
        column = types.parse(clickhouse, utf8=False)
    return column


class TableWriter:
    """See the module docstring."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        schema: str,
        table: str,
        columns: dict[str, types.ColumnType],
        mode: str,
        primary_key: list[str] | None = None,
    ) -> None:
        if mode not in MODES:
            raise ConfigError(f"The sync mode {mode!r} is unknown; use one of {MODES}.")
        if mode == "append_dedup" and not primary_key:
            raise ConfigError(
                f"append_dedup into {table} needs a primary key; set primary_key "
                "in the catalog or choose append."
            )
        self.con = con
        self.schema = schema
        self.table = table
        self.columns = columns
        self.mode = mode
        self.primary_key = primary_key or []
        self.rows = 0
        self.target = f"{quote(schema)}.{quote(table)}"
        self.stage = f"{quote(schema)}.{quote(STAGE_PREFIX + table)}"
        self.work = self.target if mode == "append" else self.stage

    def begin(self) -> None:
        """Create the schema and tables this mode writes into; open a transaction."""
        definition = ", ".join(
            f"{quote(n)} {c.duckdb}" for n, c in self.columns.items()
        )
        self._sql(f"CREATE SCHEMA IF NOT EXISTS {quote(self.schema)}")
        if self.mode != "overwrite":
            self._sql(f"CREATE TABLE IF NOT EXISTS {self.target} ({definition})")
            self._check_drift()
        if self.mode != "append":
            self._sql(f"DROP TABLE IF EXISTS {self.stage}")
            self._sql(f"CREATE TABLE {self.stage} ({definition})")
        self._sql("BEGIN TRANSACTION")

    def add_arrow(self, batch: pa.RecordBatch | pa.Table) -> int:
        """Insert one Arrow batch of wire values; return the rows added."""
        self.con.register(_BATCH, batch)
        try:
            added = self._insert(_BATCH, types.FAST, quote)
        except DestinationError:
            with contextlib.suppress(duckdb.Error):
                self.con.unregister(_BATCH)
            raise
        self.con.unregister(_BATCH)
        return added

    def add_records_file(self, path: str) -> int:
        """Insert the RECORD lines of one NDJSON file; return the rows added."""
        data = ", ".join(
            f"{quote(n)} {c.reader_type()}" for n, c in self.columns.items()
        )
        reader = (
            f"read_json({_string(path)}, format='newline_delimited', "
            f"columns={{'record': 'STRUCT(data STRUCT({_escape(data)}))'}}, "
            "maximum_object_size=33554432)"
        )
        return self._insert(reader, types.PROTOCOL, lambda n: f"record.data.{quote(n)}")

    def checkpoint(self) -> None:
        """Make every row added so far durable (and visible, except overwrite)."""
        if self.mode == "append_dedup":
            self._merge_stage()
        self._sql("COMMIT")
        self._sql("BEGIN TRANSACTION")

    def finish(self) -> None:
        """Commit what is left and, for overwrite, swap the stage into place."""
        self.checkpoint()
        self._sql("COMMIT")
        if self.mode == "append":
            return
        self._sql("BEGIN TRANSACTION")
        if self.mode == "overwrite":
            self._sql(f"DROP TABLE IF EXISTS {self.target}")
            self._sql(f"ALTER TABLE {self.stage} RENAME TO {quote(self.table)}")
        else:
            self._sql(f"DROP TABLE IF EXISTS {self.stage}")
        self._sql("COMMIT")
        logger.info(
            "wrote %d rows to %s.%s (%s)", self.rows, self.schema, self.table, self.mode
        )

    def abort(self) -> None:
        """Roll back what was not committed and remove the stage table."""
        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            pass
        if self.mode != "append":
            self.con.execute(f"DROP TABLE IF EXISTS {self.stage}")

    def _insert(self, relation: str, transport: str, member) -> int:
        names = ", ".join(quote(n) for n in self.columns)
        values = ", ".join(
            c.load(member(n), transport) for n, c in self.columns.items()
        )
        sql = f"INSERT INTO {self.work} ({names}) SELECT {values} FROM {relation}"
        added = self._sql(sql).fetchall()[0][0]
        self.rows += added
        return added

    def _merge_stage(self) -> None:
        keys = [quote(k) for k in self.primary_key]
        match = " AND ".join(f"{self.target}.{k} = s.{k}" for k in keys)
        names = ", ".join(quote(n) for n in self.columns)
        self._sql(f"DELETE FROM {self.target} USING {self.stage} AS s WHERE {match}")
        self._sql(
            f"INSERT INTO {self.target} ({names}) SELECT {names} FROM ("
            f"SELECT *, row_number() OVER (PARTITION BY {', '.join(keys)} "
            f"ORDER BY rowid DESC) AS _etlkit_rank FROM {self.stage}) "
            "WHERE _etlkit_rank = 1"
        )
        self._sql(f"DELETE FROM {self.stage}")

    def _check_drift(self) -> None:
        found = dict(
            self._sql(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [self.schema, self.table],
            ).fetchall()
        )
        expected = {n: self._spelled(c.duckdb) for n, c in self.columns.items()}
        drift = {n: (found.get(n), t) for n, t in expected.items() if found.get(n) != t}
        if drift:
            detail = "; ".join(
                f"{n}: table has {a}, stream has {b}" for n, (a, b) in drift.items()
            )
            raise DestinationError(
                f"The table {self.schema}.{self.table} does not match the stream "
                f"({detail}); overwrite it or migrate the table first."
            )

    def _spelled(self, duckdb_type: str) -> str:
        """``duckdb_type`` as DuckDB spells it in information_schema."""
        return self._sql(f"SELECT typeof(CAST(NULL AS {duckdb_type}))").fetchall()[0][0]

    def _sql(self, sql: str, parameters=None):
        try:
            return self.con.execute(sql, parameters)
        except duckdb.Error as error:
            raise DestinationError(
                f"DuckDB refused a write to {self.schema}.{self.table}: "
                f"{str(error).splitlines()[0]}"
            ) from error


def _normal(type_name: str | None) -> str | None:
    return type_name and type_name.replace(" ", "").upper()


def _string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _escape(text: str) -> str:
    return text.replace("'", "''")
