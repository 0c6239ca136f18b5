"""``etlkit refs``: the connections spec refs resolve to."""

from __future__ import annotations

import argparse
import json
from typing import Any

from etlkit.errors import EtlkitError
from etlkit.registry import Connection, load_registry


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``refs`` to the CLI."""
    refs = subparsers.add_parser("refs", help="list the registered connections")
    refs.add_argument("--json", action="store_true", help="print JSON")
    refs.add_argument("--registry", metavar="PATH", help="the etlkit.toml to use")
    refs.set_defaults(handler=run_refs)


def run_refs(args: argparse.Namespace) -> int:
    """Print every connection of the registry and the refs it accepts."""
    try:
        registry = load_registry(args.registry)
    except EtlkitError as error:
        if not args.json:
            raise
        print(json.dumps({"status": "error", "error": str(error)}, indent=2))
        return error.exit_code

    connections = [describe(connection) for connection in registry.connections.values()]
    if args.json:
        payload = {"registry": str(registry.path), "connections": connections}
        print(json.dumps(payload, indent=2))
        return 0

    for item in connections:
        secrets = ",".join(
            f"{secret['setting']}:{secret['env']}" for secret in item["secrets"]
        )
        print(
            f"connection={item['name']} connector={item['connector']} "
            f"role={item['role']} location={item['location']} "
            f"secret_env={secrets or '-'}"
        )
        for ref in item["refs"]:
            print(f"  ref={ref}")
    print(f"registry={registry.path} connections={len(connections)}")
    return 0


def describe(connection: Connection) -> dict[str, Any]:
    """Return a connection as a JSON-ready dict; it holds no secret value."""
    namespaces = connection.namespaces or ("<namespace>",)
    return {
        "name": connection.name,
        "connector": connection.connector,
        "role": connection.role,
        "location": connection.location,
        "namespaces": list(connection.namespaces),
        "refs": [f"{connection.name}.{space}.<table>" for space in namespaces],
        "secrets": [
            {"setting": secret.setting, "env": secret.env, "required": secret.required}
            for secret in connection.secrets
        ],
        "description": connection.description,
    }
