"""The protocol transport: source and destination as separate processes.

The source's stdout is relayed in large chunks to the destination's stdin
(the relay counts records and bytes without parsing them); the
destination's stdout (STATE echoed after each commit, LOG) is read on a
thread and re-emitted. Connector configs live in a private folder that is
removed afterwards, so a password in the source config is never left in the
evidence.
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

RECORD = b'{"type":"RECORD"'
CHUNK = 1 << 20


def move_protocol(job, emit, configured, tables, state) -> list:
    """Move every configured stream through the two connector processes."""
    from worker.sync import _stream_stats

    private = tempfile.mkdtemp(prefix="etlkit-connectors-")
    try:
        paths = _write_configs(private, job, configured)
        if is_embedded(job.source["url"]):
            release(job.source["url"])
        counts, totals = _pipe(job, emit, paths, state)
    finally:
        shutil.rmtree(private, ignore_errors=True)

    stats = []
    for c in configured.streams:
        stream = _stream_stats(job, c, tables[c.stream.name])
        stream.records = counts.get(c.stream.name, 0)
        stream.state = state.streams.get((c.stream.namespace, c.stream.name))
        stats.append(stream)
    share = max(1, len(stats))
    for stream in stats:
        stream.bytes = totals["bytes"] // share
        stream.batches = totals["batches"] // share
        stream.read_seconds = totals["read_seconds"] / share
        stream.write_seconds = totals["write_seconds"] / share
    return stats


def _write_configs(folder: str, job, configured) -> dict:
    os.chmod(folder, 0o700)
    paths = {name: os.path.join(folder, f"{name}.json")
             for name in ("source", "destination", "catalog")}
    documents = {
        "source": job.source,
        "destination": {**job.destination},
        "catalog": catalog.dump(configured),
    }
    for name, document in documents.items():
        with open(paths[name], "w", encoding="utf-8") as handle:
            json.dump(document, handle)
    if state_path := (job.state_path if os.path.exists(job.state_path or "") else None):
        paths["state"] = state_path
    return paths


def _pipe(job, emit, paths, state) -> tuple[dict, dict]:
    os.makedirs(job.output_dir, exist_ok=True)
    source_log = open(os.path.join(job.output_dir, "source.log"), "wb")
    destination_log = open(os.path.join(job.output_dir, "destination.log"), "wb")
    python = sys.executable

    read_command = [python, "-m", "worker.source_clickhouse", "read",
                    "--config", paths["source"], "--catalog", paths["catalog"]]
    if "state" in paths:
        read_command += ["--state", paths["state"]]
    source = subprocess.Popen(read_command, stdout=subprocess.PIPE, stderr=source_log)
    destination = subprocess.Popen(
        [python, "-m", "worker.destination_duckdb", "write",
         "--config", paths["destination"], "--catalog", paths["catalog"]],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=destination_log)

    counts: dict[str, int] = {}
    echo = threading.Thread(
        target=_echo, args=(destination.stdout, emit, state, counts), daemon=True)
    echo.start()
    totals = _relay(source, destination, emit)

    source_code = source.wait()
    started = time.perf_counter()
    destination_code = destination.wait()
    echo.join()
    totals["write_seconds"] += time.perf_counter() - started
    source_log.close()
    destination_log.close()

    if source_code != 0:
        raise SourceError(
            f"The source connector exited with code {source_code}: "
            f"{_last_line(source_log.name)} Nothing after the last state was committed.")
    if destination_code != 0:
        raise DestinationError(
            f"The destination connector exited with code {destination_code}: "
            f"{_last_line(destination_log.name)}")
    return counts, totals


def _relay(source, destination, emit) -> dict:
    totals = {"bytes": 0, "batches": 0, "records": 0,
              "read_seconds": 0.0, "write_seconds": 0.0}
    read, write = source.stdout.raw.read, destination.stdin.write
    try:
        while True:
            started = time.perf_counter()
            chunk = read(CHUNK)
            totals["read_seconds"] += time.perf_counter() - started
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
                emit(f"progress transport=protocol batch={totals['batches']} "
                     f"rows={records} records={totals['records']}")
    except BrokenPipeError:
        source.kill()
    finally:
        try:
            destination.stdin.close()
        except BrokenPipeError:
            pass
    return totals


def _echo(stream, emit, state, counts) -> None:
    for line in stream:
        try:
            message = protocol.loads(line)
        except ValueError:
            continue
        if message.type.value == "STATE" and message.state.stream:
            descriptor = message.state.stream.stream_descriptor
            blob = message.state.stream.stream_state
            state.save(descriptor.namespace, descriptor.name, dict(blob.__dict__))
        elif message.type.value == "LOG" and message.log.message.startswith("committed rows: "):
            for pair in message.log.message.removeprefix("committed rows: ").split(", "):
                name, _, count = pair.partition("=")
                counts[name] = int(count)
        emit(line.decode().rstrip("\n"))


def _last_line(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(no output)"
