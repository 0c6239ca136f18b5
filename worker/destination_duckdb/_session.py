"""One write session: protocol messages in, committed DuckDB tables out.

RECORD lines are sorted into one buffer file per stream without being parsed
in Python; at a stream's STATE message (every stream's for a global state)
and when a buffer grows large, DuckDB's JSON reader loads the buffer. A STATE
message is echoed only after every record before it is committed. Each
stream writes through its own DuckDB connection, so one stream's checkpoint
never commits another stream's rows. A stream is finished (an overwrite swapped
into place) only when its source marked it COMPLETE; input that ends sooner
rolls back what was not checkpointed and leaves the target as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import duckdb
import orjson
from airbyte_cdk.models import (
    AirbyteMessage,
    AirbyteStateType,
    AirbyteStreamStatus,
    ConfiguredAirbyteCatalog,
    TraceType,
    Type,
)

from worker import protocol
from worker.destination_duckdb._writer import TableWriter, columns_from_schema
from worker.errors import ConfigError, DestinationError, ProtocolError, WorkerError

logger = logging.getLogger(__name__)

RECORD_PREFIX = b'{"type":"RECORD","record":{"stream":"'
FLUSH_ROWS = 250_000


def open_database(path: str) -> duckdb.DuckDBPyConnection:
    """Open (or create) the DuckDB file at ``path`` with UTC as its zone."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        con = duckdb.connect(path)
    except (duckdb.Error, OSError) as error:
        raise DestinationError(
            f"The DuckDB file {path!r} could not be opened: {error}. Check the path "
            "and that no other process holds it open for writing."
        ) from error
    con.execute("SET TimeZone = 'UTC'")
    return con


class _Buffer:
    """RECORD lines of one stream waiting for DuckDB's JSON reader."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = open(path, "wb")
        self.rows = 0
        self.first_line = 0

    def reset(self) -> None:
        self.file = open(self.path, "wb")
        self.rows = 0


class WriteSession:
    """See the module docstring."""

    def __init__(self, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog) -> None:
        if not config.get("path"):
            raise ConfigError("The destination config has no path; set path to a .duckdb file.")
        self.path = config["path"]
        self.require_complete = config.get("require_stream_complete", True)
        self.con = open_database(self.path)
        self.spool = f"{os.path.abspath(self.path)}.etlkit-spool"
        os.makedirs(self.spool, exist_ok=True)

        self.writers: dict[str, TableWriter] = {}
        self.buffers: dict[bytes, _Buffer] = {}
        self.complete: set[str] = set()
        self.line = 0
        try:
            for configured in catalog.streams:
                self._add_stream(config, configured)
        except BaseException:
            self.abort()
            raise

    def run(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        """Consume protocol lines; yield the lines to echo (STATE and LOG)."""
        buffers = self.buffers
        prefix, start = RECORD_PREFIX, len(RECORD_PREFIX)
        try:
            for line in lines:
                self.line += 1
                if line.startswith(prefix):
                    buffer = buffers.get(line[start:line.find(b'"', start)])
                    if buffer is not None:
                        buffer.file.write(line)
                        buffer.rows += 1
                        if buffer.rows >= FLUSH_ROWS:
                            self._flush(buffer)
                        continue
                if line.strip():
                    yield from self._message(line)
            yield from self._close()
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Roll back every uncommitted write and remove stage tables."""
        for writer in self.writers.values():
            try:
                writer.abort()
            except duckdb.Error:
                logger.debug("abort of %s failed", writer.table, exc_info=True)
        self._cleanup()

    def _add_stream(self, config, configured) -> None:
        name = configured.stream.name
        if name in self.writers:
            raise ConfigError(f"The catalog names the stream {name!r} twice; keep one.")
        mode = configured.destination_sync_mode.value
        schema = config.get("schema") or configured.stream.namespace or "main"
        primary_key = [path[0] for path in configured.primary_key or []] or [
            path[0] for path in configured.stream.source_defined_primary_key or []]
        writer = TableWriter(
            self.con.cursor(), schema, name, columns_from_schema(configured.stream.json_schema),
            mode, primary_key,
        )
        writer.begin()
        self.writers[name] = writer
        self.buffers[name.encode()] = _Buffer(os.path.join(self.spool, f"{len(self.buffers)}.jsonl"))

    def _message(self, line: bytes) -> Iterator[bytes]:
        try:
            message = protocol.loads(line)
        except (orjson.JSONDecodeError, ValueError, TypeError, KeyError) as error:
            raise ProtocolError(
                f"Line {self.line} of the input is not an Airbyte message ({error}); "
                "the destination stopped and committed nothing after the last state."
            ) from error

        if message.type == Type.RECORD:
            self._record(message)
        elif message.type == Type.STATE:
            self._checkpoint(self._state_streams(message))
            yield protocol.dumps(message) + b"\n"
        elif message.type == Type.TRACE:
            self._trace(message)

    def _record(self, message: AirbyteMessage) -> None:
        buffer = self.buffers.get(message.record.stream.encode())
        if buffer is None:
            raise ProtocolError(
                f"Line {self.line} is a record of the stream {message.record.stream!r}, "
                f"which the catalog does not configure (it has {sorted(self.writers)}); "
                "add the stream to the catalog or leave it out of the read."
            )
        data = {"record": {"data": message.record.data}}
        buffer.file.write(orjson.dumps(data) + b"\n")
        buffer.rows += 1

    def _trace(self, message: AirbyteMessage) -> None:
        trace = message.trace
        if trace.type == TraceType.STREAM_STATUS and trace.stream_status:
            if trace.stream_status.status == AirbyteStreamStatus.COMPLETE:
                self.complete.add(trace.stream_status.stream_descriptor.name)
        elif trace.type == TraceType.ERROR and trace.error:
            raise DestinationError(
                f"The source reported an error at line {self.line}: "
                f"{trace.error.message} Nothing after the last state was committed."
            )

    def _flush(self, buffer: _Buffer) -> None:
        buffer.file.close()
        if buffer.rows:
            name = next(n for n, b in self.buffers.items() if b is buffer).decode()
            try:
                self.writers[name].add_records_file(buffer.path)
            except WorkerError as error:
                raise ProtocolError(
                    f"A RECORD of {name!r} before line {self.line} could not be loaded: "
                    f"{error}"
                ) from error
            if self.writers[name].mode == "overwrite":
                self.writers[name].checkpoint()
        buffer.reset()

    def _state_streams(self, message: AirbyteMessage) -> list[str]:
        """The streams a STATE message checkpoints: its own, or every stream."""
        state = message.state
        if state.type == AirbyteStateType.STREAM and state.stream is not None:
            name = state.stream.stream_descriptor.name
            if name in self.writers:
                return [name]
        return list(self.writers)

    def _checkpoint(self, names: list[str]) -> None:
        for name in names:
            self._flush(self.buffers[name.encode()])
            self.writers[name].checkpoint()

    def _close(self) -> Iterator[bytes]:
        missing = [n for n in self.writers if n not in self.complete]
        if not self.require_complete:
            missing = []
        for name, writer in self.writers.items():
            if name not in missing:
                self._flush(self.buffers[name.encode()])
                writer.finish()
        if missing:
            raise DestinationError(
                f"The input ended before the source marked {missing} COMPLETE; "
                "their overwrites were not swapped in and nothing after their last "
                "state was committed. Rerun the sync."
            )
        self._cleanup()
        summary = ", ".join(f"{n}={w.rows}" for n, w in self.writers.items())
        yield protocol.dumps(protocol.log(f"committed rows: {summary}")) + b"\n"

    def _cleanup(self) -> None:
        for buffer in self.buffers.values():
            buffer.file.close()
        shutil.rmtree(self.spool, ignore_errors=True)
        for con in [*(w.con for w in self.writers.values()), self.con]:
            try:
                con.close()
            except duckdb.Error:
                pass
