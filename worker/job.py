"""The worker's job file: what one sync moves, how, and how it is proved.

``docs/sync.md`` documents every field. Unknown fields are errors, so a typo
never silently changes what a run does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from worker import analytics, parity
from worker.errors import ConfigError

TRANSPORTS = ("fast", "protocol")
DEFAULT_CHECKS = ("row_count", "decimal_sums", "tallies", "content_sha256")


@dataclass
class StreamJob:
    """One stream of a job: the table, its modes and its checksum columns."""

    name: str
    namespace: str | None = None
    sync_mode: str = "full_refresh_overwrite"
    cursor_field: str | None = None
    primary_key: list[str] | None = None
    checksum_columns: list[str] | None = None
    checksum_order: list[str] | None = None

    def selection(self) -> dict:
        return {
            "name": self.name,
            "namespace": self.namespace,
            "sync_mode": self.sync_mode,
            "cursor_field": self.cursor_field,
            "primary_key": self.primary_key,
        }


@dataclass
class Job:
    """A parsed, checked job file."""

    source: dict
    destination: dict
    streams: list[StreamJob]
    output_dir: str
    transport: str = "fast"
    checks: list[str] = field(default_factory=lambda: list(DEFAULT_CHECKS))
    seed: dict | None = None
    analytics: str | None = None
    state_path: str | None = None

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> "Job":
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(document) - known)
        if unknown:
            raise ConfigError(
                f"The job has unknown field(s) {unknown}; allowed: {sorted(known)}."
            )
        for required in ("source", "destination", "streams", "output_dir"):
            if not document.get(required):
                raise ConfigError(
                    f"The job has no {required!r}; add it to the job file."
                )

        streams = []
        for index, entry in enumerate(document["streams"]):
            entry = {"name": entry} if isinstance(entry, str) else dict(entry)
            try:
                streams.append(StreamJob(**entry))
            except TypeError as error:
                raise ConfigError(f"streams[{index}] is malformed: {error}.") from error
        job = cls(**{**document, "streams": streams})

        if job.transport not in TRANSPORTS:
            raise ConfigError(
                f"The transport {job.transport!r} is unknown; use fast or protocol."
            )
        bad = [c for c in job.checks if c not in parity.CHECKS]
        if bad:
            raise ConfigError(
                f"Unknown check(s) {bad}; choose from {list(parity.CHECKS)}."
            )
        if job.analytics and job.analytics not in analytics.ANALYTICS:
            raise ConfigError(
                f"The analytics {job.analytics!r} is unknown; use one of "
                f"{sorted(analytics.ANALYTICS)} or leave it out."
            )
        return job


def load_job(path: str) -> Job:
    """Read and check a job file."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, json.JSONDecodeError) as error:
        raise ConfigError(
            f"The job file {path!r} could not be read as JSON: {error}."
        ) from error
    if not isinstance(document, dict):
        raise ConfigError(
            f"The job file {path!r} holds {type(document).__name__}, not an object."
        )
    return Job.from_dict(document)
