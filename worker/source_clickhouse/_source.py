"""The ClickHouse source as an Airbyte CDK connector.

``spec``, ``check`` and ``discover`` go through the CDK's entrypoint. ``read``
keeps the CDK for catalog, state, log and trace messages and builds RECORD
lines itself: ClickHouse renders each row's data as JSON, and the source only
frames it, so records cost a byte join instead of a Python object each.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson
from airbyte_cdk.entrypoint import AirbyteEntrypoint
from airbyte_cdk.models import (
    AirbyteCatalog,
    AirbyteConnectionStatus,
    AirbyteMessage,
    AirbyteStateMessage,
    AirbyteStateStats,
    AirbyteStream,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteStream,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    FailureType,
    Status,
    SyncMode,
)
from airbyte_cdk.sources import Source
from airbyte_cdk.utils.traced_exception import AirbyteTracedException
from clickhouse_connect.driver.client import Client

from worker import protocol
from worker.clickhouse import connect
from worker.errors import ConfigError, SourceError, WorkerError
from worker.source_clickhouse._discover import Table, describe, list_tables
from worker.source_clickhouse._reader import (
    DEFAULT_PAGE_ROWS,
    Checkpoint,
    StreamReader,
)

logger = logging.getLogger(__name__)

SPEC = {
    "documentationUrl": "https://clickhouse.com/docs",
    "supportsIncremental": True,
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "ClickHouse source",
        "type": "object",
        "required": ["url"],
        "additionalProperties": False,
        "properties": {
            "url": {
                "type": "string",
                "description": "http(s)://host:port of a server, or chdb:///dir for "
                "the embedded engine.",
                "pattern": "^(https?|chdb):",
            },
            "database": {"type": "string", "default": "default"},
            "tables": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Tables to discover; all tables when absent.",
            },
            "username": {"type": "string"},
            "password": {"type": "string", "airbyte_secret": True},
            "page_rows": {
                "type": "integer",
                "minimum": 1,
                "default": DEFAULT_PAGE_ROWS,
                "description": "Rows per page of a keyed read.",
            },
        },
    },
}


class SourceClickHouse(Source):
    """Reads ClickHouse tables as Airbyte streams, losslessly typed."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(SPEC)

    def check(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> AirbyteConnectionStatus:
        try:
            client = _client(config)
            tables = list_tables(client, _database(config))
        except WorkerError as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=str(error))
        return AirbyteConnectionStatus(
            status=Status.SUCCEEDED,
            message=f"Reached ClickHouse {client.server_version}; "
            f"{len(tables)} table(s) in {_database(config)}.",
        )

    def discover(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> AirbyteCatalog:
        client = _client(config)
        database = _database(config)
        names = config.get("tables") or list_tables(client, database)
        return AirbyteCatalog(
            streams=[stream(describe(client, database, n)) for n in names]
        )

    def read(
        self,
        logger: logging.Logger,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[AirbyteMessage]:
        for block in self.read_lines(config, catalog, state):
            for line in block.splitlines():
                yield protocol.loads(line)

    def read_lines(
        self,
        config: Mapping[str, Any],
        catalog: ConfiguredAirbyteCatalog,
        state: list[AirbyteStateMessage] | None = None,
    ) -> Iterator[bytes]:
        """Yield blocks of complete protocol lines for every configured stream."""
        client = _client(config)
        states = _stream_states(state or [])
        for configured in catalog.streams:
            yield from _read_stream(client, config, configured, states)


def stream(table: Table) -> AirbyteStream:
    """The Airbyte stream describing ``table``."""
    return AirbyteStream(
        name=table.name,
        namespace=table.database,
        json_schema=table.json_schema(),
        supported_sync_modes=[SyncMode.full_refresh, SyncMode.incremental],
        source_defined_cursor=False,
        default_cursor_field=table.cursor_candidates[:1] or None,
        source_defined_primary_key=[[k] for k in table.primary_key] or None,
    )


def paging_key(table: Table, configured: ConfiguredAirbyteStream) -> list[str]:
    """The key a read orders and pages by: cursor first when incremental."""
    primary = [path[0] for path in configured.primary_key or []] or table.primary_key
    if configured.sync_mode != SyncMode.incremental:
        return primary

    cursor = configured.cursor_field or table.cursor_candidates[:1]
    if not cursor:
        raise ConfigError(
            f"The stream {table.name} is incremental but names no cursor_field and "
            "has no Date or DateTime column to default to; set cursor_field."
        )
    return [cursor[0], *[k for k in primary if k != cursor[0]]]


def _read_stream(client: Client, config, configured, states) -> Iterator[bytes]:
    name = configured.stream.name
    namespace = configured.stream.namespace or _database(config)
    table = describe(client, namespace, name)
    key = paging_key(table, configured)
    resume = (
        states.get((namespace, name))
        if configured.sync_mode == SyncMode.incremental
        else None
    )
    if resume is not None and resume.get("key") != key:
        raise ConfigError(
            f"The saved state of {name} pages by {resume.get('key')} but the catalog "
            f"now pages by {key}; delete the state to read the stream afresh."
        )

    reader = StreamReader(
        client,
        table,
        key,
        page_rows=int(config.get("page_rows", DEFAULT_PAGE_ROWS)),
        after=resume and resume["after"],
    )
    yield protocol.dumps(protocol.stream_status(name, namespace, "STARTED")) + b"\n"
    yield (
        protocol.dumps(
            protocol.log(
                f"reading {namespace}.{name} by {key or 'one ordered query'}"
                + (f" after {resume['after']}" if resume else "")
            )
        )
        + b"\n"
    )

    prefix = (
        b'{"type":"RECORD","record":{"stream":'
        + orjson.dumps(name)
        + b',"namespace":'
        + orjson.dumps(namespace)
        + b',"data":'
    )
    for item in reader.json_lines():
        if isinstance(item, Checkpoint):
            if configured.sync_mode == SyncMode.incremental:
                yield _checkpoint_line(name, namespace, item)
            continue
        yield frame_records(item, prefix, int(time.time() * 1000))
    yield protocol.dumps(protocol.stream_status(name, namespace, "COMPLETE")) + b"\n"


def frame_records(lines: bytes, prefix: bytes, emitted_at: int) -> bytes:
    """Wrap each JSON row of ``lines`` (whole lines) in a RECORD message line."""
    suffix = b',"emitted_at":' + str(emitted_at).encode() + b"}}\n"
    return prefix + lines[:-1].replace(b"\n", suffix + prefix) + suffix


def _checkpoint_line(name: str, namespace: str, checkpoint: Checkpoint) -> bytes:
    message = protocol.stream_state(name, namespace, checkpoint.state())
    message.state.sourceStats = AirbyteStateStats(recordCount=float(checkpoint.rows))
    return protocol.dumps(message) + b"\n"


def _stream_states(messages: Iterable[AirbyteStateMessage]) -> dict:
    states = {}
    for message in messages:
        if message.stream is None:
            continue
        descriptor = message.stream.stream_descriptor
        blob = message.stream.stream_state
        value = blob.__dict__ if blob is not None else None
        states[(descriptor.namespace, descriptor.name)] = value
    return states


def _client(config: Mapping[str, Any]) -> Client:
    if "url" not in config:
        raise ConfigError(
            "The source config has no url; set url to http(s):// or chdb:///dir."
        )
    return connect(config["url"], config.get("username"), config.get("password"))


def _database(config: Mapping[str, Any]) -> str:
    return config.get("database") or "default"


class _Entrypoint(AirbyteEntrypoint):
    """The CDK entrypoint, with ``read`` writing pre-framed record lines."""

    def run(self, parsed_args):
        if parsed_args.command != "read":
            yield from super().run(parsed_args)
            return
        spec = self.source.spec(self.logger)
        config = self.source.read_config(parsed_args.config)
        self.set_up_secret_filter(config, spec.connectionSpecification)
        self.validate_connection(spec, config)
        catalog = self.source.read_catalog(parsed_args.catalog)
        state = self.source.read_state(parsed_args.state)
        yield from self.source.read_lines(config, catalog, state)


def run(argv: list[str] | None = None) -> int:
    """Run one connector command; return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    out = sys.stdout.buffer
    entrypoint = _Entrypoint(SourceClickHouse())
    try:
        parsed = entrypoint.parse_args(argv)
        for item in entrypoint.run(parsed):
            out.write(item if isinstance(item, bytes) else item.encode() + b"\n")
        out.flush()
    except WorkerError as error:
        return protocol.fail(error, out)
    except AirbyteTracedException as error:
        return protocol.fail(_from_cdk(error), out)
    except (ValueError, OSError) as error:
        return protocol.fail(
            ConfigError(f"{error} Fix the file named on the command line."), out
        )
    return 0


def _from_cdk(error: AirbyteTracedException) -> WorkerError:
    """The worker error for a failure the CDK raised (a config off the spec)."""
    if error.failure_type == FailureType.config_error:
        return ConfigError(
            f"{error.message}. Fix the source config file named by --config."
        )
    return SourceError(f"{error.message}. The connector stopped; see its log.")
