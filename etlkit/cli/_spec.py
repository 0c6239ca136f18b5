"""``etlkit spec``: the job spec's schema, plan checks and diff."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from etlkit.errors import EtlkitError, PlanError
from etlkit.profiles import load_profiles
from etlkit.registry import load_registry
from etlkit.spec import (
    diff_specs,
    findings_as_dicts,
    lint_spec,
    load_spec,
    read_spec_document,
    repair_violations,
    spec_json_schema,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``spec schema``, ``spec lint`` and ``spec diff`` to the CLI."""
    spec = subparsers.add_parser("spec", help="the job spec: schema, lint, diff")
    commands = spec.add_subparsers(dest="spec_command", metavar="SPEC_COMMAND")
    commands.required = True

    schema = commands.add_parser("schema", help="print the spec's JSON Schema")
    schema.add_argument("--json", action="store_true", help="accepted; always JSON")
    schema.set_defaults(handler=run_schema)

    lint = commands.add_parser("lint", help="check a spec before any run (F1)")
    lint.add_argument("spec", metavar="SPEC", help="a spec file, JSON or YAML")
    lint.add_argument("--json", action="store_true", help="print JSON")
    lint.add_argument("--registry", metavar="PATH", help="the etlkit.toml to use")
    lint.add_argument("--profiles", metavar="PATH", help="the profiles file to use")
    lint.add_argument(
        "--workspace",
        metavar="DIR",
        help="the folder artifact globs are relative to (default: the registry's)",
    )
    lint.set_defaults(handler=run_lint)

    diff = commands.add_parser("diff", help="list the bounded inputs that changed")
    diff.add_argument("old", metavar="OLD", help="the spec of the earlier run")
    diff.add_argument("new", metavar="NEW", help="the spec of the next run")
    diff.add_argument("--json", action="store_true", help="print JSON")
    diff.add_argument(
        "--repair",
        action="store_true",
        help="exit 2 when NEW breaks the repair rule against OLD",
    )
    diff.set_defaults(handler=run_diff)


def run_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema agents write specs against."""
    print(json.dumps(spec_json_schema(), indent=2))
    return 0


def run_lint(args: argparse.Namespace) -> int:
    """Print the plan findings of a spec; exit 2 when there are any."""
    try:
        document = read_spec_document(args.spec)
        registry = load_registry(args.registry)
        profiles = load_profiles(args.profiles)
    except EtlkitError as error:
        return _fail(args, error)

    workspace = Path(args.workspace) if args.workspace else registry.path.parent
    findings = lint_spec(
        document, registry=registry, profiles=profiles, workspace=workspace
    )
    status = "fail" if findings else "ok"

    if args.json:
        _print_json(
            {
                "spec": args.spec,
                "status": status,
                "registry": str(registry.path),
                "profiles": str(profiles.path),
                "findings": findings_as_dicts(findings),
            }
        )
    else:
        for finding in findings:
            print(f"finding code={finding.code} path={finding.path}")
            print(f"  {finding.message}")
            print(f"  fix: {finding.fix}")
        print(f"spec={args.spec} findings={len(findings)} status={status}")
    return PlanError.exit_code if findings else 0


def run_diff(args: argparse.Namespace) -> int:
    """Print the bounded inputs that changed; with --repair, enforce the rule."""
    try:
        old = load_spec(args.old)
        new = load_spec(args.new)
    except EtlkitError as error:
        return _fail(args, error)

    changes = diff_specs(old, new)
    violations = repair_violations(old, new)
    repair = "broken" if violations else "ok"

    if args.json:
        _print_json(
            {
                "old": args.old,
                "new": args.new,
                "changes": [change.as_dict() for change in changes],
                "repair": repair,
                "violations": violations,
            }
        )
    else:
        for change in changes:
            shown = change.as_dict()
            old_value = json.dumps(shown["old"])
            new_value = json.dumps(shown["new"])
            print(f"changed field={change.field} old={old_value} new={new_value}")
        for violation in violations:
            print(f"violation {violation}")
        print(f"changes={len(changes)} repair={repair}")

    if args.repair and violations:
        return PlanError.exit_code
    return 0


def _fail(args: argparse.Namespace, error: EtlkitError) -> int:
    """Report an error as JSON under --json; otherwise let the CLI report it."""
    if not args.json:
        raise error
    _print_json(
        {
            "status": "error",
            "failure_class": error.failure_class,
            "exit_code": error.exit_code,
            "error": str(error),
        }
    )
    return error.exit_code


def _print_json(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, indent=2))
