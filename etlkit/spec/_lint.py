"""Plan checks (failure class F1): every mistake a spec can hold before a lease.

:func:`lint_spec` takes the raw spec document, so that unknown fields, secret
values and row payloads are seen as written, and returns :class:`Finding`
objects, each with a code, the field path and the fix.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from etlkit.errors import PlanError
from etlkit.profiles import ProfileStore
from etlkit.registry import Registry, ResolvedRef
from etlkit.spec._artifacts import artifact_findings
from etlkit.spec._content import row_reasons, secret_reasons
from etlkit.spec._credentials import credential_findings
from etlkit.spec._finding import Finding
from etlkit.spec._load import parse_spec, spec_problems
from etlkit.spec._model import (
    KNOWN_VALIDATIONS,
    RETRY_CLASSES,
    UNSAFE_WITHOUT_IDEMPOTENCY,
    JobSpec,
)

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{2,127}")


def lint_spec(
    document: Mapping[str, Any],
    *,
    registry: Registry,
    profiles: ProfileStore,
    workspace: Path | None = None,
) -> list[Finding]:
    """Return every plan finding for ``document``; an empty list means clean.

    ``workspace`` is the folder artifact globs are relative to; when given,
    globs that reach outside it through links are found too.
    """
    findings = _content_findings(document)
    findings += _model_findings(document)

    spec = _checkable_spec(document)
    if spec is None:
        return findings

    source, target = _resolve_refs(spec, registry, findings)
    findings += _stream_findings(spec, source, target)
    findings += _sync_findings(spec)
    findings += _validation_findings(spec)
    findings += _retry_findings(spec)
    findings += artifact_findings(spec.artifacts, workspace)

    findings += credential_findings(spec, profiles, source, target)
    return findings


def require_clean_spec(
    document: Mapping[str, Any],
    *,
    registry: Registry,
    profiles: ProfileStore,
    workspace: Path | None = None,
) -> JobSpec:
    """Return the spec when it lints clean; raise :class:`PlanError` otherwise.

    This is the gate before a lease: the error lists every finding.
    """
    findings = lint_spec(
        document, registry=registry, profiles=profiles, workspace=workspace
    )
    if findings:
        listed = " ".join(f"[{finding}]" for finding in findings)
        raise PlanError(
            f"The spec has {len(findings)} plan finding(s); fix them and lint "
            f"again (`etlkit spec lint`): {listed}"
        )
    return parse_spec(document)


def findings_as_dicts(findings: list[Finding]) -> list[dict[str, str]]:
    """Return the findings as plain dicts, for JSON output."""
    return [asdict(finding) for finding in findings]


def _content_findings(document: Mapping[str, Any]) -> list[Finding]:
    known = set(JobSpec.model_fields)
    findings = [
        Finding(
            "secret-value",
            path,
            f"{path!r} holds what looks like {reason}; a spec must never hold "
            "a secret value.",
            "Remove the value, put it in a credential profile, and name the "
            "profile in credential_profile.",
        )
        for path, reason in secret_reasons(document, known)
    ]
    findings += [
        Finding(
            "row-payload",
            path,
            f"{path!r} holds {reason}, which looks like rows of data; a spec "
            "holds references and rules, never rows.",
            "Remove the data; name the table it lives in through source_ref.",
        )
        for path, reason in row_reasons(document)
    ]
    return findings


def _model_findings(document: Mapping[str, Any]) -> list[Finding]:
    return [
        Finding(
            "spec-invalid",
            path,
            f"{message}.",
            "Correct the field as described; `etlkit spec schema` lists every "
            "field and its type.",
        )
        for path, message in spec_problems(document)
    ]


def _checkable_spec(document: Mapping[str, Any]) -> JobSpec | None:
    """Return the spec without its invalid top-level fields, if that validates."""
    broken = {path.split(".")[0].split("[")[0] for path, _ in spec_problems(document)}
    kept = {key: value for key, value in document.items() if key not in broken}
    try:
        return parse_spec(kept)
    except PlanError:
        return None


def _resolve_refs(
    spec: JobSpec, registry: Registry, findings: list[Finding]
) -> tuple[ResolvedRef | None, ResolvedRef | None]:
    resolved = []
    for field, role in (("source_ref", "source"), ("target_ref", "target")):
        ref = getattr(spec, field)
        try:
            item = registry.resolve(ref)
        except PlanError as error:
            findings.append(
                Finding(
                    "ref-unresolved",
                    field,
                    str(error),
                    "Run `etlkit refs` to list the registered connections and "
                    "write the ref as '<connection>.<namespace>.<table>'.",
                )
            )
            resolved.append(None)
            continue

        if item.connection.role != role:
            findings.append(
                Finding(
                    "ref-role",
                    field,
                    f"{field} {ref!r} names the {item.connection.connector} "
                    f"connection {item.connection.name!r}, which cannot be a {role}.",
                    f"Point {field} at a {role} connection (see `etlkit refs`).",
                )
            )
            item = None
        resolved.append(item)
    return resolved[0], resolved[1]


def _stream_findings(
    spec: JobSpec, source: ResolvedRef | None, target: ResolvedRef | None
) -> list[Finding]:
    findings = []
    if source and source.table is None and not spec.streams:
        findings.append(
            Finding(
                "streams-missing",
                "streams",
                f"source_ref {spec.source_ref!r} names a namespace but no table, "
                "and streams is empty, so nothing would move.",
                "Name a table in source_ref or list the tables in streams.",
            )
        )
    if source and source.table and spec.streams and spec.streams != [source.table]:
        findings.append(
            Finding(
                "streams-conflict",
                "streams",
                f"streams {spec.streams} differ from the table {source.table!r} "
                "that source_ref names.",
                "Drop streams, or make source_ref name the namespace only.",
            )
        )

    moved = spec.streams or ([source.table] if source and source.table else [])
    if target and target.table and moved and moved != [target.table]:
        findings.append(
            Finding(
                "target-table-conflict",
                "target_ref",
                f"target_ref {spec.target_ref!r} names table {target.table!r}, "
                f"but the streams written are {moved}; each stream is written to "
                "a table of its own name.",
                "Make target_ref name the namespace only, or the same table.",
            )
        )
    return findings


def _sync_findings(spec: JobSpec) -> list[Finding]:
    findings = []
    mode = spec.sync_mode.value
    if spec.sync_mode.is_incremental and not spec.cursor_field:
        findings.append(
            Finding(
                "cursor-missing",
                "cursor_field",
                f"sync_mode {mode!r} reads onwards from a cursor, but "
                "cursor_field is not set.",
                "Set cursor_field to an ever-growing column, or use a "
                "full_refresh mode.",
            )
        )
    if spec.sync_mode.deduplicates and not spec.primary_key:
        findings.append(
            Finding(
                "primary-key-missing",
                "primary_key",
                f"sync_mode {mode!r} keeps one row per key, but primary_key is empty.",
                "List the columns that identify a row in primary_key.",
            )
        )
    return findings


def _validation_findings(spec: JobSpec) -> list[Finding]:
    known = ", ".join(KNOWN_VALIDATIONS)
    findings = [
        Finding(
            "validation-unknown",
            f"validation[{index}]",
            f"Validation {name!r} is not a check the worker runs.",
            f"Use one of: {known}.",
        )
        for index, name in enumerate(spec.validation)
        if name not in KNOWN_VALIDATIONS
    ]
    if not spec.validation:
        findings.append(
            Finding(
                "validation-empty",
                "validation",
                "validation is empty, so the run would prove nothing.",
                "Ask for at least row_count.",
            )
        )
    return findings


def _retry_findings(spec: JobSpec) -> list[Finding]:
    known = ", ".join(RETRY_CLASSES)
    findings = []
    for index, name in enumerate(spec.retry.when):
        path = f"retry.when[{index}]"
        if name not in RETRY_CLASSES:
            findings.append(
                Finding(
                    "retry-class-unknown",
                    path,
                    f"Retry class {name!r} is not an error class etlkit knows.",
                    f"Use one of: {known}.",
                )
            )
        elif name in UNSAFE_WITHOUT_IDEMPOTENCY and spec.idempotency_key is None:
            findings.append(
                Finding(
                    "retry-unsafe",
                    path,
                    f"Retrying on {name!r} without an idempotency_key could write "
                    "the same rows twice.",
                    f"Set idempotency_key, or remove {name!r} from retry.when.",
                )
            )

    key = spec.idempotency_key
    if key is not None and not _IDEMPOTENCY_KEY.fullmatch(key):
        findings.append(
            Finding(
                "idempotency-key-malformed",
                "idempotency_key",
                "idempotency_key is empty or malformed.",
                "Use 3 to 128 letters, digits and . _ : - starting with a letter "
                "or digit, e.g. 'events-2024-06-01'.",
            )
        )
    return findings
