"""The job spec: model, JSON Schema, loading, plan checks and the repair rule.

A spec names what one run moves (refs), with which credentials (a profile
name and ``allow_env`` patterns) and how the move is proved (``validation``).
"""

from etlkit.spec._diff import Change, diff_specs, repair_violations
from etlkit.spec._finding import FINDING_CODES, Finding
from etlkit.spec._lint import findings_as_dicts, lint_spec, require_clean_spec
from etlkit.spec._load import load_spec, parse_spec, read_spec_document
from etlkit.spec._model import (
    KNOWN_VALIDATIONS,
    RETRY_CLASSES,
    JobSpec,
    RetryPolicy,
    SyncMode,
)
from etlkit.spec._schema import spec_json_schema

__all__ = [
    "FINDING_CODES",
    "KNOWN_VALIDATIONS",
    "RETRY_CLASSES",
    "Change",
    "Finding",
    "JobSpec",
    "RetryPolicy",
    "SyncMode",
    "diff_specs",
    "findings_as_dicts",
    "lint_spec",
    "load_spec",
    "parse_spec",
    "read_spec_document",
    "repair_violations",
    "require_clean_spec",
    "spec_json_schema",
]
