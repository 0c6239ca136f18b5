"""Bad input to either connector: a clear message and the documented exit code.

Exit codes (README): 2 for a config or catalog file that is wrong, 4 for a
source or destination that refuses (an unknown table, a broken stdin line, a
record of a stream the catalog does not configure).
"""

from __future__ import annotations

import pytest
from conftest import SubprocessSource, connector, write_json

TABLE = "CREATE TABLE {db}.known (id UInt32) ENGINE = MergeTree ORDER BY id"
RECORD = b'{"type":"RECORD","record":{"stream":"%s","data":{"id":1},"emitted_at":1}}\n'


def error_of(done) -> str:
    """The message of the one TRACE ERROR line the command wrote."""
    [trace] = [m.trace.error for m in done.of_type("TRACE") if m.trace.error]
    assert trace.message in done.stderr
    return trace.message


@pytest.fixture(scope="module")
def known(subprocess_clickhouse_url, tmp_path_factory):
    """A source with the table ``known`` and a catalog configuring it."""
    source = SubprocessSource(
        subprocess_clickhouse_url, "cli_bad_input", tmp_path_factory.mktemp("known")
    )
    source.sql(TABLE.format(db=source.database))
    return source, source.catalog("catalog.json", {"name": "known"})


@pytest.mark.parametrize(
    "config, expected",
    [
        ({"database": "x"}, "'url' is a required property"),
        ({"url": "ftp://example.com"}, "'ftp://example.com' does not match"),
    ],
)
@pytest.mark.parametrize("command", ["discover", "read"])
def test_a_source_config_off_the_spec_exits_2(
    command, config, expected, known, tmp_path
):
    _, catalog = known
    path = write_json(tmp_path / "bad.json", config)

    catalog_args = ["--catalog", catalog] if command == "read" else []
    done = connector("source_clickhouse", command, "--config", path, *catalog_args)

    assert done.returncode == 2
    message = error_of(done)
    assert expected in message
    assert "--config" in message


def test_check_of_a_config_off_the_spec_fails_naming_the_field(tmp_path):
    path = write_json(tmp_path / "bad.json", {"database": "x"})

    done = connector("source_clickhouse", "check", "--config", path)

    [status] = done.of_type("CONNECTION_STATUS")
    assert status.connectionStatus.status.value == "FAILED"
    assert "'url' is a required property" in status.connectionStatus.message


@pytest.mark.parametrize(
    "module, command",
    [
        ("source_clickhouse", "discover"),
        ("destination_duckdb", "check"),
    ],
)
def test_a_config_that_is_not_json_exits_2(module, command, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"url": ')

    done = connector(module, command, "--config", path)

    assert done.returncode == 2
    assert "broken.json" in error_of(done)


@pytest.mark.parametrize(
    "module, config",
    [
        ("source_clickhouse", None),
        ("destination_duckdb", {"path": "target.duckdb"}),
    ],
)
def test_a_catalog_that_is_not_json_exits_2(module, config, known, tmp_path):
    source, _ = known
    catalog = tmp_path / "catalog.txt"
    catalog.write_text("streams: not json")
    config = write_json(tmp_path / "d.json", config) if config else source.config()

    done = connector(
        module,
        "read" if module.startswith("source") else "write",
        "--config",
        config,
        "--catalog",
        catalog,
        stdin=b"",
    )

    assert done.returncode == 2
    assert "catalog.txt" in error_of(done)


def test_an_unknown_table_exits_4_naming_it(known, tmp_path):
    source, catalog = known
    text = catalog.read_text().replace('"name": "known"', '"name": "missing"')
    renamed = tmp_path / "renamed.json"
    renamed.write_text(text)

    done = connector(
        "source_clickhouse", "read", "--config", source.config(), "--catalog", renamed
    )

    assert done.returncode == 4
    message = error_of(done)
    assert f"{source.database}.missing does not exist" in message
    assert "known" in message


def test_discover_of_an_unknown_table_exits_4(known):
    source, _ = known
    config = source.config("missing.json", tables=["missing"])

    done = connector("source_clickhouse", "discover", "--config", config)

    assert done.returncode == 4
    assert "missing does not exist" in error_of(done)


def test_a_destination_config_without_a_path_exits_2(known, tmp_path):
    _, catalog = known

    done = connector(
        "destination_duckdb",
        "write",
        "--config",
        write_json(tmp_path / "d.json", {}),
        "--catalog",
        catalog,
        stdin=b"",
    )

    assert done.returncode == 2
    assert "no path" in error_of(done)


@pytest.mark.parametrize(
    "line, expected",
    [
        (b'{"type": "RECORD", "rec\n', "Line 1 of the input is not an Airbyte message"),
        (b"not json at all\n", "Line 1 of the input is not an Airbyte message"),
        (
            RECORD % b"elsewhere",
            "stream 'elsewhere', which the catalog does not configure",
        ),
    ],
)
def test_a_bad_stdin_line_exits_4_naming_the_line(line, expected, known, tmp_path):
    _, catalog = known
    config = write_json(tmp_path / "d.json", {"path": str(tmp_path / "t.duckdb")})

    done = connector(
        "destination_duckdb",
        "write",
        "--config",
        config,
        "--catalog",
        catalog,
        stdin=line,
    )

    assert done.returncode == 4
    assert expected in error_of(done)
