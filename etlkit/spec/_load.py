"""Reading a job spec from a JSON or YAML file into the model."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from etlkit.errors import PlanError
from etlkit.spec._model import JobSpec

logger = logging.getLogger(__name__)

JSON_SUFFIXES = (".json",)
YAML_SUFFIXES = (".yaml", ".yml")


def read_spec_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a spec file as a plain mapping, JSON or YAML by its suffix."""
    spec_path = Path(path)
    try:
        text = spec_path.read_text(encoding="utf-8")
    except OSError as error:
        raise PlanError(
            f"The spec file {str(spec_path)!r} cannot be read ({error.strerror}); "
            "check the path."
        ) from error

    try:
        if spec_path.suffix.lower() in JSON_SUFFIXES:
            document = json.loads(text)
        else:
            document = yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        kind = "JSON" if spec_path.suffix.lower() in JSON_SUFFIXES else "YAML"
        raise PlanError(
            f"The spec file {str(spec_path)!r} is not valid {kind} ({error}); "
            "fix its syntax."
        ) from error

    if not isinstance(document, Mapping):
        raise PlanError(
            f"The spec file {str(spec_path)!r} holds a {type(document).__name__}, "
            "not a mapping of fields; write the spec as key: value pairs."
        )
    return dict(document)


def spec_problems(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(field path, message)`` for each way ``document`` breaks the model.

    Messages never repeat the offending value, which may be a secret.
    """
    try:
        JobSpec.model_validate(document)
    except ValidationError as error:
        return [_describe(detail) for detail in error.errors()]
    return []


def parse_spec(document: Mapping[str, Any] | JobSpec) -> JobSpec:
    """Validate ``document`` as a spec; raise :class:`PlanError` naming each field."""
    if isinstance(document, JobSpec):
        return document

    problems = spec_problems(document)
    if problems:
        lines = "; ".join(f"{path}: {message}" for path, message in problems)
        raise PlanError(f"The spec is invalid: {lines}.")
    return JobSpec.model_validate(document)


def load_spec(path: str | os.PathLike[str]) -> JobSpec:
    """Read and validate the spec file at ``path``."""
    spec = parse_spec(read_spec_document(path))
    logger.debug("loaded spec %s (%s)", path, spec.digest()[:12])
    return spec


def field_path(location: tuple[Any, ...]) -> str:
    """Render a location such as ``('retry', 'when', 0)`` as ``retry.when[0]``."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "<spec>"


def _describe(detail: Mapping[str, Any]) -> tuple[str, str]:
    path = field_path(tuple(detail["loc"]))
    if detail["type"] == "extra_forbidden":
        return path, (
            f"{path!r} is not a spec field; remove it or fix its spelling "
            "(see `etlkit spec schema`)"
        )
    if detail["type"] == "missing":
        return path, f"{path!r} is required; add it"
    return path, f"{detail['msg']}; fix the value of {path!r}"
