"""Run ids and the folders runs write their evidence into."""

from __future__ import annotations

import secrets
from datetime import datetime, timezone
from pathlib import Path


def new_run_id(kind: str) -> str:
    """A durable, sortable run id: ``<kind>-<UTC time>-<6 hex>``."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return f"{kind}-{stamp}-{secrets.token_hex(3)}"


def run_folder(reports: Path, run_id: str) -> Path:
    """Create and return ``reports/<run_id>``; refuse to reuse one."""
    folder = reports / run_id
    folder.mkdir(parents=True, exist_ok=False)
    return folder
