"""The diff of two specs and the repair rule."""

from __future__ import annotations

import pytest

from etlkit.spec import diff_specs, parse_spec, repair_violations

BASE = {
    "source_ref": "source.analytics.events",
    "target_ref": "warehouse.analytics.events",
    "credential_profile": "demo",
    "allow_env": ["SOURCE_CLICKHOUSE_*"],
    "idempotency_key": "events-v1",
    "retry": {"max_attempts": 2, "when": ["rate_limit"]},
    "validation": ["row_count", "decimal_sums"],
    "artifacts": ["logs/*.log", "metrics.json"],
    "redact": ["password", "token"],
}


def changed(**fields):
    return parse_spec({**BASE, **fields})


def test_identical_specs_have_no_changes():
    assert diff_specs(parse_spec(BASE), parse_spec(BASE)) == []


def test_one_changed_input_is_listed_with_both_values():
    changes = diff_specs(parse_spec(BASE), changed(timeout_seconds=1200))

    assert [(c.field, c.old, c.new) for c in changes] == [
        ("timeout_seconds", 600, 1200)
    ]


def test_a_default_written_out_is_not_a_change():
    explicit = changed(timeout_seconds=600, transport="fast")

    assert diff_specs(parse_spec(BASE), explicit) == []


def test_reordering_a_set_like_field_is_not_a_change():
    reordered = changed(
        validation=["decimal_sums", "row_count"],
        redact=["token", "password"],
        retry={"max_attempts": 2, "when": ["rate_limit"]},
    )

    assert diff_specs(parse_spec(BASE), reordered) == []


def test_retry_is_one_bounded_input():
    new = changed(retry={"max_attempts": 4, "when": ["rate_limit", "timeout"]})

    changes = diff_specs(parse_spec(BASE), new)

    assert [change.field for change in changes] == ["retry"]
    assert repair_violations(parse_spec(BASE), new) == []


@pytest.mark.parametrize(
    "fields",
    [
        {"validation": ["row_count", "decimal_sums", "tallies"]},
        {"artifacts": ["logs/*.log", "metrics.json", "junit.xml"]},
        {"redact": ["password", "token", "api_key"]},
        {"idempotency_key": "events-v2"},
    ],
)
def test_a_repair_may_change_or_add_to_one_input(fields):
    assert repair_violations(parse_spec(BASE), changed(**fields)) == []


def test_a_repair_must_change_something():
    violations = repair_violations(parse_spec(BASE), parse_spec(BASE))

    assert violations == [
        "A repair changes exactly one bounded input, but 0 changed (nothing); "
        "split the repair into runs that each change one."
    ]


def test_a_repair_may_not_change_two_inputs():
    new = changed(timeout_seconds=900, transport="protocol")

    violations = repair_violations(parse_spec(BASE), new)

    assert len(violations) == 1
    assert "2 changed (timeout_seconds, transport)" in violations[0]


@pytest.mark.parametrize(
    ("fields", "what"),
    [
        ({"validation": ["row_count"]}, "validation"),
        ({"redact": ["password"]}, "redaction"),
        ({"artifacts": []}, "artifact capture"),
    ],
)
def test_a_repair_may_not_turn_off_proof_redaction_or_capture(fields, what):
    violations = repair_violations(parse_spec(BASE), changed(**fields))

    assert violations and f"turns off {what}" in violations[0]


def test_a_secret_looking_value_is_masked_in_the_change():
    secret = "Zq8xN2vLp4RtY7wKm3Hs9Bc"
    change = diff_specs(parse_spec(BASE), changed(idempotency_key=secret))[0]

    assert change.as_dict() == {
        "field": "idempotency_key",
        "old": "events-v1",
        "new": "***",
    }
