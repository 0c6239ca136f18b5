"""One plan finding: what is wrong, where in the spec, and how to fix it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """A spec mistake found before a lease (failure class F1)."""

    code: str
    path: str
    message: str
    fix: str

    def __str__(self) -> str:
        return f"{self.code} at {self.path}: {self.message} Fix: {self.fix}"


FINDING_CODES: dict[str, str] = {
    "spec-invalid": "a field is unknown, missing or of the wrong type",
    "secret-value": "something in the spec looks like a secret value",
    "row-payload": "something in the spec looks like rows of data",
    "ref-unresolved": "a ref is malformed or names no registered connection",
    "ref-role": "a source ref names a target, or the other way round",
    "streams-missing": "the source ref names no table and streams is empty",
    "streams-conflict": "streams differ from the table the source ref names",
    "target-table-conflict": "the target ref names a table the streams do not",
    "cursor-missing": "an incremental sync mode has no cursor_field",
    "primary-key-missing": "a deduplicating sync mode has no primary_key",
    "validation-unknown": "a validation name is not a check the worker runs",
    "validation-empty": "no validation is asked for",
    "retry-class-unknown": "a retry class is not a known error class",
    "retry-unsafe": "a retry class is unsafe without an idempotency_key",
    "idempotency-key-malformed": "the idempotency_key is empty or malformed",
    "artifact-absolute": "an artifact glob is empty or absolute",
    "artifact-escape": "an artifact glob climbs out of the workspace",
    "artifact-link": "an artifact glob follows a link out of the workspace",
    "profile-missing": "the credential profile does not exist or is not named",
    "profile-incomplete": "the profile lacks a variable the refs need",
    "allow-env-malformed": "an allow_env pattern is not an env name pattern",
    "allow-env-everything": "an allow_env pattern admits every variable",
    "allow-env-unprovided": "an allow_env pattern admits nothing the profile provides",
    "allow-env-missing": "a variable the refs need is not admitted by allow_env",
}
