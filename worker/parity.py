"""Parity checks: proof that the destination holds what the source holds.

Each check is computed independently on both engines, with the work pushed
into them (aggregates, formatting and sorting run in ClickHouse and in
DuckDB); Python only compares the results and feeds engine-made bytes to
SHA-256. Every comparison reports the source value, the destination value and
its verdict. Values are compared as exact strings, never as floats.

Checks:

* ``row_count``
* ``decimal_sums``: the exact sum of every decimal and integer column
* ``tallies``: group-by counts of every low-cardinality column
* ``content_sha256``: SHA-256 over ``a|b|c\\n`` lines of chosen columns,
  rows sorted by a key; its canonical text follows the published receipt
* ``full_row_sha256``: the same over every column that has a canonical text
* ``schema_drift``: every column landed with the type the catalog maps it to
* ``freshness``: the newest cursor value is the same on both sides
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field

import duckdb
import numpy as np
import pyarrow as pa
from clickhouse_connect.driver.client import Client

from worker import types
from worker.errors import ConfigError

logger = logging.getLogger(__name__)

CHECKS = (
    "row_count",
    "decimal_sums",
    "tallies",
    "content_sha256",
    "full_row_sha256",
    "schema_drift",
    "freshness",
)
NULL_TEXT = "\\N"
DIGEST_PAGE_ROWS = 250_000
NOTHING_TO_COMPARE = {
    "row_count": "nothing to compare",
    "decimal_sums": "the stream has no integer or decimal column to sum",
    "tallies": "the stream has no LowCardinality, Enum or Bool column to tally",
    "content_sha256": "nothing to compare",
    "full_row_sha256": "nothing to compare",
    "schema_drift": "the stream has no columns",
    "freshness": "the stream has no cursor with a canonical text",
}
_SMALL_INTEGERS = {
    "Int8",
    "Int16",
    "Int32",
    "Int64",
    "UInt8",
    "UInt16",
    "UInt32",
    "UInt64",
}
_WIDE_INTEGERS = {"Int128", "UInt128", "Int256", "UInt256"}
_PLAIN_TEXT = {
    "String",
    "UUID",
    "IPv4",
    "IPv6",
    "Bool",
    "Date",
    "Date32",
    "Enum8",
    "Enum16",
}


@dataclass
class Comparison:
    """One value computed on both sides and its verdict."""

    name: str
    source: object
    destination: object
    passed: bool
    detail: str | None = None


@dataclass
class CheckResult:
    """One requested check and its comparisons."""

    check: str
    passed: bool
    seconds: float
    comparisons: list[Comparison] = field(default_factory=list)
    detail: str | None = None
    skipped: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Sides:
    """Where one stream lives on both sides, with its typed columns."""

    source: Client
    source_table: str
    target: duckdb.DuckDBPyConnection
    target_table: str
    columns: dict[str, types.ColumnType]
    primary_key: list[str]
    cursor: str | None = None


def run_checks(
    sides: Sides,
    checks: Sequence[str],
    checksum_columns: Sequence[str] | None = None,
    checksum_order: Sequence[str] | None = None,
) -> list[CheckResult]:
    """Run each of ``checks`` on ``sides``; unknown names are config errors."""
    unknown = [c for c in checks if c not in CHECKS]
    if unknown:
        raise ConfigError(f"Unknown check(s) {unknown}; choose from {list(CHECKS)}.")

    runners: dict[str, Callable[[], list[Comparison] | tuple]] = {
        "row_count": lambda: [_compare("row_count", *_counts(sides))],
        "decimal_sums": lambda: _sums(sides),
        "tallies": lambda: _tallies(sides),
        "content_sha256": lambda: _content(sides, checksum_columns, checksum_order),
        "full_row_sha256": lambda: _content(sides, None, checksum_order, full=True),
        "schema_drift": lambda: _drift(sides),
        "freshness": lambda: _freshness(sides),
    }
    results = []
    for check in checks:
        started = time.perf_counter()
        outcome = runners[check]()
        comparisons, detail = outcome if isinstance(outcome, tuple) else (outcome, None)
        results.append(
            CheckResult(
                check=check,
                passed=all(c.passed for c in comparisons),
                seconds=round(time.perf_counter() - started, 6),
                comparisons=comparisons,
                detail=detail or (None if comparisons else NOTHING_TO_COMPARE[check]),
                skipped=not comparisons,
            )
        )
        logger.info("check %s: %s", check, "passed" if results[-1].passed else "FAILED")
    return results


def _compare(name: str, source, destination, detail: str | None = None) -> Comparison:
    return Comparison(name, source, destination, source == destination, detail)


def _both(sides: Sides, source_sql: str, target_sql: str) -> tuple[list, list]:
    """The rows of one query run on ClickHouse and its twin run on DuckDB."""
    source = sides.source.query(source_sql).result_rows
    target = [tuple(row) for row in sides.target.execute(target_sql).fetchall()]
    return source, target


def _counts(sides: Sides) -> tuple[str, str]:
    source, target = _both(
        sides,
        f"SELECT toString(count()) FROM {sides.source_table}",
        f"SELECT count(*)::VARCHAR FROM {sides.target_table}",
    )
    return source[0][0], target[0][0]


def _sums(sides: Sides) -> list[Comparison]:
    summed = [(n, c) for n, c in sides.columns.items() if _summable(c)]
    if not summed:
        return []
    source_exprs, target_exprs = [], []
    for name, column in summed:
        ch, dk = _ch(name), _dk(name)
        if _base(column) in _SMALL_INTEGERS:
            source_exprs.append(f"toString(sum(toInt128({ch})))")
            target_exprs.append(f"coalesce(sum({dk}), 0)::VARCHAR")
        else:
            scale = column.scale
            source_exprs.append(
                f"toDecimalString(sum(toDecimal256({ch}, {scale})), {scale})"
            )
            target_exprs.append(
                f"coalesce(sum({dk}), CAST(0 AS DECIMAL(38, {scale})))::VARCHAR"
            )

    source, target = _both(
        sides,
        f"SELECT {', '.join(source_exprs)} FROM {sides.source_table}",
        f"SELECT {', '.join(target_exprs)} FROM {sides.target_table}",
    )
    return [
        _compare(f"sum:{name}", s, t)
        for (name, _), s, t in zip(summed, source[0], target[0])
    ]


def _summable(column: types.ColumnType) -> bool:
    base = _base(column)
    if base in _SMALL_INTEGERS:
        return True
    return base.startswith("Decimal") and column.duckdb.startswith("DECIMAL")


def _tallies(sides: Sides) -> list[Comparison]:
    comparisons = []
    for name, column in sides.columns.items():
        if not _low_cardinality(column):
            continue
        ch, dk = _ch(name), _dk(name)
        source, target = _both(
            sides,
            f"SELECT ifNull(toString({ch}), '{NULL_TEXT}') AS v, toString(count()) "
            f"FROM {sides.source_table} GROUP BY v ORDER BY v",
            f"SELECT coalesce({dk}::VARCHAR, '{NULL_TEXT}') AS v, count(*)::VARCHAR "
            f"FROM {sides.target_table} GROUP BY v ORDER BY v",
        )
        comparisons.append(_compare(f"tally:{name}", dict(source), dict(target)))
    return comparisons


def _low_cardinality(column: types.ColumnType) -> bool:
    text = column.clickhouse
    return "LowCardinality(" in text or _base(column) in ("Enum8", "Enum16", "Bool")


def _content(sides, columns, order, full: bool = False):
    chosen = list(columns or sides.columns)
    missing = [c for c in chosen if c not in sides.columns]
    if missing:
        raise ConfigError(
            f"The checksum columns {missing} are not columns of the stream; choose "
            f"from {list(sides.columns)}."
        )
    order = list(order or sides.primary_key or chosen)

    texts = {n: canonical_text(n, sides.columns[n]) for n in chosen}
    uncovered = [n for n, t in texts.items() if t is None]
    if uncovered and columns and not full:
        raise ConfigError(
            f"The columns {uncovered} have no canonical text (floats, nested and JSON "
            "types); leave them out of checksum_columns."
        )
    covered = [n for n in chosen if texts[n] is not None]

    source_line = ", '|', ".join(texts[n][0] for n in covered)
    target_line = " || '|' || ".join(texts[n][1] for n in covered)
    source_digest = _source_digest(sides, f"concat({source_line}, '\\n')", order)
    target_sql = (
        f"SELECT {target_line} || chr(10) AS line FROM {sides.target_table} "
        f"ORDER BY {', '.join(_dk(k) for k in order)}, line"
    )
    relation = sides.target.sql(target_sql)
    batches = getattr(relation, "to_arrow_reader", None) or relation.fetch_record_batch
    target_digest = _digest(batch.column(0) for batch in batches(1 << 17))

    name = "full_row_sha256" if full else "content_sha256"
    detail = f"columns {covered} ordered by {order}"
    if uncovered:
        detail += f"; not covered (no canonical text): {uncovered}"
    return [_compare(name, source_digest, target_digest, detail)]


def canonical_text(name: str, column: types.ColumnType) -> tuple[str, str] | None:
    """The (ClickHouse, DuckDB) expressions of a column's canonical text.

    Integers and decimals are exact decimal text (decimals with every digit of
    their scale: ``0.00``), strings their bytes, dates ISO, instants their
    count since the epoch in the column's unit, bytes their hex, NULL ``\\N``.
    None for types without one (floats, nested types, JSON).
    """
    ch, dk = _ch(name), _dk(name)
    base = _base(column)
    kind = base.split("(")[0]

    if kind in _SMALL_INTEGERS or kind in _WIDE_INTEGERS or kind in _PLAIN_TEXT:
        pair = f"toString({ch})", f"{dk}::VARCHAR"
    elif kind.startswith("Decimal"):
        pair = f"toDecimalString({ch}, {column.scale})", f"{dk}::VARCHAR"
    elif kind == "DateTime":
        pair = (
            f"toString(toUnixTimestamp({ch}))",
            f"(epoch_us({dk}) // 1000000)::VARCHAR",
        )
    elif kind == "DateTime64":
        unit = "Nano" if column.precision > 6 else "Micro"
        duck = "epoch_ns" if column.precision > 6 else "epoch_us"
        pair = f"toString(toUnixTimestamp64{unit}({ch}))", f"{duck}({dk})::VARCHAR"
    elif kind == "FixedString" or column.duckdb == "BLOB":
        pair = f"hex({ch})", f"hex({dk})"
    else:
        return None

    if column.nullable:
        return (
            f"ifNull({pair[0]}, '{NULL_TEXT}')",
            f"coalesce({pair[1]}, '{NULL_TEXT}')",
        )
    return pair


def _source_digest(sides: Sides, line: str, order: list[str]) -> str:
    """SHA-256 of the canonical lines in ClickHouse, one key-range page at a time.

    The embedded engine holds a whole result before handing it over, so the
    lines come in pages of the ``order`` key: each page takes the next rows
    after the last key of the one before, ``WITH TIES`` so that rows sharing
    a key never straddle two pages, and sorts them by key and then line.
    """
    keys = {f"_key{i}": (name, sides.columns[name]) for i, name in enumerate(order)}
    selected = ", ".join(
        f"{column.wire(_ch(name), types.FAST)} AS {alias}"
        for alias, (name, column) in keys.items()
    )
    key_tuple = f"({', '.join(_ch(name) for name in order)})"
    digest, after = hashlib.sha256(), None
    while True:
        where = "" if after is None else f"WHERE {key_tuple} > ({', '.join(after)})"
        page = sides.source.query_arrow(
            f"SELECT line, {', '.join(keys)} FROM (SELECT {line} AS line, {selected} "
            f"FROM {sides.source_table} {where} ORDER BY {key_tuple} "
            f"LIMIT {DIGEST_PAGE_ROWS} WITH TIES) ORDER BY {', '.join(keys)}, line",
            use_strings=True,
        )
        for chunk in page.column("line").chunks:
            _feed(digest, chunk)
        if page.num_rows < DIGEST_PAGE_ROWS:
            return digest.hexdigest()
        last = page.slice(page.num_rows - 1)
        after = [
            column.literal(last.column(alias)[0].as_py())
            for alias, (_, column) in keys.items()
        ]


def _digest(columns: Iterable[pa.Array]) -> str:
    """SHA-256 of the concatenated values of string arrays, without copies."""
    digest = hashlib.sha256()
    for array in columns:
        if isinstance(array, pa.ChunkedArray):
            chunks = array.chunks
        else:
            chunks = [array]
        for chunk in chunks:
            _feed(digest, chunk)
    return digest.hexdigest()


def _feed(digest, array: pa.Array) -> None:
    if len(array) == 0:
        return
    if array.null_count:
        raise ConfigError(
            "A checksum line came out NULL; every column needs a NULL text."
        )
    if pa.types.is_string(array.type) or pa.types.is_binary(array.type):
        width = np.int32
    elif pa.types.is_large_string(array.type) or pa.types.is_large_binary(array.type):
        width = np.int64
    else:
        array = array.cast(pa.large_binary())
        width = np.int64
    _, offsets_buffer, data = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=width)
    start, end = offsets[array.offset], offsets[array.offset + len(array)]
    digest.update(memoryview(data)[start:end])


def _drift(sides: Sides) -> list[Comparison]:
    schema, table = _split_target(sides.target_table)
    found = dict(
        sides.target.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, table],
        ).fetchall()
    )
    return [
        _compare(
            f"type:{name}",
            column.duckdb.replace(" ", ""),
            (found.get(name) or "missing").replace(" ", ""),
        )
        for name, column in sides.columns.items()
    ]


def _freshness(sides: Sides) -> list[Comparison]:
    if not sides.cursor:
        return []
    column = sides.columns[sides.cursor]
    text = canonical_text(sides.cursor, column)
    if text is None:
        return []
    source, target = _both(
        sides,
        f"SELECT {text[0]} FROM {sides.source_table} "
        f"ORDER BY {_ch(sides.cursor)} DESC LIMIT 1",
        f"SELECT {text[1]} FROM {sides.target_table} "
        f"ORDER BY {_dk(sides.cursor)} DESC LIMIT 1",
    )
    return [
        _compare(
            f"max:{sides.cursor}",
            source[0][0] if source else None,
            target[0][0] if target else None,
        )
    ]


def _split_target(qualified: str) -> tuple[str, str]:
    schema, table = qualified.split('"."')
    return schema.strip('"'), table.strip('"')


def _base(column: types.ColumnType) -> str:
    """The unwrapped type: its name alone, or whole for Decimal and DateTime64."""
    text = types.unwrap(column.clickhouse)
    return text if text.startswith(("Decimal", "DateTime64")) else text.split("(")[0]


def _ch(name: str) -> str:
    return "`" + name.replace("`", "\\`") + "`"


def _dk(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
