"""The demo: seed, move and prove the demo data set on the embedded default.

It compiles ``examples/demo.spec.yaml`` against the repository's registry
(chDB as ClickHouse, a DuckDB file), runs the worker as a separate process,
and reads back its evidence. The harness never touches rows: it reads the
worker's phase markers and its metrics file.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from etlkit import receipt
from etlkit.errors import ConnectorError
from etlkit.jobs import worker_job
from etlkit.registry import load_registry
from etlkit.runs import new_run_id, run_folder
from etlkit.spec import load_spec

logger = logging.getLogger(__name__)

PHASE_MARKER = "::CRABBOX_PHASE::"
DEMO_SPEC = Path("examples") / "demo.spec.yaml"


def run_demo(
    rows: int = receipt.PUBLISHED_ROWS,
    transport: str | None = None,
    reports: Path | None = None,
    on_phase: Callable[[str], None] = lambda name: None,
) -> dict:
    """Run the demo job once; return its summary (also in the run folder)."""
    registry = load_registry()
    root = registry.path.parent
    spec = load_spec(root / DEMO_SPEC)
    if transport:
        spec = spec.model_copy(update={"transport": transport})

    run_id = new_run_id("demo")
    folder = run_folder(reports or root / "reports", run_id)
    job = worker_job(spec, registry, folder, seed_rows=rows)
    (folder / "job.json").write_text(json.dumps(job, indent=2) + "\n")
    (folder / "spec.json").write_text(spec.canonical_json() + "\n")

    started = time.perf_counter()
    code = _run_worker(folder, on_phase)
    metrics = _read_metrics(folder, code)
    summary = _summary(run_id, folder, spec, metrics, time.perf_counter() - started)
    (folder / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _run_worker(folder: Path, on_phase: Callable[[str], None]) -> int:
    command = [
        sys.executable,
        "-m",
        "worker.sync",
        "--config",
        str(folder / "job.json"),
    ]
    with (
        open(folder / "worker.log", "w", encoding="utf-8") as log,
        open(folder / "worker.stderr.log", "w", encoding="utf-8") as errors,
    ):
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, bufsize=1
        )
        for line in process.stdout:
            log.write(line)
            if line.startswith(PHASE_MARKER):
                on_phase(line[len(PHASE_MARKER) :].strip())
        return process.wait()


def _read_metrics(folder: Path, code: int) -> dict:
    path = folder / "metrics.json"
    if not path.exists():
        raise ConnectorError(
            f"The worker exited with code {code} and wrote no metrics; read "
            f"{folder / 'worker.stderr.log'} for the cause."
        )
    return json.loads(path.read_text())


def _summary(run_id, folder, spec, metrics, seconds) -> dict:
    checks = metrics.get("checks", [])
    figures = receipt.figures(metrics)
    return {
        "run_id": run_id,
        "evidence": str(folder),
        "status": metrics.get("status"),
        "exit_code": metrics.get("exit_code"),
        "failure_class": metrics.get("failure_class"),
        "error": metrics.get("error"),
        "spec_hash": spec.digest(),
        "transport": metrics.get("transport"),
        "source": metrics.get("source", {}).get("engine", "ClickHouse")
        + " "
        + str(metrics.get("source", {}).get("version", "?")),
        "destination": "DuckDB "
        + str(metrics.get("destination", {}).get("version", "?")),
        "rows": metrics.get("records"),
        "batches": metrics.get("batches"),
        "bytes": metrics.get("bytes"),
        "revenue": figures["revenue"],
        "tally_event_type": figures["tally:event_type"],
        "content_sha256": figures["content_sha256"],
        "checks": {c["check"]: c["passed"] for c in checks},
        "checks_passed": sum(c["passed"] for c in checks),
        "checks_total": len(checks),
        "read_seconds": metrics.get("read_seconds"),
        "write_seconds": metrics.get("write_seconds"),
        "rows_per_second": metrics.get("rows_per_second"),
        "worker_wall_seconds": metrics.get("wall_seconds"),
        "demo_seconds": round(seconds, 3),
        "phases": metrics.get("phases", []),
        "matches_published_receipt": receipt.compare(metrics),
    }


def exit_code(summary: dict) -> int:
    """The demo's exit code: the worker's, or 0 when every check passed."""
    return int(summary.get("exit_code") or 0)
