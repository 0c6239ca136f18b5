"""Plan checks: each finding has a spec that triggers it and one that passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from etlkit.profiles import load_profiles
from etlkit.registry import load_registry
from etlkit.errors import PlanError
from etlkit.spec import (
    FINDING_CODES,
    lint_spec,
    read_spec_document,
    require_clean_spec,
)

REPO = Path(__file__).resolve().parents[1]

REGISTRY = """
[connections.source]
connector = "clickhouse"
url = "chdb:data/chdb"
namespaces = ["analytics"]
secrets.username = { env = "SOURCE_CLICKHOUSE_USER", required = false }
secrets.password = { env = "SOURCE_CLICKHOUSE_PASSWORD", required = false }

[connections.server]
connector = "clickhouse"
url = "https://clickhouse.example.com:8443"
secrets.username = { env = "SERVER_CLICKHOUSE_USER" }
secrets.password = { env = "SERVER_CLICKHOUSE_PASSWORD" }

[connections.warehouse]
connector = "duckdb"
path = "data/warehouse.duckdb"
"""

PROFILES = """
[profiles.demo]
SOURCE_CLICKHOUSE_USER = { env = "DEMO_USER", optional = true }
SOURCE_CLICKHOUSE_PASSWORD = { file = "demo.password", optional = true }

[profiles.server]
SERVER_CLICKHOUSE_USER = { env = "PROD_USER" }
SERVER_CLICKHOUSE_PASSWORD = { file = "prod.password" }
"""

BASE = {
    "movement": "source_to_target",
    "source_ref": "source.analytics.events",
    "target_ref": "warehouse.analytics.events",
    "credential_profile": "demo",
    "allow_env": ["SOURCE_CLICKHOUSE_*"],
    "idempotency_key": "events-2024-06-01",
    "retry": {"max_attempts": 3, "when": ["rate_limit", "transient_network"]},
    "validation": ["row_count", "decimal_sums", "tallies", "content_sha256"],
    "checksum_columns": ["event_id", "event_type", "revenue"],
    "artifacts": ["logs/*.log"],
    "redact": ["password"],
}

DROP = object()

SERVER = {
    "source_ref": "server.analytics.events",
    "credential_profile": "server",
    "allow_env": ["SERVER_CLICKHOUSE_*"],
}

# code, a change that triggers it, a near miss that does not.
CASES = [
    ("spec-invalid", {"colour": "blue"}, {"timeout_seconds": 900}),
    ("spec-invalid", {"retry": {"max_attempts": 0}}, {"retry": {"max_attempts": 1}}),
    ("spec-invalid", {"sync_mode": "mirror"}, {"sync_mode": "full_refresh_append"}),
    ("spec-invalid", {"source_ref": DROP}, {"transport": "protocol"}),
    (
        "secret-value",
        {"artifacts": ["https://admin:hunter2@db.example.com/x"]},
        {"artifacts": ["reports/*.json"]},
    ),
    ("secret-value", {"idempotency_key": "password=hunter2"}, {"redact": ["password"]}),
    ("secret-value", {"redact": ["AKIAIOSFODNN7EXAMPLE"]}, {"redact": ["aws_key"]}),
    (
        "secret-value",
        {"idempotency_key": "Zq8xN2vLp4RtY7wKm3Hs9Bc"},
        {"idempotency_key": "3f2a9c1e-7b4d-4e8a-9c2f-1a2b3c4d5e6f"},
    ),
    ("secret-value", {"api_key": "abc"}, {"redact": ["api_key"]}),
    ("row-payload", {"rows": [{"event_id": 1}]}, {"streams": ["events"]}),
    (
        "row-payload",
        {"checksum_columns": ["event_id,revenue\n1,2.50\n2,3.75"]},
        {"checksum_columns": ["event_id", "revenue"]},
    ),
    ("row-payload", {"idempotency_key": '[{"event_id": 1}]'}, {}),
    (
        "ref-unresolved",
        {"source_ref": "nowhere.analytics.events"},
        {"source_ref": "source.analytics.events"},
    ),
    (
        "ref-unresolved",
        {"target_ref": "warehouse"},
        {"target_ref": "warehouse.analytics"},
    ),
    ("ref-unresolved", {"source_ref": "source.sales.events"}, {}),
    ("ref-role", {"source_ref": "warehouse.analytics.events"}, {}),
    (
        "streams-missing",
        {"source_ref": "source.analytics", "target_ref": "warehouse.analytics"},
        {
            "source_ref": "source.analytics",
            "target_ref": "warehouse.analytics",
            "streams": ["events", "sessions"],
        },
    ),
    ("streams-conflict", {"streams": ["sessions"]}, {"streams": ["events"]}),
    (
        "target-table-conflict",
        {"target_ref": "warehouse.analytics.events_copy"},
        {"target_ref": "warehouse.analytics"},
    ),
    (
        "cursor-missing",
        {"sync_mode": "incremental_append"},
        {"sync_mode": "incremental_append", "cursor_field": "event_time"},
    ),
    (
        "primary-key-missing",
        {"sync_mode": "incremental_append_dedup", "cursor_field": "event_time"},
        {
            "sync_mode": "incremental_append_dedup",
            "cursor_field": "event_time",
            "primary_key": ["event_id"],
        },
    ),
    (
        "validation-unknown",
        {"validation": ["row_count", "vibes"]},
        {"validation": ["row_count", "freshness", "schema_drift", "full_row_sha256"]},
    ),
    ("validation-empty", {"validation": []}, {"validation": ["row_count"]}),
    (
        "retry-class-unknown",
        {"retry": {"max_attempts": 2, "when": ["cosmic_rays"]}},
        {"retry": {"max_attempts": 2, "when": ["timeout", "capacity"]}},
    ),
    (
        "retry-unsafe",
        {
            "retry": {"max_attempts": 2, "when": ["partial_write"]},
            "idempotency_key": DROP,
        },
        {"retry": {"max_attempts": 2, "when": ["partial_write"]}},
    ),
    ("idempotency-key-malformed", {"idempotency_key": ""}, {"idempotency_key": DROP}),
    (
        "idempotency-key-malformed",
        {"idempotency_key": "has spaces in it"},
        {"idempotency_key": "run:2024-06-01.a_b"},
    ),
    ("artifact-absolute", {"artifacts": ["/etc/passwd"]}, {"artifacts": ["logs/*"]}),
    ("artifact-absolute", {"artifacts": ["~/notes.txt"]}, {"artifacts": ["notes.txt"]}),
    (
        "artifact-escape",
        {"artifacts": ["../outside/*.log"]},
        {"artifacts": ["**/*.log"]},
    ),
    ("artifact-escape", {"artifacts": ["logs/../../x"]}, {"artifacts": ["logs/..x"]}),
    ("artifact-link", {"artifacts": ["escape/*.log"]}, {"artifacts": ["logs/*.log"]}),
    ("artifact-link", {"artifacts": ["escape"]}, {"artifacts": ["logs"]}),
    (
        "profile-missing",
        {"credential_profile": "nobody"},
        {"credential_profile": "demo"},
    ),
    (
        "profile-missing",
        {**SERVER, "credential_profile": DROP, "allow_env": DROP},
        SERVER,
    ),
    ("profile-incomplete", {**SERVER, "credential_profile": "demo"}, SERVER),
    ("allow-env-everything", {"allow_env": ["*"]}, {"allow_env": ["SOURCE_*"]}),
    ("allow-env-everything", {"allow_env": ["?*"]}, {"allow_env": ["S*"]}),
    (
        "allow-env-malformed",
        {"allow_env": ["SOURCE-*"]},
        {"allow_env": ["SOURCE_CLICKHOUSE_?SER"]},
    ),
    ("allow-env-malformed", {"allow_env": ["SOURCE_[AB]"]}, {}),
    (
        "allow-env-unprovided",
        {"allow_env": ["SOURCE_CLICKHOUSE_USER", "WAREHOUSE_*"]},
        {"allow_env": ["SOURCE_CLICKHOUSE_USER"]},
    ),
    (
        "allow-env-unprovided",
        {"credential_profile": DROP},
        {"credential_profile": DROP, "allow_env": []},
    ),
    (
        "allow-env-missing",
        {**SERVER, "allow_env": ["SERVER_CLICKHOUSE_USER"]},
        {**SERVER, "allow_env": ["SERVER_CLICKHOUSE_USER", "SERVER_*_PASSWORD"]},
    ),
]


@pytest.fixture
def setting(tmp_path):
    """A registry, a profiles file and a workspace with a link leading out."""
    (tmp_path / "etlkit.toml").write_text(REGISTRY)
    (tmp_path / "profiles.toml").write_text(PROFILES)

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "stolen.log").write_text("not the workspace's\n")
    workspace = tmp_path / "workspace"
    (workspace / "logs").mkdir(parents=True)
    (workspace / "logs" / "run.log").write_text("phase=sync\n")
    (workspace / "escape").symlink_to(outside, target_is_directory=True)

    return {
        "registry": load_registry(tmp_path / "etlkit.toml"),
        "profiles": load_profiles(tmp_path / "profiles.toml"),
        "workspace": workspace,
    }


def spec_with(changes):
    document = {**BASE, **changes}
    return {key: value for key, value in document.items() if value is not DROP}


def codes(document, setting):
    return [finding.code for finding in lint_spec(document, **setting)]


def test_the_base_spec_is_clean(setting):
    assert lint_spec(BASE, **setting) == []


@pytest.mark.parametrize(
    ("code", "trigger", "near_miss"),
    CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)],
)
def test_finding(code, trigger, near_miss, setting):
    assert code in codes(spec_with(trigger), setting)
    assert code not in codes(spec_with(near_miss), setting)


def test_every_finding_code_has_a_case():
    assert {case[0] for case in CASES} == set(FINDING_CODES)


def test_findings_name_the_field_and_the_fix(setting):
    document = spec_with({"allow_env": ["*"], "validation": ["vibes"]})

    findings = lint_spec(document, **setting)

    by_code = {finding.code: finding for finding in findings}
    assert sorted(by_code) == ["allow-env-everything", "validation-unknown"]
    assert by_code["allow-env-everything"].path == "allow_env[0]"
    assert by_code["validation-unknown"].path == "validation[0]"
    assert "'vibes'" in by_code["validation-unknown"].message
    assert "row_count" in by_code["validation-unknown"].fix


def test_a_secret_value_is_never_repeated_in_a_finding(setting):
    secret = "Zq8xN2vLp4RtY7wKm3Hs9Bc"
    document = spec_with(
        {"artifacts": [f"https://admin:{secret}@db.example.com"], "password": secret}
    )

    findings = lint_spec(document, **setting)

    assert {finding.code for finding in findings} >= {"secret-value", "spec-invalid"}
    assert not any(secret in str(finding) for finding in findings)


def test_an_invalid_field_does_not_hide_the_other_findings(setting):
    document = spec_with({"timeout_seconds": "soon", "validation": ["vibes"]})

    found = codes(document, setting)

    assert "spec-invalid" in found
    assert "validation-unknown" in found


def test_links_are_only_followed_when_a_workspace_is_given(setting):
    document = spec_with({"artifacts": ["escape/*.log"]})

    findings = lint_spec(
        document, registry=setting["registry"], profiles=setting["profiles"]
    )

    assert findings == []


def test_the_demo_spec_lints_clean_with_the_demo_profile(tmp_path):
    profiles = tmp_path / "profiles.toml"
    profiles.write_text(
        "[profiles.demo]\n"
        'SOURCE_CLICKHOUSE_USER = { env = "ETLKIT_DEMO_USER", optional = true }\n'
        'SOURCE_CLICKHOUSE_PASSWORD = { file = "demo.password", optional = true }\n'
    )
    document = read_spec_document(REPO / "examples" / "demo.spec.yaml")

    findings = lint_spec(
        document,
        registry=load_registry(REPO / "etlkit.toml"),
        profiles=load_profiles(profiles),
        workspace=REPO,
    )

    assert findings == []


def test_the_gate_before_a_lease_returns_the_spec_or_lists_the_findings(setting):
    spec = require_clean_spec(BASE, **setting)
    assert spec.source_ref == "source.analytics.events"

    with pytest.raises(PlanError, match=r"1 plan finding.*validation-empty"):
        require_clean_spec(spec_with({"validation": []}), **setting)
