"""The ``etlkit spec`` and ``etlkit refs`` commands, human and --json output."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
import yaml

from etlkit.cli import COMMAND_MODULES
from etlkit.cli import _refs as refs_command
from etlkit.cli import _spec as spec_command
from etlkit.errors import EtlkitError

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo.spec.yaml"
REGISTRY = REPO / "etlkit.toml"

DEMO_PROFILE = """
[profiles.demo]
SOURCE_CLICKHOUSE_USER = { env = "ETLKIT_DEMO_USER", optional = true }
SOURCE_CLICKHOUSE_PASSWORD = { env = "ETLKIT_DEMO_PASSWORD", optional = true }
"""


def run(argv, capsys):
    """Run one command as the CLI does; return its exit code, stdout and stderr."""
    parser = argparse.ArgumentParser(prog="etlkit")
    commands = parser.add_subparsers(dest="command", required=True)
    spec_command.register(commands)
    refs_command.register(commands)

    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
    except EtlkitError as error:
        print(f"etlkit: {error.failure_class} {error}")
        code = error.exit_code

    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def profiles(tmp_path):
    path = tmp_path / "profiles.toml"
    path.write_text(DEMO_PROFILE)
    return path


def write_spec(folder: Path, name: str, **changes) -> Path:
    document = {**yaml.safe_load(DEMO.read_text()), **changes}
    path = folder / name
    dump = json.dumps if path.suffix == ".json" else yaml.safe_dump
    path.write_text(dump(document))
    return path


def lint_args(spec: Path, profiles: Path, *extra: str) -> list[str]:
    return [
        "spec",
        "lint",
        str(spec),
        "--registry",
        str(REGISTRY),
        "--profiles",
        str(profiles),
        *extra,
    ]


def test_the_commands_are_registered_with_the_cli():
    assert {"spec", "refs"} <= set(COMMAND_MODULES)


def test_spec_schema_prints_the_json_schema(capsys):
    code, out, _ = run(["spec", "schema"], capsys)

    schema = json.loads(out)
    assert code == 0
    assert schema["additionalProperties"] is False
    assert "source_ref" in schema["properties"]


def test_the_demo_spec_lints_clean(capsys, profiles):
    code, out, _ = run(lint_args(DEMO, profiles), capsys)

    assert code == 0
    assert out == f"spec={DEMO} findings=0 status=ok\n"


def test_lint_json_reports_the_clean_demo(capsys, profiles):
    code, out, _ = run(lint_args(DEMO, profiles, "--json"), capsys)

    report = json.loads(out)
    assert code == 0
    assert report["status"] == "ok"
    assert report["findings"] == []
    assert report["registry"] == str(REGISTRY)


def test_lint_lists_each_finding_with_its_code_path_and_fix(capsys, profiles, tmp_path):
    spec = write_spec(tmp_path, "bad.yaml", allow_env=["*"], validation=["vibes"])

    code, out, _ = run(lint_args(spec, profiles), capsys)

    assert code == 2
    assert "finding code=allow-env-everything path=allow_env[0]" in out
    assert "finding code=validation-unknown path=validation[0]" in out
    assert "  fix: Use one of: row_count," in out
    assert out.endswith(f"spec={spec} findings=2 status=fail\n")


def test_lint_json_lists_the_findings(capsys, profiles, tmp_path):
    spec = write_spec(tmp_path, "bad.json", credential_profile="nobody")

    code, out, _ = run(lint_args(spec, profiles, "--json"), capsys)

    report = json.loads(out)
    assert code == 2
    assert report["status"] == "fail"
    assert [item["code"] for item in report["findings"]] == ["profile-missing"]
    assert set(report["findings"][0]) == {"code", "path", "message", "fix"}


def test_lint_of_a_missing_file_is_a_plan_error(capsys, profiles, tmp_path):
    missing = tmp_path / "missing.yaml"

    code, out, _ = run(lint_args(missing, profiles), capsys)
    json_code, json_out, _ = run(lint_args(missing, profiles, "--json"), capsys)

    assert code == json_code == 2
    assert "etlkit: F1 The spec file" in out
    report = json.loads(json_out)
    assert report["status"] == "error"
    assert report["failure_class"] == "F1"
    assert "missing.yaml" in report["error"]


def test_diff_lists_the_changed_input(capsys, tmp_path):
    new = write_spec(tmp_path, "new.yaml", timeout_seconds=1200)

    code, out, _ = run(["spec", "diff", str(DEMO), str(new)], capsys)

    assert code == 0
    assert out == (
        "changed field=timeout_seconds old=600 new=1200\nchanges=1 repair=ok\n"
    )


def test_diff_repair_accepts_one_bounded_change(capsys, tmp_path):
    new = write_spec(tmp_path, "new.yaml", retry={"max_attempts": 5, "when": []})

    code, out, _ = run(["spec", "diff", str(DEMO), str(new), "--repair"], capsys)

    assert code == 0
    assert out.endswith("changes=1 repair=ok\n")


def test_diff_repair_refuses_turning_off_validation(capsys, tmp_path):
    new = write_spec(tmp_path, "new.yaml", validation=["row_count"])

    code, out, _ = run(["spec", "diff", str(DEMO), str(new), "--repair"], capsys)
    plain_code, _, _ = run(["spec", "diff", str(DEMO), str(new)], capsys)

    assert code == 2
    assert plain_code == 0
    assert "violation The repair turns off validation" in out
    assert out.endswith("changes=1 repair=broken\n")


def test_diff_json_reports_changes_and_violations(capsys, tmp_path):
    new = write_spec(
        tmp_path, "new.json", timeout_seconds=60, artifacts=[], transport="protocol"
    )

    code, out, _ = run(
        ["spec", "diff", str(DEMO), str(new), "--json", "--repair"], capsys
    )

    report = json.loads(out)
    assert code == 2
    assert [change["field"] for change in report["changes"]] == [
        "artifacts",
        "timeout_seconds",
        "transport",
    ]
    assert report["repair"] == "broken"
    assert len(report["violations"]) == 2


def test_refs_lists_the_demo_connections(capsys):
    code, out, _ = run(["refs", "--registry", str(REGISTRY)], capsys)

    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("connection=source connector=clickhouse role=source")
    assert "secret_env=username:SOURCE_CLICKHOUSE_USER" in lines[0]
    assert "  ref=source.analytics.<table>" in lines
    assert "  ref=warehouse.analytics.<table>" in lines
    assert lines[-1] == f"registry={REGISTRY} connections=2"


def test_refs_json_finds_the_registry_from_the_working_folder(capsys, monkeypatch):
    monkeypatch.chdir(REPO / "examples")

    code, out, _ = run(["refs", "--json"], capsys)

    report = json.loads(out)
    assert code == 0
    assert report["registry"] == str(REGISTRY)
    by_name = {item["name"]: item for item in report["connections"]}
    assert by_name["source"]["location"].startswith("chdb:///")
    assert by_name["warehouse"]["role"] == "target"
    assert by_name["source"]["secrets"][1] == {
        "setting": "password",
        "env": "SOURCE_CLICKHOUSE_PASSWORD",
        "required": False,
    }


def test_refs_json_reports_a_missing_registry(capsys, tmp_path):
    code, out, _ = run(
        ["refs", "--json", "--registry", str(tmp_path / "none.toml")], capsys
    )

    assert code == 2
    assert json.loads(out)["status"] == "error"
