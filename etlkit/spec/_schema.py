"""The JSON Schema of the job spec, the form agents are given."""

from __future__ import annotations

from typing import Any

from etlkit.spec._model import JobSpec

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def spec_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of :class:`JobSpec`."""
    schema = JobSpec.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, **schema}
