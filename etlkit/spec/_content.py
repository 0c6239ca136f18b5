"""Scanning a spec document for secret values and row payloads.

A spec holds references and rules, so any string that looks like a credential
or any structure that looks like data is a plan mistake. The scan walks the
raw document, unknown fields included, and reports field paths only: a value
that looks secret is never repeated.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from etlkit.spec._load import field_path

MIN_ENTROPY_LENGTH = 20
MIN_ENTROPY_BITS = 3.5
MAX_STRING_LENGTH = 512
MAX_LIST_LENGTH = 256

_SECRET_KEY = re.compile(
    r"(?i)(^|_)(pass(word)?|passwd|pwd|secret|token|api_?key|access_?key|"
    r"private_?key|credentials?|auth)$"
)
_SECRET_PATTERNS = (
    ("a URL with credentials", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s@]+@")),
    (
        "a credential assignment",
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|access[_-]?key)"
            r"\s*[=:]\s*\S+"
        ),
    ),
    ("an AWS access key", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_)")),
    ("a Slack token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}")),
    ("an API key", re.compile(r"\bsk-[A-Za-z0-9_-]{16,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    ("a JSON web token", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.")),
    ("a bearer token", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{8,}")),
)


def iter_strings(value: Any, location: tuple = ()) -> Iterator[tuple[tuple, str]]:
    """Yield ``(location, text)`` for every key and string value in ``value``."""
    if isinstance(value, str):
        yield location, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield (*location, key), str(key)
            yield from iter_strings(item, (*location, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from iter_strings(item, (*location, index))


def secret_reasons(
    document: Mapping[str, Any], known_fields: set[str]
) -> list[tuple[str, str]]:
    """Return ``(field path, reason)`` for each place a secret value seems to be.

    Keys that look like credential names count too, except the spec's own
    top-level ``known_fields``.
    """
    reasons = []
    for location, text in iter_strings(document):
        reason = describe_secret(text)
        if reason:
            reasons.append((field_path(location), reason))

    for location, key, value in _iter_items(document):
        if key in known_fields and len(location) == 1:
            continue
        if _SECRET_KEY.search(str(key)) and value not in (None, "", [], {}):
            reasons.append((field_path(location), f"a value under the key {key!r}"))
    return _unique(reasons)


def describe_secret(text: str) -> str | None:
    """Name what kind of secret ``text`` looks like, or return None."""
    for label, pattern in _SECRET_PATTERNS:
        if pattern.search(text):
            return label
    if any(_looks_random(word) for word in text.split()):
        return "a high-entropy string"
    return None


def row_reasons(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Return ``(field path, reason)`` for each place rows of data seem to be."""
    reasons = []
    for location, value in _iter_values(document):
        reason = _describe_rows(value)
        if reason:
            reasons.append((field_path(location), reason))
    return _unique(reasons)


def _describe_rows(value: Any) -> str | None:
    if isinstance(value, (list, tuple)):
        if any(isinstance(item, (Mapping, list, tuple)) for item in value):
            return "a list of records"
        if len(value) > MAX_LIST_LENGTH:
            return f"a list of {len(value)} items"
        return None
    if not isinstance(value, str):
        return None

    if len(value) > MAX_STRING_LENGTH:
        return f"a string of {len(value)} characters"
    lines = [line for line in value.splitlines() if line.strip()]
    if len(lines) >= 2 and all(any(mark in line for mark in ",\t|;") for line in lines):
        return "delimited lines of data"
    if value.lstrip().startswith(("[", "{")) and _is_json_container(value):
        return "a JSON document"
    return None


def _is_json_container(text: str) -> bool:
    try:
        return isinstance(json.loads(text), (list, dict))
    except ValueError:
        return False


def _looks_random(word: str) -> bool:
    if len(word) < MIN_ENTROPY_LENGTH:
        return False
    classes = (str.islower, str.isupper, str.isdigit)
    if not all(any(test(char) for char in word) for test in classes):
        return False
    return _entropy_bits(word) >= MIN_ENTROPY_BITS


def _entropy_bits(word: str) -> float:
    counts = Counter(word)
    total = len(word)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _iter_items(value: Any, location: tuple = ()) -> Iterator[tuple[tuple, Any, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield (*location, key), key, item
            yield from _iter_items(item, (*location, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _iter_items(item, (*location, index))


def _iter_values(value: Any, location: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    yield location, value
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _iter_values(item, (*location, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _iter_values(item, (*location, index))


def _unique(reasons: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen = {}
    for path, reason in reasons:
        seen.setdefault(path, reason)
    return list(seen.items())
