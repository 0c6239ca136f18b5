"""Credential profiles: where they live, how they resolve, that values never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from etlkit.errors import CredentialError
from etlkit.profiles import (
    default_profiles_path,
    env_admitted,
    load_profiles,
    resolve_profile,
)

CANARY = "canary-Vx7/Q+k=9#s3cr3t"

PROFILES = """
[profiles.demo]
SOURCE_CLICKHOUSE_USER = { env = "DEMO_USER" }
SOURCE_CLICKHOUSE_PASSWORD = { file = "secrets/demo.password" }
SOURCE_CLICKHOUSE_TOKEN = { env = "DEMO_TOKEN", optional = true }
WAREHOUSE_KEY = { file = "nowhere.key" }
"""


@pytest.fixture
def store(tmp_path):
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "demo.password").write_text(CANARY + "\n")
    path = tmp_path / "profiles.toml"
    path.write_text(PROFILES)
    return load_profiles(path)


def test_the_default_path_is_the_user_config_folder(tmp_path):
    home = Path("~/.config/etlkit/profiles.toml").expanduser()

    assert default_profiles_path({}) == home
    assert default_profiles_path({"XDG_CONFIG_HOME": str(tmp_path)}) == (
        tmp_path / "etlkit" / "profiles.toml"
    )
    assert default_profiles_path(
        {"XDG_CONFIG_HOME": str(tmp_path), "ETLKIT_PROFILES": "/srv/p.toml"}
    ) == Path("/srv/p.toml")


def test_the_profiles_variable_overrides_the_default(tmp_path):
    path = tmp_path / "team.toml"
    path.write_text('[profiles.team]\nX = { env = "Y" }\n')

    store = load_profiles(environ={"ETLKIT_PROFILES": str(path)})

    assert list(store.profiles) == ["team"]


def test_a_missing_file_is_an_empty_store(tmp_path):
    store = load_profiles(tmp_path / "none.toml")

    assert not store.exists
    assert store.profiles == {}
    with pytest.raises(CredentialError, match=r"add a \[profiles.demo\] table"):
        store.get("demo")


def test_a_profile_lists_names_and_sources_but_reads_no_value(store, tmp_path):
    profile = store.get("demo")

    assert profile.variables() == (
        "SOURCE_CLICKHOUSE_PASSWORD",
        "SOURCE_CLICKHOUSE_TOKEN",
        "SOURCE_CLICKHOUSE_USER",
        "WAREHOUSE_KEY",
    )
    password = profile.sources["SOURCE_CLICKHOUSE_PASSWORD"]
    assert password.describe() == f"file:{tmp_path}/secrets/demo.password"
    assert CANARY not in repr(store)


def test_resolving_reads_only_what_allow_env_admits(store):
    environ = {"DEMO_USER": "reader"}

    resolved = resolve_profile(
        store.get("demo"), ["SOURCE_CLICKHOUSE_*"], environ=environ
    )

    assert resolved.variables() == (
        "SOURCE_CLICKHOUSE_PASSWORD",
        "SOURCE_CLICKHOUSE_USER",
    )
    assert resolved.sandbox_env() == {
        "SOURCE_CLICKHOUSE_USER": "reader",
        "SOURCE_CLICKHOUSE_PASSWORD": CANARY,
    }


def test_a_resolved_profile_never_prints_a_value(store):
    resolved = resolve_profile(
        store.get("demo"), ["SOURCE_*"], environ={"DEMO_USER": "reader-name"}
    )

    for text in (repr(resolved), str(resolved), f"{resolved}"):
        assert CANARY not in text
        assert "reader-name" not in text
        assert "SOURCE_CLICKHOUSE_PASSWORD=***" in text


def test_a_value_without_source_names_the_variable_not_a_value(store):
    with pytest.raises(CredentialError) as caught:
        resolve_profile(store.get("demo"), ["WAREHOUSE_KEY"], environ={})

    message = str(caught.value)
    assert "WAREHOUSE_KEY" in message
    assert "nowhere.key" in message
    assert "optional = true" in message


def test_a_missing_env_value_is_a_credential_error(store):
    with pytest.raises(CredentialError, match="env:DEMO_USER"):
        resolve_profile(store.get("demo"), ["SOURCE_CLICKHOUSE_USER"], environ={})


def test_a_variable_the_run_needs_must_be_admitted(store):
    with pytest.raises(CredentialError, match="needs SOURCE_CLICKHOUSE_PASSWORD"):
        resolve_profile(
            store.get("demo"),
            ["SOURCE_CLICKHOUSE_USER"],
            required=["SOURCE_CLICKHOUSE_PASSWORD"],
            environ={"DEMO_USER": "reader"},
        )


def test_the_masker_of_a_profile_masks_its_values(store):
    resolved = resolve_profile(
        store.get("demo"), ["SOURCE_*"], environ={"DEMO_USER": "reader-name"}
    )

    masked = resolved.masker().mask_text(f"user=reader-name password={CANARY}")

    assert masked == "user=*** password=***"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[profiles.p]\nX = "hunter2"\n', "never the value"),
        ('[profiles.p]\nX = { env = "A", file = "b" }\n', "exactly one of"),
        ('[profiles.p]\nX = { value = "hunter2" }\n', "exactly one of"),
        ('[profiles.p]\nX = { env = "hunter2 !" }\n', "not an env variable name"),
        ('[profiles.p]\n"BAD NAME" = { env = "A" }\n', "not an env variable name"),
        ('[profiles.p]\nX = { env = "A", optional = "yes" }\n', "use true or false"),
        ("[profiles\n", "not valid TOML"),
    ],
)
def test_a_broken_profiles_file_is_a_credential_error(tmp_path, text, message):
    path = tmp_path / "profiles.toml"
    path.write_text(text)

    with pytest.raises(CredentialError, match=message) as caught:
        load_profiles(path)

    assert "hunter2" not in str(caught.value)


def test_allow_env_patterns_match_case_sensitively():
    assert env_admitted("SOURCE_CLICKHOUSE_USER", ["SOURCE_*"])
    assert not env_admitted("source_clickhouse_user", ["SOURCE_*"])
    assert not env_admitted("HOME", ["SOURCE_*", "WAREHOUSE_?"])
