"""The ClickHouse -> Airbyte schema -> DuckDB type mapping, without loss.

Every ClickHouse column type parses into a :class:`ColumnType` node that knows
four things:

* its Airbyte JSON schema (with the exact ClickHouse type kept in
  ``x-clickhouse-type`` and any change of representation stated in
  ``x-etlkit-representation``);
* its DuckDB type;
* the *wire* expression the source selects in ClickHouse, chosen so that the
  value crosses both transports exactly: Arrow batches (``fast``) and Airbyte
  JSON records (``protocol``);
* the *load* expression DuckDB applies to the wire value to get the target
  type back.

Where DuckDB has no exact type the representation is text that loses nothing
(256-bit integers, decimals wider than 38 digits, IP addresses) or bytes
(FixedString and non-UTF-8 String), and the catalog says so.

One value has no DuckDB equivalent: DateTime64 with 7 to 9 digits at
2262-04-11 23:47:16.854775807 UTC, the largest Int64 count of nanoseconds,
which DuckDB keeps for ``infinity``. Loading it fails with DuckDB's conversion
error naming the value; it is never stored as another instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from worker.errors import ConfigError

FAST = "fast"
PROTOCOL = "protocol"

_INTEGERS = {
    "Int8": "TINYINT",
    "Int16": "SMALLINT",
    "Int32": "INTEGER",
    "Int64": "BIGINT",
    "UInt8": "UTINYINT",
    "UInt16": "USMALLINT",
    "UInt32": "UINTEGER",
    "UInt64": "UBIGINT",
}
_WIDE_INTEGERS = {"Int128": "HUGEINT", "UInt128": "UHUGEINT"}
_HUGE_INTEGERS = ("Int256", "UInt256")
_FLOATS = {"Float32": "FLOAT", "Float64": "DOUBLE", "BFloat16": "FLOAT"}
_TEXT = {
    "IPv4": ("ipv4", "IPv4 travels and is stored as its dotted text."),
    "IPv6": ("ipv6", "IPv6 travels and is stored as its canonical text."),
}


@dataclass
class ColumnType:
    """One parsed ClickHouse type and how it crosses to DuckDB."""

    clickhouse: str
    duckdb: str
    schema: dict
    nullable: bool = False
    representation: str | None = None
    wire_type: str = ""
    children: list[tuple[str, "ColumnType"]] = field(default_factory=list)
    kind: str = "scalar"

    def json_schema(self) -> dict:
        """The Airbyte JSON schema of a column of this type."""
        schema = dict(self.schema)
        if self.nullable:
            types = (
                schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            )
            schema["type"] = [*types, "null"]
        schema["x-clickhouse-type"] = self.clickhouse
        schema["x-duckdb-type"] = self.duckdb
        if self.representation:
            schema["x-etlkit-representation"] = self.representation
        return schema

    def wire(self, expr: str, transport: str, depth: int = 0) -> str:
        """The ClickHouse expression whose value crosses ``transport`` exactly."""
        return expr

    def load(self, expr: str, transport: str, depth: int = 0) -> str:
        """The DuckDB expression turning the wire value back into the type."""
        return expr

    def reader_type(self) -> str:
        """The DuckDB type the JSON reader parses the wire value as."""
        return self.duckdb

    def literal(self, value) -> str:
        """A ClickHouse literal for a wire value of this type, for key paging."""
        raise ConfigError(
            f"Columns of type {self.clickhouse} cannot page a read; choose a "
            "primary key or cursor of integer, decimal, string, date or time type."
        )

    def wire_clickhouse_type(self, transport: str) -> str:
        """The ClickHouse type of the wire value on ``transport`` (for tuples)."""
        if self.wire("x", transport) == "x":
            return self.clickhouse
        if self.nullable:
            return f"Nullable({self.wire_type})"
        return self.wire_type


class _Integer(ColumnType):
    def literal(self, value) -> str:
        return str(int(value))


class _TextWire(ColumnType):
    """A value that travels as ClickHouse's ``toString`` text."""

    def wire(self, expr, transport, depth=0):
        return f"toString({expr})"

    def load(self, expr, transport, depth=0):
        if self.duckdb == "VARCHAR":
            return expr
        return f"CAST({expr} AS {self.duckdb})"

    def reader_type(self):
        return "VARCHAR"

    def literal(self, value) -> str:
        return f"CAST({_quote(str(value))}, {_quote(self.clickhouse)})"


class _Float(ColumnType):
    """A float; JSON records carry its shortest round-trip text.

    A JSON number cannot keep -0.0 through DuckDB's JSON reader (it reads
    ``-0`` as the integer zero), and JSON has no NaN or infinities, so
    records carry ``toString`` text, which round-trips every value exactly.
    """

    def wire(self, expr, transport, depth=0):
        if transport == PROTOCOL:
            return f"toString({expr})"
        return expr

    def load(self, expr, transport, depth=0):
        if transport == PROTOCOL:
            return f"CAST({expr} AS {self.duckdb})"
        return expr

    def reader_type(self):
        return "VARCHAR"


class _Decimal(ColumnType):
    scale: int = 0

    def wire(self, expr, transport, depth=0):
        if self.duckdb == "VARCHAR" or transport == PROTOCOL:
            return f"toDecimalString({expr}, {self.scale})"
        return expr

    def load(self, expr, transport, depth=0):
        if self.duckdb != "VARCHAR" and transport == PROTOCOL:
            return f"CAST({expr} AS {self.duckdb})"
        return expr

    def reader_type(self):
        return "VARCHAR"

    def literal(self, value) -> str:
        return f"toDecimal256({_quote(str(value))}, {self.scale})"


class _String(ColumnType):
    def literal(self, value) -> str:
        return _quote(value if isinstance(value, str) else value.decode())


class _Bytes(ColumnType):
    """Bytes that travel as base64 text and land as a DuckDB BLOB."""

    def wire(self, expr, transport, depth=0):
        return f"base64Encode({expr})"

    def load(self, expr, transport, depth=0):
        return f"from_base64({expr})"

    def reader_type(self):
        return "VARCHAR"


class _Date(ColumnType):
    def load(self, expr, transport, depth=0):
        if transport == PROTOCOL:
            return f"CAST({expr} AS DATE)"
        return expr

    def reader_type(self):
        return "VARCHAR"

    def literal(self, value) -> str:
        return f"toDate32({_quote(str(value))})"


class _DateTime(ColumnType):
    """DateTime and DateTime64: an instant, with or without a named zone."""

    precision: int = 0

    def _unit(self) -> tuple[str, int]:
        if self.precision == 0:
            return "", 1
        if self.precision <= 6:
            return "Micro", 1_000_000
        return "Nano", 1_000_000_000

    def wire(self, expr, transport, depth=0):
        if transport == PROTOCOL:
            return expr
        unit, _ = self._unit()
        if not unit:
            return f"toInt64(toUnixTimestamp({expr}))"
        return f"toUnixTimestamp64{unit}({expr})"

    def load(self, expr, transport, depth=0):
        if transport == PROTOCOL:
            return f"CAST({expr} AS {self.duckdb})"
        unit, per_second = self._unit()
        if unit == "Nano":
            return f"make_timestamp_ns({expr})"
        micros = expr if unit == "Micro" else f"({expr}) * 1000000"
        stamp = f"make_timestamp({micros})"
        if self.duckdb == "TIMESTAMPTZ":
            return f"CAST({stamp} AS TIMESTAMPTZ)"
        return stamp

    def reader_type(self):
        return "VARCHAR"

    def literal(self, value) -> str:
        if isinstance(value, str):
            return f"parseDateTime64BestEffort({_quote(value)}, 9, 'UTC')"
        unit, _ = self._unit()
        if not unit:
            return f"toDateTime({int(value)}, 'UTC')"
        return f"fromUnixTimestamp64{unit}({int(value)}, 'UTC')"


class _Array(ColumnType):
    def _element(self) -> ColumnType:
        return self.children[0][1]

    def wire(self, expr, transport, depth=0):
        var = f"x{depth}"
        inner = self._element().wire(var, transport, depth + 1)
        if inner == var:
            return expr
        return f"arrayMap({var} -> {inner}, {expr})"

    def load(self, expr, transport, depth=0):
        var = f"x{depth}"
        inner = self._element().load(var, transport, depth + 1)
        if inner == var:
            return expr
        return f"list_transform({expr}, lambda {var}: {inner})"

    def reader_type(self):
        return f"{self._element().reader_type()}[]"

    def wire_clickhouse_type(self, transport):
        return f"Array({self._element().wire_clickhouse_type(transport)})"


class _Map(ColumnType):
    def wire(self, expr, transport, depth=0):
        (_, key), (_, value) = self.children
        k, v = f"k{depth}", f"v{depth}"
        key_wire = key.wire(k, transport, depth + 1)
        value_wire = value.wire(v, transport, depth + 1)
        if key_wire == k and value_wire == v:
            return expr
        return f"mapApply(({k}, {v}) -> ({key_wire}, {value_wire}), {expr})"

    def load(self, expr, transport, depth=0):
        (_, key), (_, value) = self.children
        e = f"e{depth}"
        key_reader = "VARCHAR" if transport == PROTOCOL else None
        key_load = key.load(f"{e}.key", transport, depth + 1)
        if key_reader and key.duckdb != "VARCHAR" and key_load == f"{e}.key":
            key_load = f"CAST({e}.key AS {key.duckdb})"
        value_load = value.load(f"{e}.value", transport, depth + 1)
        if key_load == f"{e}.key" and value_load == f"{e}.value":
            return expr
        return (
            f"map_from_entries(list_transform(map_entries({expr}), lambda {e}: "
            f"{{'key': {key_load}, 'value': {value_load}}}))"
        )

    def reader_type(self):
        (_, value) = self.children[1]
        return f"MAP(VARCHAR, {value.reader_type()})"

    def wire_clickhouse_type(self, transport):
        (_, key), (_, value) = self.children
        key_type = key.wire_clickhouse_type(transport)
        return f"Map({key_type}, {value.wire_clickhouse_type(transport)})"


class _Tuple(ColumnType):
    """A tuple travels as a named tuple; unnamed elements are named 1, 2, ..."""

    def wire(self, expr, transport, depth=0):
        parts = [
            child.wire(f"tupleElement({expr}, {i})", transport, depth + 1)
            for i, (_, child) in enumerate(self.children, 1)
        ]
        wire_type = self.wire_clickhouse_type(transport)
        return f"CAST(tuple({', '.join(parts)}), {_quote(wire_type)})"

    def load(self, expr, transport, depth=0):
        fields = []
        for name, child in self.children:
            member = f"{expr}.{_duck_ident(name)}"
            fields.append(f"{_quote(name)}: {child.load(member, transport, depth + 1)}")
        return "{" + ", ".join(fields) + "}"

    def reader_type(self):
        members = ", ".join(
            f"{_duck_ident(name)} {child.reader_type()}"
            for name, child in self.children
        )
        return f"STRUCT({members})"

    def wire_clickhouse_type(self, transport):
        members = ", ".join(
            f"`{name}` {child.wire_clickhouse_type(transport)}"
            for name, child in self.children
        )
        return f"Tuple({members})"


def unwrap(clickhouse_type: str) -> str:
    """The type inside any ``Nullable`` and ``LowCardinality`` wrappers."""
    text = clickhouse_type.strip()
    for wrapper in ("LowCardinality(", "Nullable("):
        while text.startswith(wrapper):
            text = text[len(wrapper) : -1].strip()
    return text


def parse(clickhouse_type: str, utf8: bool = True) -> ColumnType:
    """Parse a ClickHouse type name into its :class:`ColumnType`.

    ``utf8`` says whether String values are known to be valid UTF-8; when they
    are not, String lands as a BLOB so that no byte is lost.
    """
    text = clickhouse_type.strip()
    name, args = _split(text)

    if name == "Nullable":
        inner = parse(args[0], utf8)
        inner.nullable = True
        inner.clickhouse = text
        return inner
    if name == "LowCardinality":
        inner = parse(args[0], utf8)
        inner.clickhouse = text
        return inner
    return _parse_plain(text, name, args, utf8)


def _parse_plain(text: str, name: str, args: list[str], utf8: bool) -> ColumnType:
    if name in _INTEGERS:
        return _Integer(text, _INTEGERS[name], {"type": "integer"})
    if name in _WIDE_INTEGERS:
        return _TextWire(
            text,
            _WIDE_INTEGERS[name],
            {"type": "string", "pattern": "^-?[0-9]+$"},
            representation="Travels as exact decimal text.",
            wire_type="String",
        )
    if name in _HUGE_INTEGERS:
        return _TextWire(
            text,
            "VARCHAR",
            {"type": "string", "pattern": "^-?[0-9]+$"},
            representation="DuckDB has no 256-bit integer; stored as exact decimal "
            "text.",
            wire_type="String",
        )
    if name in _FLOATS:
        return _Float(
            text,
            _FLOATS[name],
            {"type": ["number", "string"]},
            representation="Travels as shortest round-trip text in JSON records, "
            "so NaN, inf, -inf and -0 keep their value.",
            wire_type="String",
        )
    if name.startswith("Decimal"):
        return _decimal(text, name, args)
    if name == "String":
        if utf8:
            return _String(text, "VARCHAR", {"type": "string"})
        return _Bytes(
            text,
            "BLOB",
            {"type": "string", "contentEncoding": "base64"},
            representation="Holds bytes that are not UTF-8; travels as base64 and "
            "is stored as BLOB.",
            wire_type="String",
        )
    if name == "FixedString":
        return _Bytes(
            text,
            "BLOB",
            {"type": "string", "contentEncoding": "base64"},
            representation="Fixed-width bytes; travel as base64, stored as BLOB.",
            wire_type="String",
        )
    if name in ("Enum8", "Enum16"):
        labels = [_unquote(arg.rsplit("=", 1)[0].strip()) for arg in args]
        return _TextWire(
            text,
            "VARCHAR",
            {"type": "string", "enum": labels},
            representation="Stored as the label text.",
            wire_type="String",
        )
    if name in ("Bool", "Boolean"):
        return ColumnType(text, "BOOLEAN", {"type": "boolean"})
    if name == "UUID":
        return _TextWire(
            text, "UUID", {"type": "string", "format": "uuid"}, wire_type="String"
        )
    if name in _TEXT:
        fmt, note = _TEXT[name]
        return _TextWire(
            text,
            "VARCHAR",
            {"type": "string", "format": fmt},
            representation=note,
            wire_type="String",
        )
    if name in ("Date", "Date32"):
        return _Date(text, "DATE", {"type": "string", "format": "date"})
    if name in ("DateTime", "DateTime64"):
        return _datetime(text, name, args)
    if name == "Array":
        element = parse(args[0], utf8)
        return _Array(
            text,
            f"{element.duckdb}[]",
            {"type": "array", "items": element.json_schema()},
            children=[("", element)],
            kind="array",
        )
    if name == "Map":
        key, value = parse(args[0], utf8), parse(args[1], utf8)
        note = None
        if not isinstance(key, _String):
            note = (
                f"JSON records carry the {key.clickhouse} keys as text; the "
                "DuckDB MAP keeps the key type."
            )
        return _Map(
            text,
            f"MAP({key.duckdb}, {value.duckdb})",
            {"type": "object", "additionalProperties": value.json_schema()},
            representation=note,
            children=[("key", key), ("value", value)],
            kind="map",
        )
    if name == "Tuple":
        return _tuple(text, args, utf8)
    if name == "JSON" or name.startswith("Object"):
        return _TextWire(
            text,
            "JSON",
            {"type": "string", "contentMediaType": "application/json"},
            representation="Travels and is stored as ClickHouse's JSON text.",
            wire_type="String",
        )
    raise ConfigError(
        f"The ClickHouse type {text!r} has no lossless mapping to DuckDB; cast the "
        "column in a view to a supported type or leave the stream out."
    )


def _decimal(text: str, name: str, args: list[str]) -> ColumnType:
    widths = {"Decimal32": 9, "Decimal64": 18, "Decimal128": 38, "Decimal256": 76}
    if name == "Decimal":
        precision = int(args[0])
        scale = int(args[1]) if len(args) > 1 else 0
    else:
        precision, scale = widths[name], int(args[0])

    schema = {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
    if precision <= 38:
        node = _Decimal(
            text,
            f"DECIMAL({precision}, {scale})",
            schema,
            representation="Travels as exact decimal text in JSON records.",
            wire_type="String",
        )
    else:
        node = _Decimal(
            text,
            "VARCHAR",
            schema,
            representation=f"DuckDB decimals stop at 38 digits; stored as exact "
            f"text with {scale} decimals.",
            wire_type="String",
        )
    node.scale = scale
    return node


def _datetime(text: str, name: str, args: list[str]) -> ColumnType:
    if name == "DateTime":
        precision, zone = 0, args[0] if args else None
    else:
        precision = int(args[0])
        zone = args[1] if len(args) > 1 else None

    zoned = zone is not None
    if precision > 6:
        duckdb = "TIMESTAMP_NS"
    else:
        duckdb = "TIMESTAMPTZ" if zoned else "TIMESTAMP"
    airbyte = "timestamp_with_timezone" if zoned else "timestamp_without_timezone"
    note = None
    if zoned and duckdb == "TIMESTAMP_NS":
        note = (
            f"The UTC instant in nanoseconds; the zone {_unquote(zone)} is "
            "kept in x-clickhouse-type."
        )
    elif zoned:
        note = (
            f"The UTC instant; the zone {_unquote(zone)} is kept in x-clickhouse-type."
        )

    node = _DateTime(
        text,
        duckdb,
        {"type": "string", "format": "date-time", "airbyte_type": airbyte},
        representation=note,
        wire_type="Int64",
    )
    node.precision = precision
    return node


def _tuple(text: str, args: list[str], utf8: bool) -> ColumnType:
    children, note = [], None
    for position, arg in enumerate(args, 1):
        match = re.match(r"^`?([A-Za-z_][A-Za-z0-9_]*)`?\s+(\S.*)$", arg)
        if match:
            name, inner = match.group(1), match.group(2)
        else:
            name, inner = str(position), arg
            note = (
                "Unnamed elements are named by position (1, 2, ...) in JSON "
                "records and in the DuckDB STRUCT."
            )
        children.append((name, parse(inner, utf8)))

    duck = ", ".join(f"{_duck_ident(n)} {c.duckdb}" for n, c in children)
    schema = {
        "type": "object",
        "properties": {n: c.json_schema() for n, c in children},
    }
    return _Tuple(
        text,
        f"STRUCT({duck})",
        schema,
        representation=note,
        children=children,
        kind="tuple",
    )


def _split(text: str) -> tuple[str, list[str]]:
    """``'Map(String, Array(Int8))'`` -> ``('Map', ['String', 'Array(Int8)'])``."""
    if "(" not in text or not text.endswith(")"):
        return text, []
    name, _, rest = text.partition("(")
    body = rest[:-1]

    args, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(body):
        if quote:
            if char == quote and body[i - 1] != "\\":
                quote = None
        elif char in "'`":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            args.append(body[start:i].strip())
            start = i + 1
    args.append(body[start:].strip())
    return name.strip(), [arg for arg in args if arg]


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _unquote(text: str) -> str:
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    return text


def _duck_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class _Foreign(ColumnType):
    """A column described only by a JSON schema, from a source other than ours."""

    reader: str = "VARCHAR"

    def reader_type(self):
        return self.reader

    def load(self, expr, transport, depth=0):
        if self.reader == self.duckdb:
            return expr
        return f"CAST({expr} AS {self.duckdb})"


def from_json_schema(schema: dict) -> ColumnType:
    """The DuckDB column for a property that carries only Airbyte JSON schema."""
    declared = schema.get("type", "string")
    kinds = [declared] if isinstance(declared, str) else list(declared)
    nullable = "null" in kinds
    kind = next((k for k in kinds if k != "null"), "string")
    fmt = schema.get("format")

    if kind == "integer":
        duckdb, reader = "BIGINT", "BIGINT"
    elif kind == "number":
        duckdb, reader = "DOUBLE", "DOUBLE"
    elif kind == "boolean":
        duckdb, reader = "BOOLEAN", "BOOLEAN"
    elif kind in ("array", "object"):
        duckdb, reader = "JSON", "JSON"
    elif fmt == "date":
        duckdb, reader = "DATE", "VARCHAR"
    elif fmt == "date-time":
        zoned = schema.get("airbyte_type") != "timestamp_without_timezone"
        duckdb, reader = ("TIMESTAMPTZ" if zoned else "TIMESTAMP"), "VARCHAR"
    else:
        duckdb, reader = "VARCHAR", "VARCHAR"

    column = _Foreign(f"(json schema {kind})", duckdb, dict(schema), nullable=nullable)
    column.reader = reader
    return column
