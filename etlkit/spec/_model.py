"""The job spec: a typed model of what one run moves and how it is proved.

A spec holds references and rules only. It names connections through refs, a
credential profile by name and env variables by pattern; it never holds a
secret value or a row. Unknown fields are errors.
"""

from __future__ import annotations

import hashlib
import json
from enum import Enum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

KNOWN_VALIDATIONS: dict[str, str] = {
    "row_count": "rows in the source and the target are equal",
    "decimal_sums": "exact sums of decimal and integer columns are equal",
    "tallies": "group-by counts of low-cardinality columns are equal",
    "content_sha256": "an order-independent SHA-256 of the checksum columns",
    "full_row_sha256": "an order-independent SHA-256 of every column",
    "schema_drift": "the target's columns and types match the source catalog",
    "freshness": "the newest cursor value arrived in the target",
}

RETRY_CLASSES: dict[str, str] = {
    "rate_limit": "the source or target asked to slow down",
    "transient_network": "a connection dropped or was refused for a moment",
    "capacity": "no sandbox or lease was available",
    "timeout": "the run went past timeout_seconds",
    "partial_write": "the target may hold part of a write (needs idempotency_key)",
}

UNSAFE_WITHOUT_IDEMPOTENCY = frozenset({"partial_write"})


def _names_schema(names: dict[str, str]) -> dict[str, object]:
    """Schema of a list drawn from ``names``; the model leaves unknown names to lint."""
    return {"items": {"type": "string", "enum": list(names)}}


class SyncMode(str, Enum):
    """How rows are read from the source and written to the target."""

    FULL_REFRESH_OVERWRITE = "full_refresh_overwrite"
    FULL_REFRESH_APPEND = "full_refresh_append"
    INCREMENTAL_APPEND = "incremental_append"
    INCREMENTAL_APPEND_DEDUP = "incremental_append_dedup"

    @property
    def is_incremental(self) -> bool:
        """Whether the source reads from a cursor onwards."""
        return self.value.startswith("incremental")

    @property
    def deduplicates(self) -> bool:
        """Whether the target keeps one row per primary key."""
        return self is SyncMode.INCREMENTAL_APPEND_DEDUP


class RetryPolicy(BaseModel):
    """Which failures a run may be retried on, and how often."""

    model_config = ConfigDict(extra="forbid")

    max_attempts: int = Field(
        default=1,
        ge=1,
        le=10,
        description="Attempts in all, the first included; 1 means never retry.",
    )
    when: list[str] = Field(
        default_factory=list,
        description="Error classes that may be retried: "
        + ", ".join(RETRY_CLASSES)
        + ". partial_write needs an idempotency_key.",
        json_schema_extra=_names_schema(RETRY_CLASSES),
    )


class JobSpec(BaseModel):
    """One planned movement from a source ref to a target ref, and its proof."""

    model_config = ConfigDict(
        extra="forbid",
        title="etlkit job spec",
    )

    movement: Literal["source_to_target"] = Field(
        default="source_to_target",
        description="The kind of movement; only source_to_target for now.",
    )
    source_ref: str = Field(
        description="'<connection>.<namespace>.<table>' (or '<connection>."
        "<namespace>' with streams) of a registered ClickHouse connection, "
        "e.g. 'source.analytics.events'.",
    )
    target_ref: str = Field(
        description="'<connection>.<namespace>[.<table>]' of a registered DuckDB "
        "connection, e.g. 'warehouse.analytics.events'.",
    )
    credential_profile: str | None = Field(
        default=None,
        description="The name of a credential profile; never a value.",
    )
    allow_env: list[str] = Field(
        default_factory=list,
        description="Env variable name patterns ('SOURCE_*') that may enter the "
        "sandbox from the profile.",
    )
    idempotency_key: str | None = Field(
        default=None,
        description="Same key, same effect: a repeated run never duplicates rows. "
        "Letters, digits and . _ : - (3 to 128 characters).",
    )
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    validation: list[str] = Field(
        default_factory=lambda: ["row_count"],
        description="Checks that prove the move: " + ", ".join(KNOWN_VALIDATIONS) + ".",
        json_schema_extra=_names_schema(KNOWN_VALIDATIONS),
    )
    artifacts: list[str] = Field(
        default_factory=list,
        description="Globs, relative to the workspace, of files to capture.",
    )
    redact: list[str] = Field(
        default_factory=list,
        description="Key names whose values are masked in captured config.",
    )
    streams: list[str] = Field(
        default_factory=list,
        description="Tables to move; empty means the table the source_ref names.",
    )
    sync_mode: SyncMode = Field(default=SyncMode.FULL_REFRESH_OVERWRITE)
    cursor_field: str | None = Field(
        default=None,
        description="The column incremental modes read onwards from.",
    )
    primary_key: list[str] = Field(
        default_factory=list,
        description="Columns that identify a row; needed by incremental_append_dedup.",
    )
    checksum_columns: list[str] = Field(
        default_factory=list,
        description="Columns hashed by content_sha256, in this order.",
    )
    timeout_seconds: int = Field(
        default=600,
        ge=1,
        le=86_400,
        description="Wall-clock limit of the whole run.",
    )
    transport: Literal["fast", "protocol"] = Field(
        default="fast",
        description="'fast' moves Arrow batches; 'protocol' moves Airbyte "
        "RECORD messages through the connectors.",
    )

    def canonical_json(self) -> str:
        """Return the spec as sorted, compact JSON with every default filled in."""
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
        )

    def digest(self) -> str:
        """Return the SHA-256 of :meth:`canonical_json`, the spec's identity."""
        return hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()
