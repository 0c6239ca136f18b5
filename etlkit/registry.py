"""Named connections that spec refs resolve to.

A repository declares its sources and targets in ``etlkit.toml`` at its root.
A connection names a connector, its non-secret settings and the *names* of the
environment variables its secrets come from; no secret value is ever stored
here. A ref reads ``<connection>.<namespace>.<table>`` (or
``<connection>.<namespace>`` for a whole namespace)::

    [connections.source]
    connector = "clickhouse"
    url = "chdb:.etlkit/chdb"
    namespaces = ["analytics"]
    secrets.username = { env = "SOURCE_CLICKHOUSE_USER", required = false }

    [connections.warehouse]
    connector = "duckdb"
    path = ".etlkit/warehouse.duckdb"

Relative paths are resolved against the folder that holds the registry file.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from etlkit.errors import PlanError

logger = logging.getLogger(__name__)

REGISTRY_FILENAME = "etlkit.toml"
REGISTRY_ENV = "ETLKIT_REGISTRY"

CONNECTOR_ROLES = {"clickhouse": "source", "duckdb": "target"}
CLICKHOUSE_SETTINGS = ("username", "password")

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class SecretRef:
    """Where one secret setting of a connection comes from: an env variable name."""

    setting: str
    env: str
    required: bool = True


@dataclass(frozen=True)
class Connection:
    """One named source or target, with its non-secret settings."""

    name: str
    connector: str
    location: str
    namespaces: tuple[str, ...] = ()
    secrets: tuple[SecretRef, ...] = ()
    description: str = ""

    @property
    def role(self) -> str:
        """``source`` for a ClickHouse connection, ``target`` for DuckDB."""
        return CONNECTOR_ROLES[self.connector]

    @property
    def is_embedded(self) -> bool:
        """Whether the connection is the in-process chDB engine."""
        return self.location.startswith("chdb:")

    def secret_env(self) -> dict[str, str]:
        """Return each secret setting mapped to the env variable it is read from."""
        return {secret.setting: secret.env for secret in self.secrets}

    def required_env(self) -> tuple[str, ...]:
        """Return the env variable names this connection cannot work without."""
        return tuple(secret.env for secret in self.secrets if secret.required)


@dataclass(frozen=True)
class ResolvedRef:
    """A ref split into its connection, namespace and optional table."""

    ref: str
    connection: Connection
    namespace: str
    table: str | None = None


@dataclass(frozen=True)
class Registry:
    """The connections of one registry file."""

    path: Path
    connections: Mapping[str, Connection] = field(default_factory=dict)

    def connection(self, name: str) -> Connection:
        """Return the connection called ``name`` or raise :class:`PlanError`."""
        try:
            return self.connections[name]
        except KeyError:
            known = ", ".join(sorted(self.connections)) or "none"
            raise PlanError(
                f"Connection {name!r} is not in the registry {str(self.path)!r} "
                f"(known: {known}); use one of those or add it to the registry."
            ) from None

    def resolve(self, ref: str) -> ResolvedRef:
        """Resolve ``ref`` to its connection, namespace and table.

        Raises :class:`PlanError` when the ref is malformed, names an unknown
        connection, or a namespace the connection does not declare.
        """
        parts = ref.split(".") if isinstance(ref, str) else []
        if len(parts) not in (2, 3) or not all(map(_is_identifier, parts)):
            raise PlanError(
                f"Ref {ref!r} is malformed; write it as "
                "'<connection>.<namespace>.<table>' or '<connection>.<namespace>'."
            )

        connection = self.connection(parts[0])
        namespace = parts[1]
        if connection.namespaces and namespace not in connection.namespaces:
            known = ", ".join(connection.namespaces)
            raise PlanError(
                f"Ref {ref!r} names namespace {namespace!r}, which connection "
                f"{connection.name!r} does not declare (known: {known}); use one "
                "of those or add it to the connection's namespaces."
            )

        table = parts[2] if len(parts) == 3 else None
        return ResolvedRef(ref, connection, namespace, table)


def find_registry(start: Path | None = None) -> Path:
    """Find ``etlkit.toml`` in ``start`` (default: the working folder) or above it."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / REGISTRY_FILENAME
        if path.is_file():
            return path
    raise PlanError(
        f"No {REGISTRY_FILENAME} was found in {str(folder)!r} or any folder above it; "
        f"run from the repository or pass the registry path (or set {REGISTRY_ENV})."
    )


def load_registry(
    path: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Registry:
    """Load the registry from ``path``, ``$ETLKIT_REGISTRY`` or the nearest file."""
    environ = os.environ if environ is None else environ
    if path is None and environ.get(REGISTRY_ENV):
        path = environ[REGISTRY_ENV]
    registry_path = Path(path).resolve() if path is not None else find_registry()

    try:
        document = tomllib.loads(registry_path.read_text(encoding="utf-8"))
    except OSError as error:
        raise PlanError(
            f"The registry {str(registry_path)!r} cannot be read ({error.strerror}); "
            "check the path."
        ) from error
    except tomllib.TOMLDecodeError as error:
        raise PlanError(
            f"The registry {str(registry_path)!r} is not valid TOML ({error}); "
            "fix its syntax."
        ) from error

    connections = _parse_connections(document, registry_path)
    logger.debug("loaded %d connections from %s", len(connections), registry_path)
    return Registry(path=registry_path, connections=connections)


def source_config(ref: ResolvedRef, streams: Sequence[str]) -> dict[str, Any]:
    """Return the ClickHouse source connector's config for ``ref``, without secrets.

    The secret settings (``username``, ``password``) are left out on purpose:
    :meth:`Connection.secret_env` names the variables the sandbox fills them from.
    """
    _require_role(ref, "source")
    tables = list(streams) or ([ref.table] if ref.table else [])
    if not tables:
        raise PlanError(
            f"Source ref {ref.ref!r} names no table and no streams were given; "
            "name a table in the ref or list the streams to move."
        )
    return {"url": ref.connection.location, "database": ref.namespace, "tables": tables}


def destination_config(ref: ResolvedRef) -> dict[str, Any]:
    """Return the DuckDB destination connector's config for ``ref``."""
    _require_role(ref, "target")
    return {"path": ref.connection.location, "schema": ref.namespace}


def _require_role(ref: ResolvedRef, role: str) -> None:
    if ref.connection.role != role:
        raise PlanError(
            f"Ref {ref.ref!r} points at a {ref.connection.connector} connection, "
            f"which cannot be a {role}; use a ref of a "
            f"{_connector_for(role)} connection."
        )


def _connector_for(role: str) -> str:
    return next(name for name, known in CONNECTOR_ROLES.items() if known == role)


def _is_identifier(text: str) -> bool:
    return bool(_IDENTIFIER.fullmatch(text))


def _parse_connections(
    document: Mapping[str, Any], registry_path: Path
) -> dict[str, Connection]:
    tables = document.get("connections", {})
    if not isinstance(tables, Mapping):
        raise PlanError(
            f"'connections' in {str(registry_path)!r} must be a table of named "
            "connections such as [connections.source]."
        )
    return {
        name: _parse_connection(name, table, registry_path)
        for name, table in tables.items()
    }


def _parse_connection(name: str, table: Any, registry_path: Path) -> Connection:
    where = f"connection {name!r} in {str(registry_path)!r}"
    if not _is_identifier(name) or not isinstance(table, Mapping):
        raise PlanError(
            f"The {where} must be a table with an identifier name "
            "(letters, digits and underscores)."
        )

    connector = table.get("connector")
    if connector not in CONNECTOR_ROLES:
        known = ", ".join(sorted(CONNECTOR_ROLES))
        raise PlanError(
            f"The {where} has connector {connector!r}; use one of: {known}."
        )

    base = registry_path.parent
    if connector == "clickhouse":
        location = _clickhouse_url(table.get("url"), base, where)
    else:
        location = _duckdb_path(table.get("path"), base, where)

    return Connection(
        name=name,
        connector=connector,
        location=location,
        namespaces=_parse_namespaces(table.get("namespaces", []), where),
        secrets=_parse_secrets(table.get("secrets", {}), connector, where),
        description=str(table.get("description", "")),
    )


def _clickhouse_url(url: Any, base: Path, where: str) -> str:
    if not isinstance(url, str) or not url:
        raise PlanError(
            f"The {where} needs a 'url': 'chdb:<folder>' for the embedded engine "
            "or 'http(s)://host:port' for a server."
        )

    if url.startswith("chdb:"):
        folder = url.removeprefix("chdb:").removeprefix("//")
        if not folder:
            raise PlanError(
                f"The {where} has url {url!r} without a folder; write it as "
                "'chdb:<folder>', for example 'chdb:.etlkit/chdb'."
            )
        return "chdb://" + str(_resolve_path(folder, base))

    if url.startswith(("http://", "https://")):
        netloc = url.split("://", 1)[1].split("/", 1)[0]
        if "@" in netloc:
            raise PlanError(
                f"The {where} has credentials inside its url; remove them and "
                "name their env variables under 'secrets' instead."
            )
        return url.rstrip("/")

    raise PlanError(
        f"The {where} has url {url!r}; use 'chdb:<folder>' or 'http(s)://host:port'."
    )


def _duckdb_path(path: Any, base: Path, where: str) -> str:
    if not isinstance(path, str) or not path:
        raise PlanError(
            f"The {where} needs a 'path' to its DuckDB file, "
            "for example '.etlkit/warehouse.duckdb'."
        )
    return str(_resolve_path(path, base))


def _resolve_path(text: str, base: Path) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _parse_namespaces(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(item, str) and _is_identifier(item) for item in value
    ):
        raise PlanError(
            f"The {where} has 'namespaces' {value!r}; write a list of identifiers "
            'such as ["analytics"].'
        )
    return tuple(value)


def _parse_secrets(value: Any, connector: str, where: str) -> tuple[SecretRef, ...]:
    if not isinstance(value, Mapping):
        raise PlanError(
            f"The {where} has 'secrets' that is not a table; write "
            'secrets.<setting> = { env = "NAME" }.'
        )

    secrets = []
    for setting, entry in value.items():
        if connector == "clickhouse" and setting not in CLICKHOUSE_SETTINGS:
            known = ", ".join(CLICKHOUSE_SETTINGS)
            raise PlanError(
                f"The {where} declares secret setting {setting!r}; "
                f"a ClickHouse connection takes: {known}."
            )
        if connector == "duckdb":
            raise PlanError(
                f"The {where} declares secret setting {setting!r}, but a DuckDB "
                "file takes no secrets; remove the 'secrets' table."
            )
        secrets.append(_parse_secret(setting, entry, where))
    return tuple(secrets)


def _parse_secret(setting: str, entry: Any, where: str) -> SecretRef:
    env = entry.get("env") if isinstance(entry, Mapping) else None
    if not isinstance(env, str) or not _ENV_NAME.fullmatch(env):
        raise PlanError(
            f"The {where} has secret {setting!r} without a valid env variable "
            f'name; write secrets.{setting} = {{ env = "NAME" }} with NAME made '
            "of letters, digits and underscores. A registry never holds values."
        )

    required = entry.get("required", True)
    if not isinstance(required, bool):
        raise PlanError(
            f"The {where} has secret {setting!r} with 'required' = {required!r}; "
            "use true or false."
        )
    return SecretRef(setting=setting, env=env, required=required)
