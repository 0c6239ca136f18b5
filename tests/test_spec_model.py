"""The spec model: loading JSON and YAML, unknown fields, defaults and the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

import etlkit.spec
from etlkit.errors import PlanError
from etlkit.spec import (
    KNOWN_VALIDATIONS,
    RETRY_CLASSES,
    JobSpec,
    SyncMode,
    load_spec,
    parse_spec,
    spec_json_schema,
)

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "examples" / "demo.spec.yaml"

MINIMAL = {
    "source_ref": "source.analytics.events",
    "target_ref": "warehouse.analytics.events",
}


def test_the_public_surface_is_small_and_explicit():
    assert sorted(etlkit.spec.__all__) == sorted(
        [
            "Change",
            "FINDING_CODES",
            "Finding",
            "JobSpec",
            "KNOWN_VALIDATIONS",
            "RETRY_CLASSES",
            "RetryPolicy",
            "SyncMode",
            "diff_specs",
            "findings_as_dicts",
            "lint_spec",
            "load_spec",
            "parse_spec",
            "read_spec_document",
            "repair_violations",
            "require_clean_spec",
            "spec_json_schema",
        ]
    )
    assert all(hasattr(etlkit.spec, name) for name in etlkit.spec.__all__)


def test_the_demo_spec_loads_from_yaml():
    spec = load_spec(DEMO)

    assert spec.source_ref == "source.analytics.events"
    assert spec.target_ref == "warehouse.analytics.events"
    assert spec.credential_profile == "demo"
    assert spec.validation == ["row_count", "decimal_sums", "tallies", "content_sha256"]
    assert spec.checksum_columns == ["event_id", "event_type", "revenue"]
    assert spec.sync_mode is SyncMode.FULL_REFRESH_OVERWRITE


def test_json_and_yaml_give_the_same_spec(tmp_path):
    document = yaml.safe_load(DEMO.read_text())
    as_json = tmp_path / "demo.json"
    as_json.write_text(json.dumps(document))
    as_yml = tmp_path / "demo.yml"
    as_yml.write_text(yaml.safe_dump(document))

    assert load_spec(as_json) == load_spec(DEMO) == load_spec(as_yml)
    assert load_spec(as_json).digest() == load_spec(DEMO).digest()


def test_defaults_fill_what_a_minimal_spec_leaves_out():
    spec = parse_spec(MINIMAL)

    assert spec.movement == "source_to_target"
    assert spec.validation == ["row_count"]
    assert spec.retry.max_attempts == 1
    assert spec.retry.when == []
    assert spec.timeout_seconds == 600
    assert spec.transport == "fast"


def test_an_unknown_field_is_an_error_that_names_it():
    with pytest.raises(PlanError, match="'colour' is not a spec field"):
        parse_spec({**MINIMAL, "colour": "blue"})


def test_an_unknown_nested_field_is_an_error_that_names_its_path():
    with pytest.raises(PlanError, match="retry.backoff"):
        parse_spec({**MINIMAL, "retry": {"backoff": 2}})


def test_a_missing_ref_is_an_error_that_names_it():
    with pytest.raises(PlanError, match="'target_ref' is required"):
        parse_spec({"source_ref": "source.analytics.events"})


def test_an_invalid_value_is_not_repeated_in_the_error():
    with pytest.raises(PlanError) as caught:
        parse_spec({**MINIMAL, "timeout_seconds": "hunter2-secret"})

    assert "timeout_seconds" in str(caught.value)
    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("broken.yaml", "source_ref: [unclosed", "not valid YAML"),
        ("broken.json", '{"source_ref": ', "not valid JSON"),
        ("list.yaml", "- source_ref\n", "not a mapping"),
    ],
)
def test_an_unreadable_file_is_a_plan_error(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)

    with pytest.raises(PlanError, match=message):
        load_spec(path)


def test_a_missing_file_is_a_plan_error_naming_it(tmp_path):
    with pytest.raises(PlanError, match="nowhere.yaml"):
        load_spec(tmp_path / "nowhere.yaml")


def test_the_schema_forbids_unknown_fields_and_lists_every_field():
    schema = spec_json_schema()

    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == set(JobSpec.model_fields)
    assert schema["required"] == ["source_ref", "target_ref"]
    assert schema["$defs"]["RetryPolicy"]["additionalProperties"] is False
    json.dumps(schema)


def test_the_schema_accepts_the_demo_and_rejects_an_unknown_field():
    schema = spec_json_schema()
    document = yaml.safe_load(DEMO.read_text())

    jsonschema.validate(document, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "rows": []}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**document, "validation": ["vibes"]}, schema)


def test_the_schema_lists_the_sync_modes_and_transports():
    schema = spec_json_schema()

    modes = schema["$defs"]["SyncMode"]["enum"]
    assert modes == [mode.value for mode in SyncMode]
    assert schema["properties"]["transport"]["enum"] == ["fast", "protocol"]


def test_the_schema_lists_the_known_checks_and_retry_classes():
    schema = spec_json_schema()

    checks = schema["properties"]["validation"]["items"]["enum"]
    classes = schema["$defs"]["RetryPolicy"]["properties"]["when"]["items"]["enum"]
    assert checks == list(KNOWN_VALIDATIONS)
    assert "content_sha256" in checks
    assert classes == list(RETRY_CLASSES)
