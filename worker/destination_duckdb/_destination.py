"""The DuckDB destination as an Airbyte CDK connector."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from airbyte_cdk.destinations import Destination
from airbyte_cdk.models import (
    AirbyteConnectionStatus,
    AirbyteMessage,
    ConfiguredAirbyteCatalog,
    ConfiguredAirbyteCatalogSerializer,
    ConnectorSpecification,
    ConnectorSpecificationSerializer,
    DestinationSyncMode,
    Status,
)

from worker import protocol
from worker.destination_duckdb._session import WriteSession, open_database
from worker.errors import ConfigError, WorkerError

logger = logging.getLogger(__name__)

SPEC = {
    "documentationUrl": "https://duckdb.org/docs",
    "supported_destination_sync_modes": ["overwrite", "append", "append_dedup"],
    "connectionSpecification": {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "DuckDB destination",
        "type": "object",
        "required": ["path"],
        "additionalProperties": False,
        "properties": {
            "path": {"type": "string", "description": "The DuckDB database file."},
            "schema": {
                "type": "string",
                "description": "Schema for every stream; the stream namespace when absent.",
            },
            "require_stream_complete": {
                "type": "boolean",
                "default": True,
                "description": "Finish a stream only after its source marked it COMPLETE.",
            },
        },
    },
}


class DestinationDuckDB(Destination):
    """Writes Airbyte streams into DuckDB tables with exact types."""

    def spec(self, logger: logging.Logger) -> ConnectorSpecification:
        return ConnectorSpecificationSerializer.load(SPEC)

    def check(
        self, logger: logging.Logger, config: Mapping[str, Any]
    ) -> AirbyteConnectionStatus:
        try:
            con = open_database(config["path"])
            version = con.execute("SELECT version()").fetchall()[0][0]
            con.close()
        except (WorkerError, KeyError) as error:
            return AirbyteConnectionStatus(status=Status.FAILED, message=str(error))
        return AirbyteConnectionStatus(
            status=Status.SUCCEEDED,
            message=f"Opened {config['path']} with DuckDB {version}.",
        )

    def write(
        self,
        config: Mapping[str, Any],
        configured_catalog: ConfiguredAirbyteCatalog,
        input_messages: Iterable[AirbyteMessage],
    ) -> Iterator[AirbyteMessage]:
        lines = (protocol.dumps(message) + b"\n" for message in input_messages)
        session = WriteSession(config, configured_catalog)
        for line in session.run(lines):
            yield protocol.loads(line)

    def write_lines(self, config, catalog, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The fast path: chunks of whole protocol lines in, lines to echo out."""
        yield from WriteSession(config, catalog).run(chunks)


def read_catalog(path: str) -> ConfiguredAirbyteCatalog:
    """Load a configured catalog file, with a clear error when it is malformed."""
    try:
        with open(path, "rb") as handle:
            import orjson

            catalog = ConfiguredAirbyteCatalogSerializer.load(
                orjson.loads(handle.read())
            )
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise ConfigError(
            f"The catalog {path!r} is not a configured Airbyte catalog ({error}); "
            "build it from the source's discover output."
        ) from error
    for configured in catalog.streams:
        if not isinstance(configured.destination_sync_mode, DestinationSyncMode):
            raise ConfigError(
                f"The stream {configured.stream.name} has no destination_sync_mode."
            )
    return catalog


def run(argv: list[str] | None = None) -> int:
    """Run one connector command; return its exit code."""
    argv = sys.argv[1:] if argv is None else argv
    out = sys.stdout.buffer
    destination = DestinationDuckDB()
    try:
        parsed = destination.parse_args(argv)
        if parsed.command != "write":
            for message in destination.run_cmd(parsed):
                out.write(protocol.dumps(message) + b"\n")
            return 0
        config = destination.read_config(parsed.config)
        catalog = read_catalog(parsed.catalog)
        chunks = protocol.line_chunks(sys.stdin.buffer.read1, 4 << 20)
        for line in destination.write_lines(config, catalog, chunks):
            out.write(line)
            out.flush()
    except WorkerError as error:
        return protocol.fail(error, out)
    except (ValueError, OSError) as error:
        return protocol.fail(
            ConfigError(f"{error} Fix the file named on the command line."), out
        )
    return 0
