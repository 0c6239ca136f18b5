"""Shared fixtures: one embedded ClickHouse, DuckDB files and connector processes.

chDB opens one data path per process, and a path one process holds cannot be
opened by another. So the tests use two paths:

* ``clickhouse``: the path this pytest process opens, for in-process tests;
  each test gets its own database (``database``) so tests stay apart.
* ``subprocess_clickhouse``: a path only child processes ever open, for the
  connector command lines. SQL reaches it through a short-lived process too.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import orjson
import pytest
from airbyte_cdk.models import AirbyteMessage, AirbyteMessageSerializer

REPO = Path(__file__).resolve().parents[1]
COMMAND_TIMEOUT = 120

_database_numbers = itertools.count(1)

_RUN_SQL = """
import json, sys
from worker.clickhouse import connect
request = json.load(sys.stdin)
client = connect(request["url"])
for statement in request["statements"]:
    client.command(statement)
"""


@pytest.fixture(scope="session")
def clickhouse_url(tmp_path_factory) -> str:
    """The one chDB path this pytest process opens."""
    return "chdb://" + str(tmp_path_factory.mktemp("chdb-in-process"))


@pytest.fixture(scope="session")
def clickhouse(clickhouse_url):
    """The in-process ClickHouse client."""
    from worker.clickhouse import connect

    return connect(clickhouse_url)


@pytest.fixture
def database(clickhouse) -> str:
    """A fresh, empty ClickHouse database for one test."""
    name = f"test_{next(_database_numbers)}"
    clickhouse.command(f"DROP DATABASE IF EXISTS {name}")
    clickhouse.command(f"CREATE DATABASE {name}")
    yield name
    clickhouse.command(f"DROP DATABASE IF EXISTS {name}")


@dataclass
class Finished:
    """A connector process that ran to its end."""

    args: list[str]
    returncode: int
    stdout: bytes
    stderr: str

    def messages(self) -> list[AirbyteMessage]:
        """Every stdout line, parsed by the CDK's own serializer."""
        return [parse_line(line) for line in self.stdout.splitlines()]

    def of_type(self, kind: str) -> list[AirbyteMessage]:
        return [m for m in self.messages() if m.type.value == kind]


def parse_line(line: bytes) -> AirbyteMessage:
    """One protocol line as the CDK reads it; raises if it is not protocol."""
    return AirbyteMessageSerializer.load(orjson.loads(line))


def connector(module: str, *args: str, stdin: bytes | None = None) -> Finished:
    """Run ``python -m worker.<module> args...`` and wait for it."""
    argv = [sys.executable, "-m", f"worker.{module}", *map(str, args)]
    done = subprocess.run(
        argv, input=stdin, capture_output=True, cwd=REPO, timeout=COMMAND_TIMEOUT
    )
    return Finished(argv, done.returncode, done.stdout, done.stderr.decode())


def write_json(path: Path, value) -> Path:
    """Write ``value`` as a JSON file and return its path."""
    path.write_text(json.dumps(value))
    return path


@dataclass
class SubprocessSource:
    """One database in the chDB path that only child processes open.

    The database is created with the first statements run against it, and
    discovery is kept until the next statements, to spare child processes.
    """

    url: str
    database: str
    folder: Path
    created: bool = False
    discovered: dict | None = None

    def sql(self, *statements: str) -> None:
        """Run ``statements`` against the source in a child process."""
        if not self.created:
            statements = (f"CREATE DATABASE IF NOT EXISTS {self.database}", *statements)
            self.created = True
        self.discovered = None
        request = json.dumps({"url": self.url, "statements": list(statements)})
        done = subprocess.run(
            [sys.executable, "-c", _RUN_SQL],
            input=request.encode(),
            capture_output=True,
            cwd=REPO,
            timeout=COMMAND_TIMEOUT,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]

    def config(self, name: str = "source.json", **extra) -> Path:
        """A source config file for this database, with ``extra`` settings."""
        value = {"url": self.url, "database": self.database, **extra}
        return write_json(self.folder / name, value)

    def discover(self) -> dict[str, dict]:
        """The discovered streams by name, through the ``discover`` command."""
        if self.discovered is None:
            self.discovered = self._discover()
        return self.discovered

    def _discover(self) -> dict[str, dict]:
        done = connector("source_clickhouse", "discover", "--config", self.config())
        assert done.returncode == 0, done.stderr
        [catalog] = [
            orjson.loads(line)["catalog"]
            for line in done.stdout.splitlines()
            if line.startswith(b'{"type":"CATALOG"')
        ]
        return {s["name"]: s for s in catalog["streams"]}

    def catalog(self, name: str, *selections: dict) -> Path:
        """A configured catalog file; each selection names a stream and its modes."""
        streams = self.discover()
        configured = []
        for selection in selections:
            modes = {k: v for k, v in selection.items() if k != "name"}
            configured.append(configure_stream(streams[selection["name"]], **modes))
        return write_json(self.folder / name, {"streams": configured})


def configure_stream(
    stream: dict,
    sync_mode: str = "full_refresh",
    destination_sync_mode: str = "overwrite",
    cursor_field: list[str] | None = None,
    primary_key: list[list[str]] | None = None,
) -> dict:
    """A configured stream (JSON) from a discovered one."""
    configured = {
        "stream": stream,
        "sync_mode": sync_mode,
        "destination_sync_mode": destination_sync_mode,
    }
    if cursor_field or sync_mode == "incremental":
        configured["cursor_field"] = cursor_field or stream["default_cursor_field"]
    if primary_key or stream.get("source_defined_primary_key"):
        configured["primary_key"] = primary_key or stream["source_defined_primary_key"]
    return configured


@pytest.fixture(scope="session")
def subprocess_clickhouse_url(tmp_path_factory) -> str:
    """A chDB path that this pytest process never opens."""
    return "chdb://" + str(tmp_path_factory.mktemp("chdb-subprocess"))


@pytest.fixture
def source(subprocess_clickhouse_url, tmp_path) -> SubprocessSource:
    """A fresh database in the subprocess-only chDB path."""
    name = f"cli_{next(_database_numbers)}"
    return SubprocessSource(subprocess_clickhouse_url, name, tmp_path)
