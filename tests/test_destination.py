"""The DuckDB destination as its own process, fed by the source or by hand.

``source read | destination write`` runs as two real processes joined by a
pipe. Where a test needs input the source would not send (cut short, killed
mid-stream), it writes the source's own lines to the destination's stdin.
"""

from __future__ import annotations

import signal
import subprocess
import sys

import duckdb
import orjson
import pytest
from conftest import COMMAND_TIMEOUT, REPO, connector, parse_line, write_json

ITEMS = """
CREATE TABLE {db}.items (
    id UInt32,
    label String,
    price Decimal(10, 2),
    updated_at DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY id
"""


def insert(source, *rows: tuple, before: tuple[str, ...] = ()) -> None:
    values = ", ".join(
        f"({id_}, '{label}', {price}, '{updated}')"
        for id_, label, price, updated in rows
    )
    source.sql(*before, f"INSERT INTO {source.database}.items VALUES {values}")


def write_command(catalog, config) -> list[str]:
    """The destination's ``write`` command line."""
    return [
        sys.executable,
        "-m",
        "worker.destination_duckdb",
        "write",
        "--config",
        config,
        "--catalog",
        catalog,
    ]


def start_destination(catalog, config, stdout) -> subprocess.Popen:
    """A running ``write`` whose stdin the test feeds (to kill it midway)."""
    return subprocess.Popen(
        write_command(catalog, config),
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )


def pipe(source, catalog, target) -> subprocess.CompletedProcess:
    """``source read | destination write``; the destination's result."""
    python = sys.executable
    read = subprocess.Popen(
        [
            python,
            "-m",
            "worker.source_clickhouse",
            "read",
            "--config",
            source.config(),
            "--catalog",
            catalog,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=REPO,
    )
    write = subprocess.run(
        write_command(catalog, target),
        stdin=read.stdout,
        capture_output=True,
        cwd=REPO,
        timeout=COMMAND_TIMEOUT,
    )
    read.stdout.close()
    read_code = read.wait(timeout=COMMAND_TIMEOUT)
    if write.returncode == 0:
        assert read_code == 0
    return write


def source_lines(source, catalog, **config) -> list[bytes]:
    """The source's read output, one protocol line per item."""
    done = connector(
        "source_clickhouse",
        "read",
        "--config",
        source.config("read.json", **config),
        "--catalog",
        catalog,
    )
    assert done.returncode == 0, done.stderr
    return [line + b"\n" for line in done.stdout.splitlines()]


def kind(line: bytes) -> str:
    message = orjson.loads(line)
    if message["type"] == "TRACE" and "stream_status" in message["trace"]:
        return message["trace"]["stream_status"]["status"]
    return message["type"]


def rows(path, table, columns="id, label, CAST(price AS VARCHAR)") -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT {columns} FROM {table} ORDER BY ALL").fetchall()
    finally:
        con.close()


def tables(path) -> list[str]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.close()


@pytest.fixture
def items(source):
    insert(
        source,
        (1, "a", "1.10", "2024-01-01 00:00:00.001"),
        (2, "b", "2.20", "2024-01-02 00:00:00.002"),
        (3, "c", "3.30", "2024-01-03 00:00:00.003"),
        before=(ITEMS.format(db=source.database),),
    )
    return source


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "target.duckdb"
    return path, write_json(tmp_path / "destination.json", {"path": str(path)})


def test_overwrite_replaces_the_table(items, target):
    path, config = target
    catalog = items.catalog("c.json", {"name": "items"})
    assert pipe(items, catalog, config).returncode == 0
    insert(
        items,
        (4, "d", "4.40", "2024-01-04 00:00:00"),
        before=(f"DELETE FROM {items.database}.items WHERE id = 1",),
    )

    done = pipe(items, catalog, config)

    assert done.returncode == 0, done.stderr
    assert rows(path, f"{items.database}.items") == [
        (2, "b", "2.20"),
        (3, "c", "3.30"),
        (4, "d", "4.40"),
    ]
    assert tables(path) == ["items"]


def test_append_adds_every_read(items, target):
    path, config = target
    catalog = items.catalog(
        "c.json", {"name": "items", "destination_sync_mode": "append"}
    )

    pipe(items, catalog, config)
    done = pipe(items, catalog, config)

    assert done.returncode == 0, done.stderr
    assert rows(path, f"{items.database}.items") == [
        (1, "a", "1.10"),
        (1, "a", "1.10"),
        (2, "b", "2.20"),
        (2, "b", "2.20"),
        (3, "c", "3.30"),
        (3, "c", "3.30"),
    ]


def test_append_dedup_keeps_the_latest_row_of_each_key(items, target):
    path, config = target
    catalog = items.catalog(
        "c.json",
        {
            "name": "items",
            "sync_mode": "incremental",
            "destination_sync_mode": "append_dedup",
            "cursor_field": ["updated_at"],
        },
    )
    assert pipe(items, catalog, config).returncode == 0
    insert(
        items,
        (2, "b2", "2.22", "2024-02-01 00:00:00"),
        (2, "b3", "2.23", "2024-02-02 00:00:00"),
        (5, "e", "5.50", "2024-02-03 00:00:00"),
    )

    done = pipe(items, catalog, config)

    assert done.returncode == 0, done.stderr
    assert rows(path, f"{items.database}.items") == [
        (1, "a", "1.10"),
        (2, "b3", "2.23"),
        (3, "c", "3.30"),
        (5, "e", "5.50"),
    ]
    assert tables(path) == ["items"]


def test_two_streams_sync_in_one_session(items, target):
    path, config = target
    items.sql(
        f"CREATE TABLE {items.database}.tags (tag String) "
        "ENGINE = MergeTree ORDER BY tag",
        f"INSERT INTO {items.database}.tags VALUES ('x'), ('y')",
    )
    catalog = items.catalog(
        "c.json", {"name": "items", "destination_sync_mode": "append"}, {"name": "tags"}
    )

    done = pipe(items, catalog, config)

    assert done.returncode == 0, done.stderr
    assert len(rows(path, f"{items.database}.items")) == 3
    assert rows(path, f"{items.database}.tags", "tag") == [("x",), ("y",)]


def incremental_lines(source, mode="append"):
    catalog = source.catalog(
        "c.json",
        {
            "name": "items",
            "sync_mode": "incremental",
            "destination_sync_mode": mode,
            "cursor_field": ["updated_at"],
        },
    )
    return catalog, source_lines(source, catalog, page_rows=2)


def write(catalog, config, lines: list[bytes]) -> subprocess.CompletedProcess:
    return subprocess.run(
        write_command(catalog, config),
        input=b"".join(lines),
        capture_output=True,
        cwd=REPO,
        timeout=COMMAND_TIMEOUT,
    )


def test_state_is_echoed_after_its_records_are_committed(items, target):
    path, config = target
    catalog, lines = incremental_lines(items)
    first_state = [kind(line) for line in lines].index("STATE")
    destination = start_destination(catalog, config, stdout=subprocess.PIPE)

    destination.stdin.write(b"".join(lines[: first_state + 2]))
    destination.stdin.flush()
    ready = parse_line(destination.stdout.readline())
    echoed = parse_line(destination.stdout.readline())
    destination.send_signal(signal.SIGKILL)
    destination.wait(timeout=COMMAND_TIMEOUT)

    assert ready.type.value == "LOG" and ready.log.message.startswith("ready to write")
    assert echoed.type.value == "STATE"
    assert echoed.state.stream.stream_state.after[1] == 2
    assert rows(path, f"{items.database}.items") == [(1, "a", "1.10"), (2, "b", "2.20")]


def test_nothing_after_the_last_state_is_committed_when_input_ends(items, target):
    path, config = target
    catalog, lines = incremental_lines(items)
    kinds = [kind(line) for line in lines]
    cut = kinds.index("STATE") + 2

    done = write(catalog, config, lines[:cut])

    assert done.returncode == 4
    assert "COMPLETE" in done.stderr.decode()
    assert [kind(line) for line in done.stdout.splitlines()][:2] == ["LOG", "STATE"]
    assert rows(path, f"{items.database}.items") == [(1, "a", "1.10"), (2, "b", "2.20")]


def test_nothing_after_the_last_state_is_committed_at_a_broken_line(items, target):
    path, config = target
    catalog, lines = incremental_lines(items)
    cut = [kind(line) for line in lines].index("STATE") + 2

    done = write(catalog, config, [*lines[:cut], b'{"type": "RECORD", "rec\n'])

    assert done.returncode == 4
    assert rows(path, f"{items.database}.items") == [(1, "a", "1.10"), (2, "b", "2.20")]


def test_an_overwrite_cut_short_leaves_the_old_table_and_no_stage(items, target):
    path, config = target
    catalog = items.catalog("c.json", {"name": "items"})
    assert pipe(items, catalog, config).returncode == 0
    insert(
        items,
        (9, "new", "9.90", "2024-03-01 00:00:00"),
        before=(f"TRUNCATE TABLE {items.database}.items",),
    )
    lines = source_lines(items, catalog)
    complete = [kind(line) for line in lines].index("COMPLETE")

    done = write(catalog, config, lines[:complete])

    assert done.returncode == 4
    assert "COMPLETE" in done.stderr.decode()
    assert rows(path, f"{items.database}.items") == [
        (1, "a", "1.10"),
        (2, "b", "2.20"),
        (3, "c", "3.30"),
    ]
    assert tables(path) == ["items"]


def test_an_overwrite_killed_mid_stream_leaves_the_old_table(items, target):
    path, config = target
    catalog = items.catalog("c.json", {"name": "items"})
    assert pipe(items, catalog, config).returncode == 0
    lines = source_lines(items, catalog)
    started = [kind(line) for line in lines].index("STARTED")
    destination = start_destination(catalog, config, stdout=subprocess.DEVNULL)

    destination.stdin.write(b"".join(lines[: started + 3]))
    destination.stdin.flush()
    destination.send_signal(signal.SIGKILL)
    destination.wait(timeout=COMMAND_TIMEOUT)

    assert rows(path, f"{items.database}.items") == [
        (1, "a", "1.10"),
        (2, "b", "2.20"),
        (3, "c", "3.30"),
    ]
    assert pipe(items, catalog, config).returncode == 0
    assert tables(path) == ["items"]
