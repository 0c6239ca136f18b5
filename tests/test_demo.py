"""``etlkit demo`` through the console script, as ``make demo`` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def etlkit(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "etlkit", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_demo_reproduces_the_published_receipt(tmp_path):
    finished = etlkit("demo", "--json", "--reports", str(tmp_path))

    assert finished.returncode == 0, finished.stderr
    summary = json.loads(finished.stdout)
    assert summary["status"] == "passed"
    assert summary["rows"] == 50_000
    assert summary["revenue"] == "611815.02"
    assert summary["checks_passed"] == summary["checks_total"] == 4
    assert summary["matches_published_receipt"] == {
        "rows": True,
        "revenue": True,
        "tally:event_type": True,
    }
    evidence = Path(summary["evidence"])
    assert evidence.parent == tmp_path
    for name in (
        "metrics.json",
        "junit.xml",
        "job.json",
        "spec.json",
        "summary.json",
        "worker.log",
    ):
        assert (evidence / name).is_file(), name


def test_demo_prints_a_readable_receipt(tmp_path):
    finished = etlkit("demo", "--rows", "2000", "--reports", str(tmp_path))

    assert finished.returncode == 0, finished.stderr
    lines = dict(line.split("=", 1) for line in finished.stdout.splitlines())
    assert lines["checks"].startswith("4/4 ")
    assert lines["published_receipt"].startswith("not compared")
    assert "phase=sync" in finished.stderr


def test_demo_refuses_a_row_count_below_one():
    finished = etlkit("demo", "--rows", "0")

    assert finished.returncode == 2
    assert "--rows must be at least 1" in finished.stderr
