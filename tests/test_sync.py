"""The verified sync end to end: ``python -m worker.sync`` as a real process.

Each test gives the worker its own chDB folder and DuckDB file, because a
chDB folder can be open in one process at a time.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pytest

REPO = Path(__file__).resolve().parents[1]
DEMO_CHECKS = ["row_count", "decimal_sums", "tallies", "content_sha256"]


def make_job(tmp_path: Path, name: str = "run", **overrides) -> dict:
    job = {
        "source": {"url": f"chdb://{tmp_path / 'chdb'}", "database": "analytics"},
        "destination": {"path": str(tmp_path / "target.duckdb")},
        "streams": [
            {
                "name": "events",
                "checksum_columns": ["event_id", "event_type", "revenue"],
                "checksum_order": ["event_id"],
            }
        ],
        "output_dir": str(tmp_path / name),
        "checks": DEMO_CHECKS,
    }
    job.update(overrides)
    return job


def run_sync(tmp_path: Path, job: dict, name: str = "run"):
    path = tmp_path / f"{name}.job.json"
    path.write_text(json.dumps(job))
    finished = subprocess.run(
        [sys.executable, "-m", "worker.sync", "--config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    metrics_path = Path(job.get("output_dir", "")) / "metrics.json"
    metrics = json.loads(metrics_path.read_text()) if metrics_path.exists() else None
    return finished, metrics


def run_sql(url: str, *statements: str) -> None:
    code = (
        "import sys; from worker.clickhouse import connect; c = connect(sys.argv[1])\n"
        "for s in sys.argv[2:]: c.command(s)"
    )
    subprocess.run(
        [sys.executable, "-c", code, url, *statements],
        cwd=REPO,
        check=True,
        timeout=120,
    )


def comparison(metrics: dict, name: str) -> dict:
    for check in metrics["checks"]:
        for item in check["comparisons"]:
            if item["name"] == name:
                return item
    raise AssertionError(f"no comparison {name} in {metrics['checks']}")


def target_rows(path: Path, table: str = "analytics.events") -> int:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    finally:
        con.close()


def test_fast_sync_reproduces_the_published_receipt(tmp_path):
    job = make_job(tmp_path, seed={"rows": 50_000}, analytics="demo")

    finished, metrics = run_sync(tmp_path, job)

    assert finished.returncode == 0, finished.stderr
    assert metrics["status"] == "passed"
    assert metrics["records"] == 50_000
    assert comparison(metrics, "sum:revenue")["source"] == "611815.02"
    assert comparison(metrics, "sum:revenue")["destination"] == "611815.02"
    assert comparison(metrics, "tally:event_type")["destination"] == {
        "page_view": "29958",
        "search": "7598",
        "add_to_cart": "6014",
        "checkout": "3928",
        "purchase": "2502",
    }
    assert [c["check"] for c in metrics["checks"] if c["passed"]] == DEMO_CHECKS
    digest = comparison(metrics, "content_sha256")
    assert digest["source"] == digest["destination"] == _receipt_digest(50_000)
    assert metrics["analytics"]["funnel"][0] == {
        "event_type": "page_view",
        "events": 29958,
        "users": metrics["analytics"]["funnel"][0]["users"],
        "share_of_page_views": 1.0,
    }


def _receipt_digest(rows: int) -> str:
    """The receipt checksum computed in Python from the recipe itself."""
    import hashlib

    from worker.seed import reference_rows

    digest = hashlib.sha256()
    for row in reference_rows(rows):
        digest.update(f"{row[0]}|{row[3]}|{row[8]:.2f}\n".encode())
    return digest.hexdigest()


def test_phase_markers_progress_and_protocol_lines_on_stdout(tmp_path):
    job = make_job(tmp_path, seed={"rows": 3_000}, analytics="demo")

    finished, _ = run_sync(tmp_path, job)

    lines = finished.stdout.splitlines()
    phases = [
        line.split("::")[-1] for line in lines if line.startswith("::CRABBOX_PHASE::")
    ]
    assert phases == [
        "bootstrap",
        "boot_clickhouse",
        "seed",
        "discover",
        "write_setup",
        "sync",
        "verify",
        "analytics",
        "emit",
    ]
    assert any(line.startswith("progress stream=events batch=1 ") for line in lines)
    messages = [json.loads(line) for line in lines if line.startswith("{")]
    assert {m["type"] for m in messages} >= {"LOG", "TRACE"}


def test_both_transports_land_identical_rows(tmp_path):
    fast = make_job(
        tmp_path,
        "fast",
        seed={"rows": 20_000},
        checks=DEMO_CHECKS + ["full_row_sha256", "schema_drift"],
    )
    finished, fast_metrics = run_sync(tmp_path, fast, "fast")
    assert finished.returncode == 0, finished.stderr

    protocol = make_job(
        tmp_path,
        "protocol",
        transport="protocol",
        destination={"path": str(tmp_path / "protocol.duckdb")},
        checks=DEMO_CHECKS + ["full_row_sha256", "schema_drift"],
    )
    finished, protocol_metrics = run_sync(tmp_path, protocol, "protocol")
    assert finished.returncode == 0, finished.stderr

    for name in ("content_sha256", "full_row_sha256", "sum:revenue", "row_count"):
        assert (
            comparison(fast_metrics, name)["destination"]
            == comparison(protocol_metrics, name)["destination"]
        )
    assert protocol_metrics["records"] == fast_metrics["records"] == 20_000
    assert protocol_metrics["transport"] == "protocol"
    assert (tmp_path / "protocol" / "source.log").exists()


def test_a_failed_check_exits_6_and_is_a_failing_junit_case(tmp_path):
    appended = {"name": "events", "sync_mode": "full_refresh_append"}
    job = make_job(tmp_path, seed={"rows": 2_000}, streams=[appended])
    finished, metrics = run_sync(tmp_path, job)
    assert finished.returncode == 0, finished.stderr

    again = make_job(tmp_path, "again", streams=[appended])
    finished, metrics = run_sync(tmp_path, again, "again")

    assert finished.returncode == 6
    assert metrics["status"] == "failed" and metrics["failure_class"] == "F6"
    rows = comparison(metrics, "row_count")
    assert (rows["source"], rows["destination"], rows["passed"]) == (
        "2000",
        "4000",
        False,
    )
    suites = ET.parse(tmp_path / "again" / "junit.xml").getroot()
    failed = [
        case.get("name")
        for case in suites.iter("testcase")
        if case.find("failure") is not None
    ]
    assert "row_count" in failed
    assert "tally:event_type" in failed


def test_junit_has_one_case_per_comparison(tmp_path):
    job = make_job(tmp_path, seed={"rows": 1_000})

    finished, metrics = run_sync(tmp_path, job)

    assert finished.returncode == 0, finished.stderr
    suites = ET.parse(tmp_path / "run" / "junit.xml").getroot()
    cases = [case.get("name") for case in suites.iter("testcase")]
    expected = [c["name"] for check in metrics["checks"] for c in check["comparisons"]]
    assert cases == expected
    assert {s.get("name") for s in suites.iter("testsuite")} == set(DEMO_CHECKS)


def test_incremental_sync_resumes_from_its_state_file(tmp_path):
    url = f"chdb://{tmp_path / 'chdb'}"
    stream = {
        "name": "events",
        "sync_mode": "incremental_append",
        "cursor_field": "ts",
        "checksum_columns": ["event_id", "revenue"],
    }
    state = tmp_path / "state.json"
    first = make_job(
        tmp_path,
        "first",
        seed={"rows": 5_000},
        streams=[stream],
        state_path=str(state),
        source={"url": url, "database": "analytics", "page_rows": 2_000},
    )
    finished, metrics = run_sync(tmp_path, first, "first")
    assert finished.returncode == 0, finished.stderr
    assert metrics["records"] == 5_000
    saved = json.loads(state.read_text())
    assert saved[0]["stream"]["stream_state"]["after"][1] == 5_000

    run_sql(
        url,
        "INSERT INTO analytics.events SELECT event_id + 5000, user_id, "
        "session_id, event_type, channel, device, country, url, revenue, "
        "ts + 35000 FROM analytics.events WHERE event_id <= 1500",
    )
    second = make_job(
        tmp_path,
        "second",
        streams=[stream],
        state_path=str(state),
        source={"url": url, "database": "analytics", "page_rows": 2_000},
    )
    finished, metrics = run_sync(tmp_path, second, "second")

    assert finished.returncode == 0, finished.stderr
    assert metrics["records"] == 1_500
    assert comparison(metrics, "row_count")["destination"] == "6500"
    assert metrics["status"] == "passed"


def test_unknown_table_is_f4_with_evidence_and_no_target_table(tmp_path):
    job = make_job(tmp_path, seed={"rows": 10}, streams=[{"name": "evnets"}])

    finished, metrics = run_sync(tmp_path, job)

    assert finished.returncode == 4
    assert "analytics.evnets does not exist" in finished.stderr
    assert "events" in metrics["error"]
    assert metrics["status"] == "error" and metrics["failure_class"] == "F4"
    assert not (tmp_path / "target.duckdb").exists()


@pytest.mark.parametrize(
    "document, needle",
    [
        ("{not json", "could not be read as JSON"),
        ('{"source": {}}', "has no 'source'"),
        (
            '{"source": {"url": "chdb:///x"}, "destination": {"path": "x"}, "streams": ["e"], '
            '"output_dir": "o", "transport": "carrier-pigeon"}',
            "transport 'carrier-pigeon'",
        ),
        (
            '{"source": {"url": "chdb:///x"}, "destination": {"path": "x"}, "streams": ["e"], '
            '"output_dir": "o", "checks": ["vibes"]}',
            "Unknown check(s) ['vibes']",
        ),
    ],
)
def test_a_malformed_job_file_exits_2_naming_the_problem(tmp_path, document, needle):
    path = tmp_path / "job.json"
    path.write_text(document)

    finished = subprocess.run(
        [sys.executable, "-m", "worker.sync", "--config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert finished.returncode == 2
    assert needle in finished.stderr


def test_a_killed_overwrite_leaves_the_old_table_whole(tmp_path):
    job = make_job(tmp_path, "first", seed={"rows": 3_000})
    finished, _ = run_sync(tmp_path, job, "first")
    assert finished.returncode == 0, finished.stderr

    big = make_job(
        tmp_path,
        "killed",
        seed={"rows": 1_500_000},
        source={
            "url": f"chdb://{tmp_path / 'chdb'}",
            "database": "analytics",
            "page_rows": 100_000,
        },
    )
    path = tmp_path / "killed.job.json"
    path.write_text(json.dumps(big))
    process = subprocess.Popen(
        [sys.executable, "-m", "worker.sync", "--config", str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in process.stdout:
        if line.startswith("progress ") and "batch=3 " in line:
            break
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=60)

    assert target_rows(tmp_path / "target.duckdb") == 3_000
    after = make_job(tmp_path, "after")
    finished, metrics = run_sync(tmp_path, after, "after")
    assert finished.returncode == 0, finished.stderr
    assert metrics["records"] == 1_500_000
    con = duckdb.connect(str(tmp_path / "target.duckdb"), read_only=True)
    tables = [
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables"
        ).fetchall()
    ]
    con.close()
    assert tables == ["events"]


def test_a_secret_in_the_source_config_stays_out_of_the_evidence(tmp_path):
    secret = "canary-Pa55word-7f3c"
    job = make_job(
        tmp_path,
        "protocol",
        seed={"rows": 500},
        transport="protocol",
        source={
            "url": f"chdb://{tmp_path / 'chdb'}",
            "database": "analytics",
            "username": "default",
            "password": secret,
        },
    )

    finished, metrics = run_sync(tmp_path, job, "protocol")

    assert finished.returncode == 0, finished.stderr
    assert secret not in finished.stdout + finished.stderr
    for path in (tmp_path / "protocol").iterdir():
        assert secret not in path.read_text(errors="replace"), path.name


def test_fast_incremental_pages_and_resumes_on_a_datetime64_cursor(tmp_path):
    url = f"chdb://{tmp_path / 'chdb'}"
    run_sql(
        url,
        "CREATE DATABASE analytics",
        "CREATE TABLE analytics.ticks (id UInt64, at DateTime64(6, 'UTC'), "
        "price Decimal(10, 2)) ENGINE = MergeTree ORDER BY (at, id)",
        "INSERT INTO analytics.ticks SELECT number, toDateTime64('2024-01-01', 6, "
        "'UTC') + toIntervalMicrosecond(number * 7), number / 4 FROM numbers(1000)",
    )
    stream = {
        "name": "ticks",
        "sync_mode": "incremental_append",
        "cursor_field": "at",
        "checksum_columns": ["id", "at", "price"],
    }
    source = {"url": url, "database": "analytics", "page_rows": 300}
    state = tmp_path / "state.json"
    first = make_job(
        tmp_path, "first", streams=[stream], source=source, state_path=str(state)
    )
    finished, metrics = run_sync(tmp_path, first, "first")
    assert finished.returncode == 0, finished.stderr
    assert metrics["records"] == 1_000 and metrics["status"] == "passed"

    run_sql(
        url,
        "INSERT INTO analytics.ticks SELECT number, toDateTime64('2024-01-02', "
        "6, 'UTC') + toIntervalMicrosecond(number), 1 FROM numbers(1000, 200)",
    )
    second = make_job(
        tmp_path, "second", streams=[stream], source=source, state_path=str(state)
    )
    finished, metrics = run_sync(tmp_path, second, "second")

    assert finished.returncode == 0, finished.stderr
    assert metrics["records"] == 200
    assert comparison(metrics, "row_count")["destination"] == "1200"
    assert comparison(metrics, "content_sha256")["passed"]
