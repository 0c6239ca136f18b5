"""Every mapped ClickHouse type crosses to DuckDB without loss, by both transports.

A ClickHouse table holds the extremes of each type. It moves to DuckDB once
by Arrow batches (``StreamReader.arrow_batches`` into ``TableWriter``) and once
by Airbyte JSON records (``SourceClickHouse.read_lines`` into
``WriteSession``). Then each column is read back on both sides.

How values are compared: each column names one expression per engine, written
here independently of :mod:`worker.types`, that turns the stored value into
plain Python values both clients return exactly (integers, exact decimal or
hex text, epoch counts in the column's unit, lists and dicts of those). The
two results must be equal, except floats, which must be the same IEEE value:
equal, with the same sign (so -0.0 differs from 0.0), and NaN equal to NaN.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field

import duckdb
import pytest

from worker.catalog import configure
from worker.errors import WorkerError
from worker.destination_duckdb import TableWriter, WriteSession, columns_from_schema
from worker.destination_duckdb import open_database
from worker.source_clickhouse import (
    Checkpoint,
    SourceClickHouse,
    StreamReader,
    describe,
)

U256_MAX = (
    "115792089237316195423570985008687907853269984665640564039457584007913129639935"
)
I256_MIN = (
    "-57896044618658097711785492504343953926634992332820282019728792003956564819968"
)
I256_MAX = (
    "57896044618658097711785492504343953926634992332820282019728792003956564819967"
)
D38_MAX = "9999999999999999999999999999.9999999999"
D76_MAX = "9" * 56 + "." + "9" * 20


@dataclass
class Column:
    """One column of the extremes table and how to read it back on each side.

    ``values`` are ClickHouse literals for rows 1, 2, ...; later rows take the
    type's default. ``source`` and ``target`` read one value back in
    ClickHouse and in DuckDB (``{c}`` is the column). ``represented`` says the
    catalog must state a change of representation for the column, ``nested``
    lists the paths inside its schema that must state one too.
    """

    name: str
    clickhouse: str
    duckdb: str
    values: list[str]
    source: str = "{c}"
    target: str = "{c}"
    represented: bool = False
    compare: str = "equal"
    nested: list[tuple[str, ...]] = field(default_factory=list)


def text(name, clickhouse, duckdb, values, represented=False):
    """A column compared as ClickHouse ``toString`` against DuckDB VARCHAR."""
    return Column(
        name,
        clickhouse,
        duckdb,
        values,
        "toString({c})",
        "CAST({c} AS VARCHAR)",
        represented,
    )


def instant(name, clickhouse, duckdb, values, unit, represented=False):
    """A date-time column compared as an epoch count in ``unit``."""
    source = {
        "s": "toInt64(toUnixTimestamp({c}))",
        "ms": "toUnixTimestamp64Milli({c})",
        "us": "toUnixTimestamp64Micro({c})",
        "ns": "toUnixTimestamp64Nano({c})",
    }[unit]
    target = {
        "s": "epoch({c})",
        "ms": "epoch_ms({c})",
        "us": "epoch_us({c})",
        "ns": "epoch_ns({c})",
    }[unit]
    return Column(name, clickhouse, duckdb, values, source, target, represented)


COLUMNS = [
    Column("id", "UInt32", "UINTEGER", ["1", "2", "3", "4"]),
    Column("u8", "UInt8", "UTINYINT", ["255", "0"]),
    Column("u16", "UInt16", "USMALLINT", ["65535", "0"]),
    Column("u32", "UInt32", "UINTEGER", ["4294967295", "0"]),
    Column("u64", "UInt64", "UBIGINT", ["18446744073709551615", "0"]),
    text(
        "u128",
        "UInt128",
        "UHUGEINT",
        ["340282366920938463463374607431768211455", "0"],
        represented=True,
    ),
    Column(
        "u256", "UInt256", "VARCHAR", [U256_MAX, "0"], "toString({c})", represented=True
    ),
    Column("i8", "Int8", "TINYINT", ["-128", "127"]),
    Column("i16", "Int16", "SMALLINT", ["-32768", "32767"]),
    Column("i32", "Int32", "INTEGER", ["-2147483648", "2147483647"]),
    Column("i64", "Int64", "BIGINT", ["-9223372036854775808", "9223372036854775807"]),
    text(
        "i128",
        "Int128",
        "HUGEINT",
        [
            "-170141183460469231731687303715884105728",
            "170141183460469231731687303715884105727",
        ],
        represented=True,
    ),
    Column(
        "i256",
        "Int256",
        "VARCHAR",
        [I256_MIN, I256_MAX],
        "toString({c})",
        represented=True,
    ),
    Column(
        "f32",
        "Float32",
        "FLOAT",
        ["nan", "-inf", "1.4e-45", "-1.1754942e-38"],
        represented=True,
        compare="float32",
    ),
    Column(
        "f64",
        "Float64",
        "DOUBLE",
        ["inf", "-0.0", "5e-324", "2.2250738585072014e-308"],
        represented=True,
        compare="float64",
    ),
    Column(
        "d9",
        "Decimal(9, 4)",
        "DECIMAL(9,4)",
        ["99999.9999", "-99999.9999"],
        "toDecimalString({c}, 4)",
        "CAST({c} AS VARCHAR)",
        represented=True,
    ),
    Column(
        "d18",
        "Decimal(18, 0)",
        "DECIMAL(18,0)",
        ["-999999999999999999", "999999999999999999"],
        "toDecimalString({c}, 0)",
        "CAST({c} AS VARCHAR)",
        represented=True,
    ),
    Column(
        "d38",
        "Decimal(38, 10)",
        "DECIMAL(38,10)",
        [D38_MAX, "-" + D38_MAX, "0.0000000001"],
        "toDecimalString({c}, 10)",
        "CAST({c} AS VARCHAR)",
        represented=True,
    ),
    Column(
        "d76",
        "Decimal(76, 20)",
        "VARCHAR",
        ["-" + D76_MAX, D76_MAX],
        "toDecimalString({c}, 20)",
        represented=True,
    ),
    Column(
        "s",
        "String",
        "VARCHAR",
        ["''", "'héllo 世界 🎉'", "'tab\\there\\nnewline \"quoted\" \\\\'"],
    ),
    Column(
        "bin",
        "String",
        "BLOB",
        ["unhex('FF00FE80')", "unhex('C328')", "''"],
        "hex({c})",
        "hex({c})",
        represented=True,
    ),
    Column(
        "fs",
        "FixedString(4)",
        "BLOB",
        ["unhex('00FF0102')", "'abcd'"],
        "hex({c})",
        "hex({c})",
        represented=True,
    ),
    Column(
        "e8",
        "Enum8('a' = -128, 'b' = 127)",
        "VARCHAR",
        ["'a'", "'b'"],
        "toString({c})",
        represented=True,
    ),
    Column(
        "e16",
        "Enum16('x' = -32768, 'y' = 32767)",
        "VARCHAR",
        ["'x'", "'y'"],
        "toString({c})",
        represented=True,
    ),
    Column("lc", "LowCardinality(String)", "VARCHAR", ["'é'", "''"]),
    Column("lcn", "LowCardinality(Nullable(String))", "VARCHAR", ["NULL", "'some'"]),
    Column("ni", "Nullable(Int64)", "BIGINT", ["NULL", "42"]),
    Column(
        "nd",
        "Nullable(Decimal(38, 10))",
        "DECIMAL(38,10)",
        ["NULL", "-0.0000000001"],
        "toDecimalString({c}, 10)",
        "CAST({c} AS VARCHAR)",
        represented=True,
    ),
    instant(
        "ndt",
        "Nullable(DateTime64(9, 'Asia/Tokyo'))",
        "TIMESTAMP_NS",
        ["NULL", "'2262-04-12 08:47:16.854775806'"],
        "ns",
        represented=True,
    ),
    Column("b", "Bool", "BOOLEAN", ["true", "false"]),
    text(
        "uuid",
        "UUID",
        "UUID",
        [
            "'00000000-0000-0000-0000-000000000000'",
            "'ffffffff-ffff-ffff-ffff-ffffffffffff'",
        ],
    ),
    text(
        "ip4", "IPv4", "VARCHAR", ["'0.0.0.0'", "'255.255.255.255'"], represented=True
    ),
    text(
        "ip6",
        "IPv6",
        "VARCHAR",
        ["'::'", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", "'::ffff:1.2.3.4'"],
        represented=True,
    ),
    text("d", "Date", "DATE", ["'1970-01-01'", "'2149-06-06'"]),
    text("d32", "Date32", "DATE", ["'1900-01-01'", "'2299-12-31'", "'1969-12-31'"]),
    instant(
        "dt",
        "DateTime",
        "TIMESTAMP",
        ["'1970-01-01 00:00:00'", "'2106-02-07 06:28:15'"],
        "s",
    ),
    instant(
        "dtt",
        "DateTime('Asia/Tokyo')",
        "TIMESTAMP WITH TIME ZONE",
        ["'1970-01-01 09:00:00'", "'2106-02-07 15:28:15'"],
        "s",
        represented=True,
    ),
    instant(
        "dt3",
        "DateTime64(3)",
        "TIMESTAMP",
        ["'1900-01-01 00:00:00.001'", "'2299-12-31 23:59:59.999'"],
        "ms",
    ),
    instant(
        "dt6",
        "DateTime64(6, 'UTC')",
        "TIMESTAMP WITH TIME ZONE",
        [
            "'1900-01-01 00:00:00.000001'",
            "'2299-12-31 23:59:59.999999'",
            "'1969-12-31 23:59:59.999999'",
        ],
        "us",
        represented=True,
    ),
    instant(
        "dt9",
        "DateTime64(9, 'Asia/Tokyo')",
        "TIMESTAMP_NS",
        [
            "'1900-01-01 09:00:00.000000001'",
            "'2262-04-12 08:47:16.854775806'",
            "'1970-01-01 08:59:59.123456789'",
        ],
        "ns",
        represented=True,
    ),
    Column(
        "aa",
        "Array(Array(Nullable(Int32)))",
        "INTEGER[][]",
        ["[[1, NULL, -2147483648], [], [NULL]]", "[]"],
    ),
    Column("as_", "Array(String)", "VARCHAR[]", ["['', 'é', 'a\"b\\\\c\\n']", "[]"]),
    Column(
        "abin",
        "Array(Nullable(String))",
        "BLOB[]",
        ["[unhex('FF'), NULL, 'ok']", "[]"],
        "arrayMap(x -> hex(x), {c})",
        "list_transform({c}, lambda x: hex(x))",
        nested=[("items",)],
    ),
    Column(
        "nbin",
        "Nullable(String)",
        "BLOB",
        ["NULL", "unhex('FE')"],
        "hex({c})",
        "hex({c})",
        represented=True,
    ),
    Column(
        "au",
        "Array(UInt256)",
        "VARCHAR[]",
        [f"[{U256_MAX}, 0]", "[]"],
        "arrayMap(x -> toString(x), {c})",
        nested=[("items",)],
    ),
    Column(
        "adt",
        "Array(DateTime64(9))",
        "TIMESTAMP_NS[]",
        ["['2262-04-11 23:47:16.854775806', '1900-01-01 00:00:00.000000001']", "[]"],
        "arrayMap(x -> toUnixTimestamp64Nano(x), {c})",
        "list_transform({c}, lambda x: epoch_ns(x))",
    ),
    Column(
        "m",
        "Map(String, UInt64)",
        "MAP(VARCHAR, UBIGINT)",
        ["map('', 18446744073709551615, 'k', 0)", "map()"],
    ),
    Column(
        "md",
        "Map(UInt8, Decimal(20, 4))",
        "MAP(UTINYINT, DECIMAL(20,4))",
        ["map(0, toDecimal128('-9999999999999999.9999', 4), 255, 1.5)", "map()"],
        "mapApply((k, v) -> (k, toDecimalString(v, 4)), {c})",
        "map_from_entries(list_transform(map_entries({c}), "
        "lambda e: {{'key': e.key, 'value': CAST(e.value AS VARCHAR)}}))",
        represented=True,
        nested=[("additionalProperties",)],
    ),
    Column(
        "tn",
        "Tuple(a Int32, b String)",
        "STRUCT(a INTEGER, b VARCHAR)",
        ["(-2147483648, 'ünï')", "(2147483647, '')"],
    ),
    Column(
        "tu",
        "Tuple(Int8, String)",
        'STRUCT("1" TINYINT, "2" VARCHAR)',
        ["(-128, '')", "(127, 'x\\0y')"],
        "[toString(tupleElement({c}, 1)), tupleElement({c}, 2)]",
        '[CAST({c}."1" AS VARCHAR), {c}."2"]',
        represented=True,
    ),
    Column(
        "tm",
        "Tuple(amount Decimal(18, 4), at DateTime64(3, 'UTC'), "
        "ratio Nullable(Float64))",
        'STRUCT(amount DECIMAL(18,4), "at" TIMESTAMP WITH TIME ZONE, ratio DOUBLE)',
        [
            "(-0.0001, '1900-01-01 00:00:00.001', NULL)",
            "(99999999999999.9999, '2299-12-31 23:59:59.999', 0.5)",
        ],
        "[toDecimalString(tupleElement({c}, 1), 4), "
        "toString(toUnixTimestamp64Milli(tupleElement({c}, 2))), "
        "toString(tupleElement({c}, 3))]",
        "[CAST({c}.amount AS VARCHAR), CAST(epoch_ms({c}.at) AS VARCHAR), "
        "CAST({c}.ratio AS VARCHAR)]",
        nested=[("properties", "amount"), ("properties", "ratio")],
    ),
    Column(
        "j",
        "JSON",
        "JSON",
        ['\'{"a": {"b": [1, 2, 3]}, "c": "x"}\'', "'{}'"],
        "toString({c})",
        "CAST({c} AS VARCHAR)",
        represented=True,
        compare="json",
    ),
]
ROWS = 4


def same(kind: str, left, right) -> bool:
    """Equality under the comparison the module docstring states."""
    if kind == "equal":
        return left == right
    if kind == "json":
        return json.loads(left) == json.loads(right)
    if left is None or right is None:
        return left is right
    if math.isnan(left) or math.isnan(right):
        return math.isnan(left) and math.isnan(right)
    width = "f" if kind == "float32" else "d"
    return struct.pack(width, left) == struct.pack(width, right)


@pytest.fixture
def extremes(clickhouse, database) -> str:
    """``database.extremes`` holding the extremes of every column type."""
    definition = ", ".join(f"`{c.name}` {c.clickhouse}" for c in COLUMNS)
    clickhouse.command(
        f"CREATE TABLE {database}.extremes ({definition}) "
        "ENGINE = MergeTree ORDER BY id"
    )
    for row in range(ROWS):
        present = [c for c in COLUMNS if row < len(c.values)]
        names = ", ".join(f"`{c.name}`" for c in present)
        values = ", ".join(c.values[row] for c in present)
        clickhouse.command(
            f"INSERT INTO {database}.extremes ({names}) VALUES ({values})"
        )
    return database


def source_values(clickhouse, database) -> list[tuple]:
    expressions = ", ".join(c.source.format(c=f"`{c.name}`") for c in COLUMNS)
    return clickhouse.query(
        f"SELECT {expressions} FROM {database}.extremes ORDER BY id"
    ).result_rows


def target_values(path, database) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        expressions = ", ".join(c.target.format(c=f'"{c.name}"') for c in COLUMNS)
        return con.execute(
            f'SELECT {expressions} FROM "{database}".extremes ORDER BY id'
        ).fetchall()
    finally:
        con.close()


def target_types(path, database) -> dict[str, str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = 'extremes'",
                [database],
            ).fetchall()
        )
    finally:
        con.close()


def move_by_arrow(clickhouse, database, catalog, path) -> None:
    table = describe(clickhouse, database, "extremes")
    stream = catalog.streams[0].stream
    con = open_database(str(path))
    writer = TableWriter(
        con,
        database,
        "extremes",
        columns_from_schema(stream.json_schema),
        "overwrite",
        ["id"],
    )
    writer.begin()
    for item in StreamReader(clickhouse, table, ["id"], page_rows=3).arrow_batches():
        if isinstance(item, Checkpoint):
            writer.checkpoint()
        else:
            writer.add_arrow(item)
    writer.finish()
    con.close()


def move_by_records(config, catalog, path) -> None:
    lines = [
        line + b"\n"
        for block in SourceClickHouse().read_lines(config, catalog)
        for line in block.splitlines()
    ]
    list(WriteSession({"path": str(path)}, catalog).run(lines))


@pytest.fixture
def catalog(clickhouse_url, extremes):
    config = {"url": clickhouse_url, "database": extremes, "page_rows": 3}
    return config, configure(config, [{"name": "extremes"}])


@pytest.mark.parametrize("transport", ["arrow", "records"])
def test_every_value_reads_back_equal(
    clickhouse, extremes, catalog, transport, tmp_path
):
    config, configured = catalog
    path = tmp_path / "target.duckdb"

    if transport == "arrow":
        move_by_arrow(clickhouse, extremes, configured, path)
    else:
        move_by_records(config, configured, path)

    expected = source_values(clickhouse, extremes)
    found = target_values(path, extremes)
    assert len(found) == len(expected) == ROWS
    mismatches = [
        (row[0], column.name, want, got)
        for row, found_row in zip(expected, found)
        for column, want, got in zip(COLUMNS, row, found_row)
        if not same(column.compare, want, got)
    ]
    assert mismatches == []


def test_duckdb_columns_have_the_mapped_types(clickhouse, extremes, catalog, tmp_path):
    config, configured = catalog
    path = tmp_path / "target.duckdb"

    move_by_records(config, configured, path)

    found = target_types(path, extremes)
    found = {name: kind.replace(" ", "") for name, kind in found.items()}
    assert found == {c.name: c.duckdb.replace(" ", "") for c in COLUMNS}


def test_catalog_states_every_change_of_representation(catalog):
    _, configured = catalog
    properties = configured.streams[0].stream.json_schema["properties"]

    for column in COLUMNS:
        schema = properties[column.name]
        assert schema["x-clickhouse-type"] == column.clickhouse
        assert ("x-etlkit-representation" in schema) is column.represented, column.name
        for path in column.nested:
            member = schema
            for step in path:
                member = member[step]
            assert "x-etlkit-representation" in member, (column.name, path)


@pytest.mark.parametrize("transport", ["arrow", "records"])
def test_the_one_datetime64_duckdb_cannot_hold_is_refused_loudly(
    clickhouse, clickhouse_url, database, transport, tmp_path
):
    """DuckDB keeps the largest Int64 nanosecond count for infinity.

    So DateTime64(9) at 2262-04-11 23:47:16.854775807 UTC has no DuckDB value;
    the load must fail with an error, never store infinity or another instant.
    """
    clickhouse.command(
        f"CREATE TABLE {database}.extremes (id UInt32, at DateTime64(9, 'UTC')) "
        "ENGINE = MergeTree ORDER BY id"
    )
    clickhouse.command(
        f"INSERT INTO {database}.extremes VALUES (1, '2262-04-11 23:47:16.854775807')"
    )
    config = {"url": clickhouse_url, "database": database}
    configured = configure(config, [{"name": "extremes"}])

    with pytest.raises(WorkerError, match="9223372036854775807|2262-04-11"):
        if transport == "arrow":
            move_by_arrow(clickhouse, database, configured, tmp_path / "t.duckdb")
        else:
            move_by_records(config, configured, tmp_path / "t.duckdb")
