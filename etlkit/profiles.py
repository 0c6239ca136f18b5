"""Credential profiles: which env variables a run gets, and where their values live.

A profile maps the env variable names a sandbox sees to where each value comes
from: the dispatcher's own environment or a file. Profiles are stored outside
the repository, by default in ``$XDG_CONFIG_HOME/etlkit/profiles.toml`` (or
``~/.config/etlkit/profiles.toml``); ``$ETLKIT_PROFILES`` or an explicit path
overrides that::

    [profiles.demo]
    SOURCE_CLICKHOUSE_USER = { env = "ETLKIT_DEMO_USER", optional = true }
    SOURCE_CLICKHOUSE_PASSWORD = { file = "demo.password", optional = true }

A profile never holds a value itself. Values are read only by
:func:`resolve_profile`, at dispatch, and only for the names the spec's
``allow_env`` admits; what it returns never prints a value.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from etlkit.errors import CredentialError
from etlkit.redact import MASK, Masker

logger = logging.getLogger(__name__)

PROFILES_ENV = "ETLKIT_PROFILES"
PROFILES_FILENAME = "profiles.toml"
SOURCE_KINDS = ("env", "file")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class ValueSource:
    """Where the value of one sandbox env variable comes from."""

    variable: str
    kind: str
    location: str
    optional: bool = False

    def describe(self) -> str:
        """Return ``env:NAME`` or ``file:/path``; never the value itself."""
        return f"{self.kind}:{self.location}"


@dataclass(frozen=True)
class Profile:
    """A named set of value sources, one per sandbox env variable."""

    name: str
    sources: Mapping[str, ValueSource] = field(default_factory=dict)

    def variables(self) -> tuple[str, ...]:
        """Return the env variable names this profile provides, sorted."""
        return tuple(sorted(self.sources))


@dataclass(frozen=True)
class ProfileStore:
    """The profiles of one profiles file (empty when the file does not exist)."""

    path: Path
    profiles: Mapping[str, Profile] = field(default_factory=dict)
    exists: bool = True

    def get(self, name: str) -> Profile:
        """Return the profile called ``name`` or raise :class:`CredentialError`."""
        try:
            return self.profiles[name]
        except KeyError:
            raise CredentialError(
                f"Credential profile {name!r} is not defined in {str(self.path)!r}; "
                f"add a [profiles.{name}] table there or name another profile."
            ) from None


class ResolvedProfile:
    """The values of one profile for one run, which never print.

    ``repr`` and ``str`` show the variable names only. :meth:`sandbox_env` is
    for building the sandbox environment and nothing else; :meth:`masker`
    masks every value wherever the dispatcher writes.
    """

    __slots__ = ("name", "_values")

    def __init__(self, name: str, values: Mapping[str, str]) -> None:
        self.name = name
        self._values = dict(values)

    def __repr__(self) -> str:
        shown = ", ".join(f"{variable}={MASK}" for variable in self.variables())
        return f"ResolvedProfile(name={self.name!r}, {shown})"

    __str__ = __repr__

    def variables(self) -> tuple[str, ...]:
        """Return the names of the variables that received a value, sorted."""
        return tuple(sorted(self._values))

    def sandbox_env(self) -> dict[str, str]:
        """Return the variables and their values for the sandbox's environment."""
        return dict(self._values)

    def masker(self) -> Masker:
        """Return a masker for every value of this profile and its encodings."""
        return Masker(self._values.values())


def default_profiles_path(environ: Mapping[str, str] | None = None) -> Path:
    """Return where profiles are read from when no path is given."""
    environ = os.environ if environ is None else environ
    if environ.get(PROFILES_ENV):
        return Path(environ[PROFILES_ENV]).expanduser()

    config_home = environ.get("XDG_CONFIG_HOME")
    base = Path(config_home) if config_home else Path("~/.config").expanduser()
    return base / "etlkit" / PROFILES_FILENAME


def load_profiles(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> ProfileStore:
    """Load the profiles file; a missing file gives an empty store.

    Only names and sources are read here, never a value.
    """
    profiles_path = Path(path).expanduser() if path else default_profiles_path(environ)
    profiles_path = profiles_path.resolve()
    if not profiles_path.exists():
        logger.debug("no profiles file at %s", profiles_path)
        return ProfileStore(path=profiles_path, exists=False)

    try:
        document = tomllib.loads(profiles_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CredentialError(
            f"The profiles file {str(profiles_path)!r} cannot be read "
            f"({error.strerror}); check its path and permissions."
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise CredentialError(
            f"The profiles file {str(profiles_path)!r} is not valid TOML ({error}); "
            "fix its syntax."
        ) from error

    profiles = _parse_profiles(document, profiles_path)
    return ProfileStore(path=profiles_path, profiles=profiles)


def env_admitted(variable: str, patterns: Iterable[str]) -> bool:
    """Whether ``variable`` matches one of the ``allow_env`` patterns."""
    return any(fnmatchcase(variable, pattern) for pattern in patterns)


def resolve_profile(
    profile: Profile,
    allow_env: Iterable[str],
    *,
    required: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> ResolvedProfile:
    """Read the values of the variables of ``profile`` that ``allow_env`` admits.

    ``required`` names variables the run cannot go without (those the refs
    need). Raises :class:`CredentialError` when a required or non-optional
    variable has no value, naming the variable and its source, never a value.
    """
    environ = os.environ if environ is None else environ
    patterns = list(allow_env)
    values = {}

    for variable, source in sorted(profile.sources.items()):
        if not env_admitted(variable, patterns):
            logger.debug("%s is not admitted by allow_env", variable)
            continue
        value = _read_value(source, environ)
        if value is None and not source.optional:
            raise CredentialError(
                f"Profile {profile.name!r} takes {variable} from "
                f"{source.describe()!r}, which has no value; set it, or mark the "
                "entry optional = true."
            )
        if value is not None:
            values[variable] = value

    for variable in required:
        if variable not in values:
            raise CredentialError(
                f"The run needs {variable}, but profile {profile.name!r} gave it no "
                "value; map it in the profile and admit it with allow_env."
            )

    logger.info("profile %s resolved: %s", profile.name, ", ".join(sorted(values)))
    return ResolvedProfile(profile.name, values)


def _read_value(source: ValueSource, environ: Mapping[str, str]) -> str | None:
    if source.kind == "env":
        return environ.get(source.location)

    try:
        text = Path(source.location).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as error:
        raise CredentialError(
            f"The file {source.location!r} behind {source.variable} cannot be read "
            f"({error.strerror}); check its permissions."
        ) from error
    return text.removesuffix("\n").removesuffix("\r")


def _parse_profiles(document: Mapping[str, Any], path: Path) -> dict[str, Profile]:
    tables = document.get("profiles", {})
    if not isinstance(tables, Mapping):
        raise CredentialError(
            f"'profiles' in {str(path)!r} must be a table of named profiles "
            "such as [profiles.demo]."
        )

    profiles = {}
    for name, table in tables.items():
        if not isinstance(table, Mapping):
            raise CredentialError(
                f"Profile {name!r} in {str(path)!r} must be a table mapping env "
                "variable names to sources."
            )
        sources = {
            variable: _parse_source(name, variable, entry, path)
            for variable, entry in table.items()
        }
        profiles[name] = Profile(name=name, sources=sources)
    return profiles


def _parse_source(profile: str, variable: str, entry: Any, path: Path) -> ValueSource:
    where = f"profile {profile!r} in {str(path)!r}"
    if not _ENV_NAME.fullmatch(variable):
        raise CredentialError(
            f"The {where} maps {variable!r}, which is not an env variable name; "
            "use letters, digits and underscores."
        )
    if not isinstance(entry, Mapping):
        raise CredentialError(
            f"The {where} gives {variable} a plain value; a profile says where a "
            f"value comes from, never the value: write {variable} = "
            '{ env = "NAME" } or { file = "path" }.'
        )

    kinds = [kind for kind in SOURCE_KINDS if kind in entry]
    unknown = sorted(set(entry) - {*SOURCE_KINDS, "optional"})
    if len(kinds) != 1 or unknown or not isinstance(entry[kinds[0]], str):
        raise CredentialError(
            f"The {where} maps {variable} to keys {sorted(entry)}; give exactly one "
            "of 'env' or 'file' as a string, and optionally 'optional'."
        )

    optional = entry.get("optional", False)
    if not isinstance(optional, bool):
        raise CredentialError(
            f"The {where} has optional = {optional!r} for {variable}; "
            "use true or false."
        )

    kind = kinds[0]
    location = entry[kind]
    if kind == "file":
        file_path = Path(location).expanduser()
        if not file_path.is_absolute():
            file_path = path.parent / file_path
        location = str(file_path)
    elif not _ENV_NAME.fullmatch(location):
        raise CredentialError(
            f"The {where} takes {variable} from an 'env' that is not an env "
            "variable name; name the variable in the dispatcher's environment."
        )
    return ValueSource(variable, kind, location, optional)
