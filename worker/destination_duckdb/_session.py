"""One write session: protocol messages in, committed DuckDB tables out.

Input arrives in chunks of whole lines. A chunk that holds only RECORD lines
of one stream (the usual case) goes to that stream's buffer file whole, with
no per-line work in Python; other chunks are taken line by line. When a
buffer grows large, and at a stream's STATE message (every stream's for a
global state), DuckDB's JSON reader loads the buffer on a loader thread while
reading goes on. A STATE message is echoed only after every record before it
is committed. Each
stream writes through its own DuckDB connection, so one stream's checkpoint
never commits another stream's rows. A stream is finished (an overwrite swapped
into place) only when its source marked it COMPLETE; input that ends sooner
rolls back what was not checkpointed and leaves the target as it was.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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
PENDING_LOADS = 2
MEMORY_LIMIT = "256MB"


def open_database(path: str) -> duckdb.DuckDBPyConnection:
    """Open (or create) the DuckDB file at ``path`` with UTC as its zone.

    DuckDB may hold up to :data:`MEMORY_LIMIT` before it spills to disk, so
    writes and proofs of any size run in bounded memory.
    """
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        con = duckdb.connect(path)
    except (duckdb.Error, OSError) as error:
        raise DestinationError(
            f"The DuckDB file {path!r} could not be opened: {error}. Check the path "
            "and that no other process holds it open for writing."
        ) from error
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
    return con


class _Buffer:
    """RECORD lines of one stream waiting for DuckDB's JSON reader.

    Each flush hands the current file to the loader and starts a new one, so
    reading never waits for a load to finish.
    """

    def __init__(self, stream: str, folder: str, number: int) -> None:
        self.stream = stream
        self.prefix = RECORD_PREFIX + stream.encode() + b'"'
        self.folder = folder
        self.number = number
        self.files = 0
        self.rows = 0
        self.file = self._open()

    def rotate(self) -> str:
        """Close the current file, open the next; return the closed one's path."""
        self.file.close()
        path = self.file.name
        self.files += 1
        self.file = self._open()
        self.rows = 0
        return path

    def _open(self):
        return open(
            os.path.join(self.folder, f"{self.number}-{self.files}.jsonl"), "wb"
        )


class _Loader:
    """Runs DuckDB work on one thread, in order; reports its first error."""

    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="etlkit-load")
        self.pending: deque[Future] = deque()

    def submit(self, work: Callable[[], None]) -> None:
        """Queue ``work``; wait while too many loads are in flight."""
        self._reap()
        while len(self.pending) >= PENDING_LOADS:
            self.pending.popleft().result()
        self.pending.append(self.executor.submit(work))

    def drain(self) -> None:
        """Wait for every queued piece of work; raise the first error."""
        while self.pending:
            self.pending.popleft().result()

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)

    def _reap(self) -> None:
        while self.pending and self.pending[0].done():
            self.pending.popleft().result()


class WriteSession:
    """See the module docstring."""

    def __init__(
        self, config: Mapping[str, Any], catalog: ConfiguredAirbyteCatalog
    ) -> None:
        if not config.get("path"):
            raise ConfigError(
                "The destination config has no path; set path to a .duckdb file."
            )
        self.path = config["path"]
        self.require_complete = config.get("require_stream_complete", True)
        self.con = open_database(self.path)
        self.spool = f"{os.path.abspath(self.path)}.etlkit-spool"
        os.makedirs(self.spool, exist_ok=True)

        self.writers: dict[str, TableWriter] = {}
        self.buffers: dict[bytes, _Buffer] = {}
        self.complete: set[str] = set()
        self.line = 0
        self.loader = _Loader()
        try:
            for configured in catalog.streams:
                self._add_stream(config, configured)
        except BaseException:
            self.abort()
            raise

    def run(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """Consume chunks of whole protocol lines; yield the lines to echo."""
        yield (
            protocol.dumps(protocol.log(f"ready to write {sorted(self.writers)}"))
            + b"\n"
        )
        try:
            for chunk in chunks:
                buffer = self._single_stream(chunk)
                if buffer is None:
                    yield from self._lines(chunk)
                    continue
                rows = chunk.count(b"\n")
                buffer.file.write(chunk)
                buffer.rows += rows
                self.line += rows
                if buffer.rows >= FLUSH_ROWS:
                    self._flush(buffer)
            yield from self._close()
        except BaseException:
            self.abort()
            raise

    def _single_stream(self, chunk: bytes) -> _Buffer | None:
        """The buffer of the one stream every line of ``chunk`` is a record of."""
        if not chunk.startswith(RECORD_PREFIX):
            return None
        start = len(RECORD_PREFIX)
        buffer = self.buffers.get(chunk[start : chunk.find(b'"', start)])
        if buffer is None or not chunk.startswith(buffer.prefix):
            return None
        records = 1 + chunk.count(b"\n" + buffer.prefix)
        return buffer if records == chunk.count(b"\n") else None

    def _lines(self, chunk: bytes) -> Iterator[bytes]:
        prefix, start = RECORD_PREFIX, len(RECORD_PREFIX)
        for line in chunk.splitlines(keepends=True):
            self.line += 1
            if line.startswith(prefix):
                buffer = self.buffers.get(line[start : line.find(b'"', start)])
                if buffer is not None:
                    buffer.file.write(line)
                    buffer.rows += 1
                    if buffer.rows >= FLUSH_ROWS:
                        self._flush(buffer)
                    continue
            if line.strip():
                yield from self._message(line)

    def abort(self) -> None:
        """Roll back every uncommitted write and remove stage tables."""
        self.loader.close()
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
            path[0] for path in configured.stream.source_defined_primary_key or []
        ]
        writer = TableWriter(
            self.con.cursor(),
            schema,
            name,
            columns_from_schema(configured.stream.json_schema),
            mode,
            primary_key,
        )
        writer.begin()
        self.writers[name] = writer
        self.buffers[name.encode()] = _Buffer(name, self.spool, len(self.buffers))

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
        """Hand the buffer's rows to the loader; an overwrite's stage commits too."""
        if not buffer.rows:
            return
        writer, line = self.writers[buffer.stream], self.line
        path = buffer.rotate()

        def load() -> None:
            try:
                writer.add_records_file(path)
            except WorkerError as error:
                raise ProtocolError(
                    f"A RECORD of {buffer.stream!r} before line {line} could not be "
                    f"loaded: {error}"
                ) from error
            finally:
                os.remove(path)
            if writer.mode == "overwrite":
                writer.checkpoint()

        self.loader.submit(load)

    def _state_streams(self, message: AirbyteMessage) -> list[str]:
        """The streams a STATE message checkpoints: its own, or every stream."""
        state = message.state
        if state.type == AirbyteStateType.STREAM and state.stream is not None:
            name = state.stream.stream_descriptor.name
            if name in self.writers:
                return [name]
        return list(self.writers)

    def _checkpoint(self, names: list[str]) -> None:
        """Load and commit every buffered row of ``names``, then return."""
        for name in names:
            self._flush(self.buffers[name.encode()])
        self.loader.drain()
        for name in names:
            self.writers[name].checkpoint()

    def _close(self) -> Iterator[bytes]:
        missing = [n for n in self.writers if n not in self.complete]
        if not self.require_complete:
            missing = []
        for name in self.writers:
            if name not in missing:
                self._flush(self.buffers[name.encode()])
        self.loader.drain()
        for name, writer in self.writers.items():
            if name not in missing:
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
        self.loader.close()
        for buffer in self.buffers.values():
            buffer.file.close()
        shutil.rmtree(self.spool, ignore_errors=True)
        for con in [*(w.con for w in self.writers.values()), self.con]:
            try:
                con.close()
            except duckdb.Error:
                pass
