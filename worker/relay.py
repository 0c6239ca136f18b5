"""The protocol transport: source and destination as separate processes.

Both connector processes start in ``write_setup``: the destination sets up its
tables and says it is ready with a LOG message, while the source starts and
waits on the pipe until the relay reads it in ``sync``. The source's
stdout is relayed in large chunks to the destination's stdin: the relay
counts records and bytes without parsing them. The destination's stdout
(STATE echoed after each commit, LOG) is read on a thread and re-emitted.
Connector configs live in a private folder that is removed afterwards, so a
password in the source config is never left in the evidence.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from worker import catalog, protocol
from worker.clickhouse import is_embedded, release
from worker.errors import DestinationError, SourceError
from worker.stats import StreamStats, stream_stats

RECORD = b'{"type":"RECORD"'
READY = "ready to write"
COMMITTED = "committed rows: "
CHUNK = 1 << 20
READY_TIMEOUT = 120


class ProtocolPipe:
    """One protocol sync: two connector processes and the pipe between them."""

    def __init__(self, job, emit, configured, state) -> None:
        self.job = job
        self.emit = emit
        self.configured = configured
        self.state = state
        self.private = tempfile.mkdtemp(prefix="etlkit-connectors-")
        self.paths = _write_configs(self.private, job, configured)
        os.makedirs(job.output_dir, exist_ok=True)
        self.logs = {
            name: open(os.path.join(job.output_dir, f"{name}.log"), "wb")
            for name in ("source", "destination")
        }
        self.counts: dict[str, int] = {}
        self.ready = threading.Event()
        self.source = None
        self.destination = None
        self.echo = None
        self.totals = {
            "bytes": 0,
            "batches": 0,
            "records": 0,
            "read_seconds": 0.0,
            "write_seconds": 0.0,
            "source_start_seconds": 0.0,
        }

    def start(self) -> None:
        """Start both connectors; return when the destination's tables are set up."""
        self.destination = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker.destination_duckdb",
                "write",
                "--config",
                self.paths["destination"],
                "--catalog",
                self.paths["catalog"],
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.logs["destination"],
        )
        self.echo = threading.Thread(target=self._echo, daemon=True)
        self.echo.start()
        self.source = self._start_source()

        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready.wait(0.05):
            if self.destination.poll() is not None or time.monotonic() > deadline:
                self._close_destination()
                raise DestinationError(
                    "The destination connector did not get ready: "
                    f"{_last_line(self.logs['destination'].name)}"
                )

    def relay(self) -> None:
        """Relay the source's output to the destination until both end."""
        self._relay(self.source)
        source_code = self.source.wait()
        started = time.perf_counter()
        destination_code = self._close_destination()
        self.totals["write_seconds"] += time.perf_counter() - started

        if source_code != 0:
            raise SourceError(
                f"The source connector exited with code {source_code}: "
                f"{_last_line(self.logs['source'].name)} Nothing after the last state "
                "was committed."
            )
        if destination_code != 0:
            raise DestinationError(
                f"The destination connector exited with code {destination_code}: "
                f"{_last_line(self.logs['destination'].name)}"
            )

    def moved_streams(self, tables) -> list[StreamStats]:
        """Per-stream figures; the relay's timings are shared out by records."""
        stats = []
        for c in self.configured.streams:
            stream = stream_stats(self.job, c, tables[c.stream.name])
            stream.records = self.counts.get(c.stream.name, 0)
            stream.state = self.state.streams.get((c.stream.namespace, c.stream.name))
            stats.append(stream)

        total = max(1, sum(s.records for s in stats))
        for stream in stats:
            share = stream.records / total if len(stats) > 1 else 1.0
            stream.bytes = round(self.totals["bytes"] * share)
            stream.batches = round(self.totals["batches"] * share)
            stream.read_seconds = self.totals["read_seconds"] * share
            stream.write_seconds = self.totals["write_seconds"] * share
            stream.source_start_seconds = self.totals["source_start_seconds"]
        return stats

    def close(self) -> None:
        """Stop what still runs; remove the private configs."""
        for process in (self.source, self.destination):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        for log in self.logs.values():
            log.close()
        shutil.rmtree(self.private, ignore_errors=True)

    def _start_source(self) -> subprocess.Popen:
        if is_embedded(self.job.source["url"]):
            release(self.job.source["url"])
        command = [
            sys.executable,
            "-m",
            "worker.source_clickhouse",
            "read",
            "--config",
            self.paths["source"],
            "--catalog",
            self.paths["catalog"],
        ]
        if "state" in self.paths:
            command += ["--state", self.paths["state"]]
        return subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=self.logs["source"]
        )

    def _relay(self, source) -> None:
        totals = self.totals
        read, write = source.stdout.raw.read, self.destination.stdin.write
        started_at = time.perf_counter()
        try:
            while True:
                started = time.perf_counter()
                chunk = read(CHUNK)
                waited = time.perf_counter() - started
                if not totals["bytes"]:
                    totals["source_start_seconds"] = time.perf_counter() - started_at
                else:
                    totals["read_seconds"] += waited
                if not chunk:
                    break

                records = chunk.count(RECORD)
                started = time.perf_counter()
                write(chunk)
                totals["write_seconds"] += time.perf_counter() - started
                totals["bytes"] += len(chunk)
                if records:
                    totals["records"] += records
                    totals["batches"] += 1
                    self.emit(
                        f"progress transport=protocol batch={totals['batches']} "
                        f"rows={records} records={totals['records']}"
                    )
        except BrokenPipeError:
            source.kill()

    def _close_destination(self) -> int:
        try:
            self.destination.stdin.close()
        except BrokenPipeError:
            pass
        code = self.destination.wait()
        self.echo.join()
        return code

    def _echo(self) -> None:
        for line in self.destination.stdout:
            try:
                message = protocol.loads(line)
            except ValueError:
                continue
            if message.type.value == "STATE" and message.state.stream:
                descriptor = message.state.stream.stream_descriptor
                blob = message.state.stream.stream_state
                self.state.save(
                    descriptor.namespace, descriptor.name, dict(blob.__dict__)
                )
            elif message.type.value == "LOG" and message.log.message.startswith(READY):
                self.ready.set()
            elif message.type.value == "LOG" and message.log.message.startswith(
                COMMITTED
            ):
                for pair in message.log.message.removeprefix(COMMITTED).split(", "):
                    name, _, count = pair.partition("=")
                    self.counts[name] = int(count)
            self.emit(line.decode().rstrip("\n"))


def _write_configs(folder: str, job, configured) -> dict:
    os.chmod(folder, 0o700)
    paths = {
        name: os.path.join(folder, f"{name}.json")
        for name in ("source", "destination", "catalog")
    }
    documents = {
        "source": job.source,
        "destination": job.destination,
        "catalog": catalog.dump(configured),
    }
    for name, document in documents.items():
        with open(paths[name], "w", encoding="utf-8") as handle:
            json.dump(document, handle)
    if job.state_path and os.path.exists(job.state_path):
        paths["state"] = job.state_path
    return paths


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(no output)"
