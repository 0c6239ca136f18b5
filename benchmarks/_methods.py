"""The measured methods of the sync benchmark, one method per fresh process.

``python benchmarks/_methods.py TASK.json`` runs the method the task names
against an already seeded chDB folder, into a DuckDB file of its own, and
writes the result (with this process's peak resident memory) as JSON to the
task's ``result`` path. A fresh process per method gives each one a cold
chDB handle, a clean heap and a peak memory figure that is its own.

The methods:

* ``fast_verified``: the fast transport with every default check;
* ``fast_move``: the fast transport, no checks;
* ``protocol``: the connectors as processes, Airbyte messages on a pipe;
* ``raw_bound``: one Arrow stream of the table straight into DuckDB;
* ``reference``: pages of 5,000 rows by LIMIT/OFFSET as JSON lines into
  DuckDB's JSON reader.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import duckdb

from worker import sync
from worker.clickhouse import connect
from worker.job import DEFAULT_CHECKS, Job

TABLE = "analytics.events"
PAGE_ORDER = "ts, event_id"
REFERENCE_PAGE_ROWS = 5_000
CHECKSUM = {
    "checksum_columns": ["event_id", "event_type", "revenue"],
    "checksum_order": ["event_id"],
}


def fast_verified(task: dict) -> dict:
    """The whole verified sync over the fast transport."""
    return _sync(task, transport="fast", checks=list(DEFAULT_CHECKS))


def fast_move(task: dict) -> dict:
    """The fast transport's move alone."""
    return _sync(task, transport="fast", checks=[])


def protocol(task: dict) -> dict:
    """The protocol transport's move alone, through the real pipe."""
    return _sync(task, transport="protocol", checks=[])


def raw_bound(task: dict) -> dict:
    """The table as one Arrow stream into DuckDB: no paging, checks or types."""
    started = time.perf_counter()
    client = connect(task["url"])
    con = duckdb.connect(task["duckdb"])

    moving = time.perf_counter()
    records = 0
    query = f"SELECT * FROM {TABLE}"
    with client.query_arrow_stream(query, use_strings=True) as stream:
        for batch in stream:
            _land_arrow(con, batch, first=records == 0)
            records += batch.num_rows
    con.close()
    finished = time.perf_counter()

    return _timed(records, finished - moving, finished - started)


def reference(task: dict) -> dict:
    """The published reference method: OFFSET pages of JSON lines."""
    started = time.perf_counter()
    client = connect(task["url"])
    con = duckdb.connect(task["duckdb"])
    page_file = os.path.join(os.path.dirname(task["duckdb"]), "reference-page.jsonl")

    moving = time.perf_counter()
    records = 0
    while True:
        body = client.raw_query(_offset_page_sql(records), fmt="JSONEachRow")
        rows = body.count(b"\n")
        if rows:
            with open(page_file, "wb") as handle:
                handle.write(body)
            _land_json(con, page_file, first=records == 0)
            records += rows
        if rows < REFERENCE_PAGE_ROWS:
            break
    con.close()
    finished = time.perf_counter()

    return _timed(records, finished - moving, finished - started)


def _sync(task: dict, transport: str, checks: list[str]) -> dict:
    """Run one sync in this process and keep the figures the benchmark reads."""
    job = Job.from_dict(
        {
            "source": {"url": task["url"], "database": "analytics"},
            "destination": {"path": task["duckdb"]},
            "streams": [{"name": "events", **CHECKSUM}],
            "output_dir": task["output_dir"],
            "transport": transport,
            "checks": checks,
        }
    )
    metrics = sync.run(job, emit=_quiet)
    if metrics.get("status") != "passed":
        raise RuntimeError(
            f"The {transport} sync ended {metrics.get('status')}: "
            f"{metrics.get('error')}"
        )

    phases = {p["name"]: p["seconds"] for p in metrics["phases"]}
    result = _timed(metrics["records"], phases["sync"], metrics["wall_seconds"])
    with_setup = phases["write_setup"] + phases["sync"]
    result.update(
        phases=phases,
        setup_and_sync_seconds=round(with_setup, 6),
        setup_and_sync_rows_per_second=round(metrics["records"] / with_setup),
        checks_passed=sum(c["passed"] for c in metrics.get("checks", [])),
        checks=len(metrics.get("checks", [])),
        source_version=metrics["source"]["version"],
        destination_version=metrics["destination"]["version"],
    )
    return result


def _land_arrow(con: duckdb.DuckDBPyConnection, batch, first: bool) -> None:
    con.register("arrow_batch", batch)
    if first:
        con.execute("CREATE TABLE events AS SELECT * FROM arrow_batch")
    else:
        con.execute("INSERT INTO events SELECT * FROM arrow_batch")
    con.unregister("arrow_batch")


def _offset_page_sql(offset: int) -> str:
    return (
        f"SELECT * FROM {TABLE} ORDER BY {PAGE_ORDER} "
        f"LIMIT {REFERENCE_PAGE_ROWS} OFFSET {offset}"
    )


def _land_json(con: duckdb.DuckDBPyConnection, path: str, first: bool) -> None:
    reader = f"read_json('{path}', format = 'newline_delimited')"
    if first:
        con.execute(f"CREATE TABLE events AS SELECT * FROM {reader}")
    else:
        con.execute(f"INSERT INTO events SELECT * FROM {reader}")


def _timed(records: int, seconds: float, wall_seconds: float) -> dict:
    return {
        "records": records,
        "seconds": round(seconds, 6),
        "rows_per_second": round(records / seconds) if seconds else None,
        "wall_seconds": round(wall_seconds, 6),
    }


def _quiet(line: str) -> None:
    """Drop the sync's phase, progress and protocol lines."""


def _peak_rss_bytes() -> int:
    """Peak resident memory of this process or any child it waited for."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) * 1024


METHODS = {
    "fast_verified": fast_verified,
    "fast_move": fast_move,
    "protocol": protocol,
    "raw_bound": raw_bound,
    "reference": reference,
}


def main(task_path: str) -> int:
    with open(task_path, encoding="utf-8") as handle:
        task = json.load(handle)

    result = METHODS[task["method"]](task)
    result["peak_rss_bytes"] = _peak_rss_bytes()

    with open(task["result"], "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
