"""Comparing two specs, and the repair rule.

Each top-level field of a spec is one bounded input. A repair run may change
exactly one of them, and may never turn off validation, redaction or artifact
capture, so a repair stays comparable with the run it repairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from etlkit.redact import MASK
from etlkit.spec._content import describe_secret
from etlkit.spec._model import JobSpec

# Fields whose order carries no meaning; they are compared as sets.
UNORDERED_FIELDS = frozenset(
    {"allow_env", "validation", "artifacts", "redact", "streams"}
)

# Fields a repair may add to but never take from.
PROTECTED_FIELDS = {
    "validation": "validation",
    "redact": "redaction",
    "artifacts": "artifact capture",
}


@dataclass(frozen=True)
class Change:
    """One bounded input that differs between two specs."""

    field: str
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        """Return the change for JSON output, with secret-looking text masked."""
        return {"field": self.field, "old": _shown(self.old), "new": _shown(self.new)}


def diff_specs(old: JobSpec, new: JobSpec) -> list[Change]:
    """Return the bounded inputs that differ from ``old`` to ``new``, in field order."""
    before = old.model_dump(mode="json")
    after = new.model_dump(mode="json")
    return [
        Change(field, before[field], after[field])
        for field in JobSpec.model_fields
        if _normal(field, before[field]) != _normal(field, after[field])
    ]


def repair_violations(old: JobSpec, new: JobSpec) -> list[str]:
    """Return how ``new`` breaks the repair rule against ``old``; empty if kept."""
    changes = diff_specs(old, new)
    violations = []
    if len(changes) != 1:
        changed = ", ".join(change.field for change in changes) or "nothing"
        violations.append(
            f"A repair changes exactly one bounded input, but {len(changes)} changed "
            f"({changed}); split the repair into runs that each change one."
        )

    for field, what in PROTECTED_FIELDS.items():
        dropped = sorted(set(getattr(old, field)) - set(getattr(new, field)))
        if dropped:
            violations.append(
                f"The repair turns off {what}: {field} drops {dropped}; keep them "
                "and add what the repair needs instead."
            )
    return violations


def _normal(field: str, value: Any) -> Any:
    if field in UNORDERED_FIELDS:
        return sorted(set(value))
    if field == "retry":
        return {**value, "when": sorted(set(value["when"]))}
    return value


def _shown(value: Any) -> Any:
    if isinstance(value, str):
        return MASK if describe_secret(value) else value
    if isinstance(value, list):
        return [_shown(item) for item in value]
    if isinstance(value, dict):
        return {key: _shown(item) for key, item in value.items()}
    return value
