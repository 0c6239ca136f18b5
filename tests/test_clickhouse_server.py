"""The real-server path: an ``http(s)://`` ClickHouse through the same code as chDB.

These tests need a running server; set ``ETLKIT_TEST_CLICKHOUSE_URL`` (for example
``http://default:@localhost:8123``). Without it they are skipped, and the skip
reason says so.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVER = os.environ.get("ETLKIT_TEST_CLICKHOUSE_URL")

pytestmark = pytest.mark.skipif(
    not SERVER, reason="no ClickHouse server: set ETLKIT_TEST_CLICKHOUSE_URL to run"
)


def server_source() -> dict:
    parts = urlsplit(SERVER)
    url = parts._replace(netloc=f"{parts.hostname}:{parts.port or 8123}").geturl()
    return {
        "url": url,
        "database": "etlkit_test",
        "username": parts.username or "default",
        "password": parts.password or "",
    }


@pytest.mark.parametrize("transport", ["fast", "protocol"])
def test_a_verified_sync_from_a_real_server(tmp_path, transport):
    job = {
        "source": server_source(),
        "destination": {"path": str(tmp_path / "target.duckdb")},
        "streams": [
            {
                "name": "events",
                "checksum_columns": ["event_id", "event_type", "revenue"],
            }
        ],
        "output_dir": str(tmp_path / "out"),
        "transport": transport,
        "seed": {"rows": 50_000, "database": "etlkit_test"},
    }
    path = tmp_path / "job.json"
    path.write_text(json.dumps(job))

    finished = subprocess.run(
        [sys.executable, "-m", "worker.sync", "--config", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert finished.returncode == 0, finished.stderr
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["source"]["embedded"] is False
    assert metrics["status"] == "passed"
    revenue = [
        c
        for check in metrics["checks"]
        for c in check["comparisons"]
        if c["name"] == "sum:revenue"
    ][0]
    assert revenue["destination"] == "611815.02"
