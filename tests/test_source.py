"""The ClickHouse source as its own process: spec, check, discover and read.

Every test runs the command line a user or Airbyte runs, against a chDB path
only child processes open, and parses every stdout line with the CDK's own
message serializer.
"""

from __future__ import annotations

import subprocess
import sys

import orjson
import pytest
from conftest import REPO, SubprocessSource, connector, write_json

ORDERS = """
CREATE TABLE {db}.orders (
    region LowCardinality(String),
    order_id UInt64,
    placed_at DateTime,
    shipped_on Nullable(Date),
    amount Decimal(18, 4),
    note String
) ENGINE = MergeTree ORDER BY (region, order_id)
"""


def records(done) -> list[dict]:
    return [m.record.data for m in done.messages() if m.type.value == "RECORD"]


def states(done) -> list:
    return [m.state for m in done.messages() if m.type.value == "STATE"]


def statuses(done) -> list[str]:
    return [
        m.trace.stream_status.status.value
        for m in done.messages()
        if m.type.value == "TRACE" and m.trace.stream_status
    ]


def test_spec_is_one_protocol_message_requiring_a_url():
    done = connector("source_clickhouse", "spec")

    assert done.returncode == 0, done.stderr
    [message] = done.of_type("SPEC")
    assert message.spec.connectionSpecification["required"] == ["url"]
    assert message.spec.supportsIncremental is True


def test_check_reports_the_table_count(source):
    source.sql(ORDERS.format(db=source.database))

    done = connector("source_clickhouse", "check", "--config", source.config())

    assert done.returncode == 0, done.stderr
    [message] = done.of_type("CONNECTION_STATUS")
    assert message.connectionStatus.status.value == "SUCCEEDED"
    assert "1 table(s)" in message.connectionStatus.message


def test_check_of_an_unreachable_server_fails_with_the_reason(tmp_path):
    config = write_json(tmp_path / "c.json", {"url": "http://127.0.0.1:1"})

    done = connector("source_clickhouse", "check", "--config", config)

    [message] = done.of_type("CONNECTION_STATUS")
    assert message.connectionStatus.status.value == "FAILED"
    assert "127.0.0.1:1" in message.connectionStatus.message


def test_discover_gives_keys_cursors_and_exact_types(source):
    source.sql(ORDERS.format(db=source.database))

    done = connector("source_clickhouse", "discover", "--config", source.config())

    assert done.returncode == 0, done.stderr
    [message] = done.of_type("CATALOG")
    [stream] = message.catalog.streams
    assert stream.name == "orders"
    assert stream.namespace == source.database
    assert stream.source_defined_primary_key == [["region"], ["order_id"]]
    assert stream.default_cursor_field == ["placed_at"]
    properties = stream.json_schema["properties"]
    assert properties["shipped_on"]["x-clickhouse-type"] == "Nullable(Date)"
    assert properties["shipped_on"]["type"] == ["string", "null"]
    assert properties["amount"]["x-duckdb-type"] == "DECIMAL(18, 4)"
    assert properties["region"]["x-clickhouse-type"] == "LowCardinality(String)"


def test_full_refresh_read_frames_every_row_as_a_record(source):
    source.sql(
        ORDERS.format(db=source.database),
        f"INSERT INTO {source.database}.orders VALUES "
        "('eu', 1, '2024-01-01 00:00:00', NULL, 1.5, 'line\\nbreak \"q\"'), "
        "('us', 2, '2024-01-02 00:00:00', '2024-01-03', 123456789012.3456, '')",
    )
    catalog = source.catalog("catalog.json", {"name": "orders"})

    done = connector(
        "source_clickhouse",
        "read",
        "--config",
        source.config(page_rows=1),
        "--catalog",
        catalog,
    )

    assert done.returncode == 0, done.stderr
    assert records(done) == [
        {
            "region": "eu",
            "order_id": 1,
            "placed_at": "2024-01-01T00:00:00Z",
            "shipped_on": None,
            "amount": "1.5000",
            "note": 'line\nbreak "q"',
        },
        {
            "region": "us",
            "order_id": 2,
            "placed_at": "2024-01-02T00:00:00Z",
            "shipped_on": "2024-01-03",
            "amount": "123456789012.3456",
            "note": "",
        },
    ]
    assert statuses(done) == ["STARTED", "COMPLETE"]
    assert states(done) == []


@pytest.fixture(scope="module")
def events(subprocess_clickhouse_url, tmp_path_factory):
    """3,000 demo rows in ``events`` of the subprocess-only source; read only."""
    source = SubprocessSource(
        subprocess_clickhouse_url, "cli_events", tmp_path_factory.mktemp("events")
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "worker.seed",
            "--url",
            source.url,
            "--rows",
            "3000",
            "--database",
            source.database,
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
        timeout=120,
    )
    return source


def read_incremental(source, state_file=None, table="events", page_rows=700):
    catalog = source.catalog(
        "incremental.json",
        {"name": table, "sync_mode": "incremental", "destination_sync_mode": "append"},
    )
    args = ["--config", source.config(page_rows=page_rows), "--catalog", catalog]
    if state_file:
        args += ["--state", state_file]
    done = connector("source_clickhouse", "read", *args)
    assert done.returncode == 0, done.stderr
    return done


def test_incremental_read_checkpoints_every_page(events):
    done = read_incremental(events)

    pages, rows = [], 0
    for message in done.messages():
        if message.type.value == "RECORD":
            rows += 1
        elif message.type.value == "STATE":
            assert message.state.sourceStats.recordCount == rows
            pages.append(rows)
            rows = 0
    assert pages == [700, 700, 700, 700, 200]
    assert rows == 0
    last = states(done)[-1].stream.stream_state.__dict__
    assert last["key"] == ["ts", "event_id"]
    assert last["after"][1] == 3000


def test_a_resumed_read_returns_exactly_the_remaining_rows(events, tmp_path):
    first = read_incremental(events)
    lines = first.stdout.splitlines()
    state_lines = [line for line in lines if orjson.loads(line)["type"] == "STATE"]
    second_state = orjson.loads(state_lines[1])["state"]
    state_file = write_json(tmp_path / "state.json", [second_state])

    resumed = read_incremental(events, state_file)

    ids = [row["event_id"] for row in records(resumed)]
    assert ids == list(range(1401, 3001))
    assert statuses(resumed) == ["STARTED", "COMPLETE"]


def test_a_read_resumed_from_the_last_state_returns_only_new_rows(source, tmp_path):
    orders = f"{source.database}.orders"
    source.sql(
        ORDERS.format(db=source.database),
        f"INSERT INTO {orders} (region, order_id, placed_at) VALUES "
        "('eu', 1, '2024-01-01 00:00:00'), ('us', 2, '2024-01-01 00:00:00'), "
        "('eu', 3, '2024-01-02 00:00:00')",
    )
    first = read_incremental(source, table="orders", page_rows=2)
    last_state = states(first)[-1]
    state_file = write_json(
        tmp_path / "state.json",
        [
            orjson.loads(line)["state"]
            for line in first.stdout.splitlines()
            if line.startswith(b'{"type":"STATE"')
        ][-1:],
    )
    source.sql(
        f"INSERT INTO {orders} (region, order_id, placed_at) VALUES "
        "('ap', 4, '2024-01-03 00:00:00'), ('eu', 5, '2024-01-03 00:00:00')"
    )

    resumed = read_incremental(source, state_file, table="orders", page_rows=2)

    assert last_state.stream.stream_state.key == ["placed_at", "region", "order_id"]
    assert [row["order_id"] for row in records(first)] == [1, 2, 3]
    assert [row["order_id"] for row in records(resumed)] == [4, 5]
