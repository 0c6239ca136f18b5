"""Plan checks of credentials: the profile the spec names and its allow_env.

Only names are compared here: which variables the refs require, which the
profile provides and which the ``allow_env`` patterns admit. No value is read.
"""

from __future__ import annotations

import re

from etlkit.profiles import Profile, ProfileStore, env_admitted
from etlkit.registry import ResolvedRef
from etlkit.spec._finding import Finding
from etlkit.spec._model import JobSpec

_ENV_PATTERN = re.compile(r"[A-Za-z_*?][A-Za-z0-9_*?]*")
_ADMITS_EVERYTHING = re.compile(r"[*?]*\*[*?]*")


def credential_findings(
    spec: JobSpec,
    profiles: ProfileStore,
    source: ResolvedRef | None,
    target: ResolvedRef | None,
) -> list[Finding]:
    """Return findings about the profile and ``allow_env`` of ``spec``."""
    findings: list[Finding] = []
    required = _required_env(source, target)
    profile = _profile(spec, profiles, required, findings)
    findings += _allow_env_findings(spec, profile, required)
    return findings


def _required_env(*refs: ResolvedRef | None) -> list[str]:
    names = []
    for ref in refs:
        for name in ref.connection.required_env() if ref else ():
            if name not in names:
                names.append(name)
    return names


def _profile(
    spec: JobSpec,
    profiles: ProfileStore,
    required: list[str],
    findings: list[Finding],
) -> Profile | None:
    name = spec.credential_profile
    if name is None:
        if required:
            findings.append(
                Finding(
                    "profile-missing",
                    "credential_profile",
                    f"The refs need {', '.join(required)}, but no "
                    "credential_profile is named.",
                    "Name a credential profile that provides them.",
                )
            )
        return None

    if name not in profiles.profiles:
        state = "" if profiles.exists else ", which does not exist"
        findings.append(
            Finding(
                "profile-missing",
                "credential_profile",
                f"Credential profile {name!r} is not defined in "
                f"{str(profiles.path)!r}{state}.",
                f"Add a [profiles.{name}] table to that file (see docs/spec.md), "
                "or name an existing profile.",
            )
        )
        return None

    profile = profiles.profiles[name]
    lacking = [variable for variable in required if variable not in profile.sources]
    if lacking:
        findings.append(
            Finding(
                "profile-incomplete",
                "credential_profile",
                f"Credential profile {name!r} lacks {', '.join(lacking)}, which "
                "the refs need.",
                f"Map {', '.join(lacking)} in [profiles.{name}].",
            )
        )
    return profile


def _allow_env_findings(
    spec: JobSpec, profile: Profile | None, required: list[str]
) -> list[Finding]:
    findings = []
    if spec.allow_env and spec.credential_profile is None:
        findings.append(
            Finding(
                "allow-env-unprovided",
                "allow_env",
                "allow_env admits variables, but no credential_profile is named "
                "to provide them.",
                "Name a credential profile, or empty allow_env.",
            )
        )

    provided = profile.variables() if profile else ()
    for index, pattern in enumerate(spec.allow_env):
        findings += _pattern_findings(f"allow_env[{index}]", pattern, profile, provided)

    for variable in required:
        if variable in provided and not env_admitted(variable, spec.allow_env):
            findings.append(
                Finding(
                    "allow-env-missing",
                    "allow_env",
                    f"The refs need {variable}, but allow_env does not admit it, "
                    "so it would not enter the sandbox.",
                    f"Add {variable!r} (or a pattern matching it) to allow_env.",
                )
            )
    return findings


def _pattern_findings(
    path: str, pattern: str, profile: Profile | None, provided: tuple[str, ...]
) -> list[Finding]:
    """Check one allow_env pattern; whether it is provided needs a known profile."""
    if not _ENV_PATTERN.fullmatch(pattern):
        return [
            Finding(
                "allow-env-malformed",
                path,
                f"allow_env pattern {pattern!r} is not an env name pattern.",
                "Use letters, digits, underscores and the wildcards * and ?, "
                "e.g. 'SOURCE_*'.",
            )
        ]
    if _ADMITS_EVERYTHING.fullmatch(pattern):
        return [
            Finding(
                "allow-env-everything",
                path,
                f"allow_env pattern {pattern!r} admits every variable.",
                "Name the variables the refs need, or a narrow prefix such as "
                "'SOURCE_CLICKHOUSE_*'.",
            )
        ]
    if profile is None or any(env_admitted(name, [pattern]) for name in provided):
        return []
    return [
        Finding(
            "allow-env-unprovided",
            path,
            f"allow_env pattern {pattern!r} admits only names that profile "
            f"{profile.name!r} does not provide.",
            "Remove the pattern, or map its variables in the profile.",
        )
    ]
