"""One bounded, verified sync: ClickHouse to DuckDB, then the proof.

Run it as ``python -m worker.sync --config JOB.json`` or call :func:`run`.
The job file names the source and destination configs, the streams and
their modes, the transport, the checks and the output folder (see
``docs/sync.md``). The sync prints a ``::CRABBOX_PHASE::<name>`` line as each
phase starts, Airbyte LOG, STATE and TRACE messages as JSON lines, and one
``progress`` line per batch; it writes ``metrics.json`` and ``junit.xml`` and
exits non-zero unless every requested check passes.

Two transports move identical rows:

* ``fast``: Arrow batches from ClickHouse into DuckDB in this process;
* ``protocol``: the two connectors as separate processes, Airbyte messages
  on a pipe between them.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import duckdb
import psutil
from airbyte_cdk.models import ConfiguredAirbyteStream, SyncMode

from worker import analytics, catalog, evidence, parity, protocol, seed
from worker.clickhouse import connect, safe_url
from worker.destination_duckdb import TableWriter, open_database
from worker.errors import CheckFailure, WorkerError
from worker.job import Job, load_job
from worker.phases import Phases
from worker.relay import ProtocolPipe
from worker.source_clickhouse import Checkpoint, StreamReader, describe, paging_key
from worker.state import StateFile
from worker.stats import StreamStats, stream_stats, target_schema

logger = logging.getLogger(__name__)


def run(job: Job, emit: Callable[[str], None] = print) -> dict:
    """Run ``job``; return its metrics (also written to the output folder)."""
    phases = Phases(emit)
    phases.record("bootstrap", time.time() - psutil.Process().create_time())
    started = time.perf_counter()
    metrics: dict[str, Any] = {
        "schema_version": evidence.METRICS_VERSION,
        "transport": job.transport,
    }
    try:
        _run(job, phases, emit, metrics)
    except WorkerError as error:
        metrics.update(
            status="error",
            exit_code=error.exit_code,
            failure_class=error.failure_class,
            error=str(error),
        )
        emit(protocol.dumps(protocol.error_trace(error)).decode())
    except Exception as error:
        logger.exception("the sync stopped on an unexpected error")
        metrics.update(
            status="error",
            exit_code=1,
            failure_class=None,
            error=f"The sync stopped on an unexpected {type(error).__name__}: {error} "
            "This is a fault in etlkit; the traceback is on stderr.",
        )
        emit(protocol.dumps(protocol.error_trace(error)).decode())
    finally:
        metrics["phases"] = phases.as_list()
        metrics["wall_seconds"] = round(time.perf_counter() - started, 6)
        metrics["peak_rss_bytes"] = _peak_rss()
        with phases.phase("emit"):
            _write_evidence(job, metrics)
        metrics["phases"] = phases.as_list()
    return metrics


def _run(job: Job, phases: Phases, emit, metrics: dict) -> None:
    with phases.phase("boot_clickhouse"):
        client = connect(
            job.source["url"], job.source.get("username"), job.source.get("password")
        )
        metrics["source"] = {
            "engine": "ClickHouse",
            "version": client.server_version,
            "url": safe_url(job.source["url"]),
            "embedded": job.source["url"].startswith("chdb:"),
        }

    if job.seed:
        with phases.phase("seed"):
            seed.seed(
                job.source["url"],
                int(job.seed.get("rows", 50_000)),
                job.seed.get("database", "analytics"),
                job.seed.get("table", "events"),
                username=job.source.get("username"),
                password=job.source.get("password"),
            )

    with phases.phase("discover"):
        configured = catalog.configure(job.source, [s.selection() for s in job.streams])
        tables = {
            c.stream.name: describe(client, c.stream.namespace, c.stream.name)
            for c in configured.streams
        }
        emit(
            protocol.dumps(
                protocol.log(f"discovered {len(tables)} stream(s): {sorted(tables)}")
            ).decode()
        )

    stats = _move(job, phases, emit, configured, tables)
    _summarise(metrics, stats)

    with phases.phase("verify"):
        client = connect(
            job.source["url"], job.source.get("username"), job.source.get("password")
        )
        con = open_database(job.destination["path"])
        try:
            checks = _verify(job, client, con, configured, tables, stats)
            metrics["destination"]["version"] = con.execute(
                "SELECT version()"
            ).fetchall()[0][0]
        finally:
            con.close()
    metrics["checks"] = [c.as_dict() for c in checks]
    passed = sum(c.passed for c in checks)
    emit(
        protocol.dumps(protocol.log(f"checks passed: {passed}/{len(checks)}")).decode()
    )

    if job.analytics:
        with phases.phase("analytics"):
            con = duckdb.connect(job.destination["path"], read_only=True)
            try:
                first = stats[0]
                metrics["analytics"] = analytics.ANALYTICS[job.analytics](
                    con, first.target
                )
            finally:
                con.close()

    failed = [c.check for c in checks if not c.passed]
    metrics.update(
        status="failed" if failed else "passed",
        exit_code=0,
        failure_class=None,
        error=None,
    )
    if failed:
        error = CheckFailure(
            f"The check(s) {failed} did not pass; read junit.xml for the values on "
            "each side before changing one input and running again."
        )
        metrics.update(exit_code=error.exit_code, failure_class="F6", error=str(error))


def _move(job, phases, emit, configured, tables) -> list[StreamStats]:
    state = StateFile(job.state_path)
    if job.transport == "protocol":
        return _move_protocol(job, phases, emit, configured, tables, state)

    with phases.phase("write_setup"):
        con = open_database(job.destination["path"])
        writers = {
            c.stream.name: _writer(job, con, c, tables[c.stream.name])
            for c in configured.streams
        }
    with phases.phase("sync"):
        try:
            return [
                _move_fast(
                    job, emit, c, tables[c.stream.name], writers[c.stream.name], state
                )
                for c in configured.streams
            ]
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
        finally:
            con.close()


def _move_protocol(job, phases, emit, configured, tables, state) -> list[StreamStats]:
    pipe = ProtocolPipe(job, emit, configured, state)
    try:
        with phases.phase("write_setup"):
            pipe.start()
        with phases.phase("sync"):
            pipe.relay()
    finally:
        pipe.close()
    return pipe.moved_streams(tables)


def _writer(job, con, configured: ConfiguredAirbyteStream, table) -> TableWriter:
    primary_key = [p[0] for p in configured.primary_key or []]
    writer = TableWriter(
        con,
        target_schema(job, configured),
        configured.stream.name,
        table.columns,
        configured.destination_sync_mode.value,
        primary_key,
    )
    writer.begin()
    return writer


def _move_fast(job, emit, configured, table, writer, state) -> StreamStats:
    name, namespace = configured.stream.name, configured.stream.namespace
    stats = stream_stats(job, configured, table)
    incremental = configured.sync_mode == SyncMode.incremental
    key = paging_key(table, configured)
    resume = state.get(namespace, name, key) if incremental else None
    client = connect(
        job.source["url"], job.source.get("username"), job.source.get("password")
    )
    reader = StreamReader(
        client,
        table,
        key,
        page_rows=int(job.source.get("page_rows", 500_000)),
        after=resume,
    )
    emit(protocol.dumps(protocol.stream_status(name, namespace, "STARTED")).decode())

    batches = iter(reader.arrow_batches())
    while True:
        started = time.perf_counter()
        item = next(batches, None)
        stats.read_seconds += time.perf_counter() - started
        if item is None:
            break

        started = time.perf_counter()
        if isinstance(item, Checkpoint):
            writer.checkpoint()
            if incremental:
                stats.state = item.state()
                state.save(namespace, name, stats.state)
                emit(
                    protocol.dumps(
                        protocol.stream_state(name, namespace, stats.state)
                    ).decode()
                )
        else:
            writer.add_arrow(item)
            stats.records += item.num_rows
            stats.bytes += item.get_total_buffer_size()
            stats.batches += 1
            emit(
                f"progress stream={name} batch={stats.batches} rows={item.num_rows} "
                f"records={stats.records}"
            )
        stats.write_seconds += time.perf_counter() - started

    started = time.perf_counter()
    writer.finish()
    stats.write_seconds += time.perf_counter() - started
    emit(protocol.dumps(protocol.stream_status(name, namespace, "COMPLETE")).decode())
    return stats


def _verify(job, client, con, configured, tables, stats) -> list[parity.CheckResult]:
    results = []
    for c, moved in zip(configured.streams, stats):
        table = tables[c.stream.name]
        stream_job = next(s for s in job.streams if s.name == c.stream.name)
        sides = parity.Sides(
            source=client,
            source_table=f"`{table.database}`.`{table.name}`",
            target=con,
            target_table=moved.target,
            columns=table.columns,
            primary_key=[p[0] for p in c.primary_key or []] or table.primary_key,
            cursor=(c.cursor_field or [None])[0],
        )
        results.extend(
            parity.run_checks(
                sides,
                job.checks,
                stream_job.checksum_columns,
                stream_job.checksum_order,
            )
        )
    return results


def _summarise(metrics: dict, stats: list[StreamStats]) -> None:
    records = sum(s.records for s in stats)
    read = sum(s.read_seconds for s in stats)
    write = sum(s.write_seconds for s in stats)
    metrics["destination"] = {"engine": "DuckDB", "version": duckdb.__version__}
    metrics.update(
        records=records,
        bytes=sum(s.bytes for s in stats),
        batches=sum(s.batches for s in stats),
        read_seconds=round(read, 6),
        write_seconds=round(write, 6),
        rows_per_second=round(records / (read + write)) if read + write else None,
        source_start_seconds=round(
            max((s.source_start_seconds for s in stats), default=0), 6
        ),
        streams=[
            {
                **s.__dict__,
                "read_seconds": round(s.read_seconds, 6),
                "write_seconds": round(s.write_seconds, 6),
                "source_start_seconds": round(s.source_start_seconds, 6),
            }
            for s in stats
        ],
    )


def _write_evidence(job: Job, metrics: dict) -> None:
    os.makedirs(job.output_dir, exist_ok=True)
    evidence.write_json(os.path.join(job.output_dir, "metrics.json"), metrics)
    evidence.write_junit(
        os.path.join(job.output_dir, "junit.xml"),
        metrics.get("checks", []),
        suite="etlkit.sync",
        error=metrics.get("error") if metrics.get("status") == "error" else None,
    )


def _peak_rss() -> int:
    """Peak resident memory of this process and its finished children, in bytes."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    current = psutil.Process().memory_info().rss
    return max(own * 1024, children * 1024, current)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Run one verified sync from a job file."
    )
    parser.add_argument("--config", required=True, help="the job JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )

    def emit(line: str) -> None:
        print(line, flush=True)

    try:
        job = load_job(args.config)
    except WorkerError as error:
        return protocol.fail(error)
    metrics = run(job, emit)
    if metrics.get("error"):
        print(f"{metrics.get('failure_class')} {metrics['error']}", file=sys.stderr)
    return metrics["exit_code"]


if __name__ == "__main__":
    raise SystemExit(main())
