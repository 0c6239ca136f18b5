"""Compiling a job spec into the worker's job file.

The spec holds refs and rules; the worker's job file holds connector configs
(without secret values), streams, checks and the output folder. This is the
one place the two vocabularies meet.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from etlkit.errors import PlanError
from etlkit.registry import Registry, destination_config, source_config
from etlkit.spec import JobSpec

WORKER_CHECKS = (
    "row_count",
    "decimal_sums",
    "tallies",
    "content_sha256",
    "full_row_sha256",
    "schema_drift",
    "freshness",
)


def worker_job(
    spec: JobSpec,
    registry: Registry,
    output_dir: Path,
    seed_rows: int | None = None,
    state_path: Path | None = None,
) -> dict[str, Any]:
    """The worker job that carries out ``spec``, writing evidence to ``output_dir``."""
    source = registry.resolve(spec.source_ref)
    target = registry.resolve(spec.target_ref)
    tables = list(spec.streams) or ([source.table] if source.table else [])
    if not tables:
        raise PlanError(
            f"The source ref {spec.source_ref!r} names no table and the spec lists no "
            "streams; name the table in the ref or list the streams."
        )
    unknown = [v for v in spec.validation if v not in WORKER_CHECKS]
    if unknown:
        raise PlanError(
            f"The validation(s) {unknown} have no worker check; use some of "
            f"{list(WORKER_CHECKS)}."
        )

    destination = destination_config(target)
    if target.table and len(tables) == 1 and target.table != tables[0]:
        raise PlanError(
            f"The target ref {spec.target_ref!r} names table {target.table!r} but the "
            f"stream is {tables[0]!r}; the worker writes each stream to a table of "
            "the same name, so make the two names match."
        )

    streams = [
        {
            "name": table,
            "sync_mode": spec.sync_mode.value,
            "cursor_field": spec.cursor_field,
            "primary_key": list(spec.primary_key) or None,
            "checksum_columns": list(spec.checksum_columns) or None,
        }
        for table in tables
    ]
    job: dict[str, Any] = {
        "source": source_config(source, tables),
        "destination": destination,
        "streams": streams,
        "transport": spec.transport,
        "checks": list(spec.validation),
        "output_dir": str(output_dir),
    }
    if seed_rows is not None:
        job["seed"] = {
            "rows": seed_rows,
            "database": source.namespace,
            "table": tables[0],
        }
        job["analytics"] = "demo"
    if state_path is not None:
        job["state_path"] = str(state_path)
    return job
