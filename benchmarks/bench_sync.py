"""Throughput and memory of moving the demo table from chDB into DuckDB.

``make bench`` (or ``python benchmarks/bench_sync.py``) seeds the demo table
once per row count in a temporary chDB folder, then runs each method of
``_methods.py`` in a fresh process of its own, one after another, each into
a new DuckDB file. At the base row count it measures all five methods; at the
big row count it repeats the fast transport and the raw bound to see how peak
memory grows. It prints a table and the targets' verdicts and writes every
figure, ratio, verdict and machine fact to ``reports/bench.json``.

``--rows 50000 --big-rows 100000`` makes a quick smoke run.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from importlib import metadata

import _targets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASE_METHODS = ("raw_bound", "fast_move", "fast_verified", "protocol", "reference")
BIG_METHODS = ("raw_bound", "fast_verified")
LABELS = {
    "fast_verified": "fast, all checks",
    "fast_move": "fast, move alone",
    "protocol": "protocol, move alone",
    "raw_bound": "raw bound",
    "reference": "reference (OFFSET JSON)",
}
PACKAGES = ("chdb", "duckdb", "clickhouse-connect", "pyarrow", "airbyte-cdk")


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    report = {"machine": machine_facts(), "rows": args.rows, "big_rows": args.big_rows}

    with tempfile.TemporaryDirectory(prefix="etlkit-bench-") as workdir:
        report["base"] = measure(workdir, args.rows, BASE_METHODS)
        report["big"] = measure(workdir, args.big_rows, BIG_METHODS)

    verdicts = _targets.judge(report["base"]["methods"], report["big"]["methods"])
    report["targets"] = [v.as_dict() for v in verdicts]

    print_table(report)
    print_verdicts(verdicts, args.rows, args.big_rows)
    _write(args.output, report)
    print(f"report={os.path.relpath(args.output, ROOT)}")
    return 0


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows",
        type=int,
        default=1_000_000,
        help="rows for every method (default 1,000,000)",
    )
    parser.add_argument(
        "--big-rows",
        type=int,
        default=5_000_000,
        help="rows for the memory repeat (default 5,000,000)",
    )
    parser.add_argument(
        "--output",
        default=os.path.join(ROOT, "reports", "bench.json"),
        help="where to write the JSON report",
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.big_rows < 1:
        parser.error("--rows and --big-rows must be positive row counts")
    return args


def machine_facts() -> dict:
    """What a reader needs to compare this run with another one."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return {
        "date": now.isoformat(timespec="seconds"),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_bytes": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {name: metadata.version(name) for name in PACKAGES},
        "commit": _commit(),
    }


def measure(workdir: str, rows: int, methods: tuple[str, ...]) -> dict:
    """Seed ``rows`` demo rows, then run each method in its own process."""
    url = "chdb://" + os.path.join(workdir, f"chdb-{rows}")
    seed_seconds = _seed(url, rows)

    results = {}
    for method in methods:
        print(f"measuring {method} rows={rows}", file=sys.stderr, flush=True)
        results[method] = run_method(workdir, url, rows, method)
    return {"rows": rows, "seed_seconds": seed_seconds, "methods": results}


def _seed(url: str, rows: int) -> float:
    print(f"seeding rows={rows}", file=sys.stderr, flush=True)
    started = time.perf_counter()
    _python("-m", "worker.seed", "--url", url, "--rows", str(rows))
    return round(time.perf_counter() - started, 3)


def run_method(workdir: str, url: str, rows: int, method: str) -> dict:
    """One method in a fresh process, into a DuckDB file of its own."""
    folder = os.path.join(workdir, f"{method}-{rows}")
    os.makedirs(folder)
    task = {
        "method": method,
        "url": url,
        "duckdb": os.path.join(folder, "target.duckdb"),
        "output_dir": os.path.join(folder, "evidence"),
        "result": os.path.join(folder, "result.json"),
    }
    task_path = os.path.join(folder, "task.json")
    with open(task_path, "w", encoding="utf-8") as handle:
        json.dump(task, handle)

    load_before = os.getloadavg()[0]
    try:
        _python(os.path.join(HERE, "_methods.py"), task_path)
    except subprocess.CalledProcessError as error:
        return {"error": _last_line(error.stderr), "load_before": load_before}

    with open(task["result"], encoding="utf-8") as handle:
        result = json.load(handle)
    result["load_before"] = round(load_before, 2)
    return result


def _python(*arguments: str) -> None:
    subprocess.run(
        [sys.executable, *arguments],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )


def print_table(report: dict) -> None:
    """One line per measured method and row count."""
    header = (
        f"{'method':<24} {'rows':>10} {'rows/s':>10} {'seconds':>8} "
        f"{'wall s':>8} {'peak RSS MiB':>12} {'setup+sync rows/s':>17}"
    )
    print(header)
    print("-" * len(header))
    for size in ("base", "big"):
        for method, result in report[size]["methods"].items():
            print(_table_line(LABELS[method], report[size]["rows"], result))


def _table_line(label: str, rows: int, result: dict) -> str:
    if "error" in result:
        return f"{label:<24} {rows:>10,} failed: {result['error']}"
    with_setup = result.get("setup_and_sync_rows_per_second")
    return (
        f"{label:<24} {rows:>10,} {result['rows_per_second']:>10,} "
        f"{result['seconds']:>8.3f} {result['wall_seconds']:>8.3f} "
        f"{result['peak_rss_bytes'] / 2**20:>12,.0f} "
        f"{'-' if with_setup is None else format(with_setup, ','):>17}"
    )


def print_verdicts(verdicts: list, rows: int, big_rows: int) -> None:
    """Each target's measured value next to its bound and verdict."""
    print()
    print(f"targets (base {rows:,} rows, big {big_rows:,} rows)")
    for verdict in verdicts:
        value = "-" if verdict.value is None else f"{verdict.value:,}"
        print(f"{verdict.verdict:<12} {verdict.statement:<52} measured {value}")


def _write(path: str, report: dict) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(report, handle, indent=2)
        handle.write("\n")


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or None


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def _last_line(text: str | None) -> str:
    lines = [line for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


if __name__ == "__main__":
    raise SystemExit(main())
