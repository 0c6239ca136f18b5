"""The registry: refs resolve to connections, and to the worker's configs."""

from __future__ import annotations

from pathlib import Path

import pytest

from etlkit.errors import PlanError
from etlkit.registry import (
    destination_config,
    find_registry,
    load_registry,
    source_config,
)

REPO = Path(__file__).resolve().parents[1]


def write_registry(folder: Path, text: str) -> Path:
    path = folder / "etlkit.toml"
    path.write_text(text)
    return path


def test_the_repo_registry_holds_the_embedded_demo():
    registry = load_registry(REPO / "etlkit.toml")

    source = registry.connection("source")
    warehouse = registry.connection("warehouse")
    assert source.connector == "clickhouse"
    assert source.is_embedded
    assert source.location == "chdb://" + str(REPO / ".etlkit" / "chdb")
    assert source.secret_env() == {
        "username": "SOURCE_CLICKHOUSE_USER",
        "password": "SOURCE_CLICKHOUSE_PASSWORD",
    }
    assert source.required_env() == ()
    assert warehouse.connector == "duckdb"
    assert warehouse.location == str(REPO / ".etlkit" / "warehouse.duckdb")


def test_demo_refs_resolve_to_the_worker_configs():
    registry = load_registry(REPO / "etlkit.toml")

    source = registry.resolve("source.analytics.events")
    target = registry.resolve("warehouse.analytics.events")

    assert (source.connection.name, source.namespace, source.table) == (
        "source",
        "analytics",
        "events",
    )
    assert source_config(source, []) == {
        "url": "chdb:///" + str(REPO / ".etlkit" / "chdb").lstrip("/"),
        "database": "analytics",
        "tables": ["events"],
    }
    assert destination_config(target) == {
        "path": str(REPO / ".etlkit" / "warehouse.duckdb"),
        "schema": "analytics",
    }


def test_relative_paths_resolve_against_the_registry_folder(tmp_path, monkeypatch):
    path = write_registry(
        tmp_path,
        '[connections.src]\nconnector = "clickhouse"\nurl = "chdb:data/ch"\n'
        '[connections.dst]\nconnector = "duckdb"\npath = "out/w.duckdb"\n',
    )
    monkeypatch.chdir(REPO)

    registry = load_registry(path)

    assert registry.connection("src").location == f"chdb://{tmp_path}/data/ch"
    assert registry.connection("dst").location == str(tmp_path / "out" / "w.duckdb")


def test_an_absolute_chdb_url_is_kept(tmp_path):
    path = write_registry(
        tmp_path,
        '[connections.src]\nconnector = "clickhouse"\nurl = "chdb:///srv/ch"\n',
    )

    assert load_registry(path).connection("src").location == "chdb:///srv/ch"


def test_a_server_gets_its_secrets_from_env_names(tmp_path):
    path = write_registry(
        tmp_path,
        '[connections.prod]\nconnector = "clickhouse"\n'
        'url = "https://ch.example.com:8443/"\n'
        'secrets.username = { env = "PROD_USER" }\n'
        'secrets.password = { env = "PROD_PASSWORD" }\n',
    )
    registry = load_registry(path)

    prod = registry.connection("prod")
    config = source_config(registry.resolve("prod.sales"), ["orders", "refunds"])

    assert not prod.is_embedded
    assert prod.required_env() == ("PROD_USER", "PROD_PASSWORD")
    assert config == {
        "url": "https://ch.example.com:8443",
        "database": "sales",
        "tables": ["orders", "refunds"],
    }


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[connections.p]\nconnector = "clickhouse"\n'
            'url = "https://bob:hunter2@ch.example.com"\n',
            "credentials inside its url",
        ),
        ('[connections.p]\nconnector = "postgres"\nurl = "x"\n', "use one of"),
        ('[connections.p]\nconnector = "clickhouse"\n', "needs a 'url'"),
        (
            '[connections.p]\nconnector = "clickhouse"\nurl = "chdb:"\n',
            "without a folder",
        ),
        (
            '[connections.p]\nconnector = "clickhouse"\nurl = "ftp://x"\n',
            "chdb:<folder>",
        ),
        ('[connections.p]\nconnector = "duckdb"\n', "needs a 'path'"),
        (
            '[connections.p]\nconnector = "clickhouse"\nurl = "chdb:x"\n'
            'secrets.password = { env = "not a name" }\n',
            "valid env variable",
        ),
        (
            '[connections.p]\nconnector = "clickhouse"\nurl = "chdb:x"\n'
            'secrets.password = "hunter2"\n',
            "never holds values",
        ),
        (
            '[connections.p]\nconnector = "clickhouse"\nurl = "chdb:x"\n'
            'secrets.token = { env = "TOKEN" }\n',
            "takes: username, password",
        ),
        (
            '[connections.p]\nconnector = "duckdb"\npath = "w.duckdb"\n'
            'secrets.password = { env = "X" }\n',
            "takes no secrets",
        ),
        ("[connections\n", "not valid TOML"),
    ],
)
def test_a_broken_registry_is_a_plan_error_that_says_what_to_do(
    tmp_path, text, message
):
    path = write_registry(tmp_path, text)

    with pytest.raises(PlanError, match=message) as caught:
        load_registry(path)

    assert "hunter2" not in str(caught.value)


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        ("source", "malformed"),
        ("source.analytics.events.extra", "malformed"),
        ("source.analytics.bad-name", "malformed"),
        ("nowhere.analytics.events", "Connection 'nowhere' is not in the registry"),
        ("source.sales.events", "namespace 'sales'"),
    ],
)
def test_a_bad_ref_is_a_plan_error(ref, message):
    registry = load_registry(REPO / "etlkit.toml")

    with pytest.raises(PlanError, match=message):
        registry.resolve(ref)


def test_a_ref_must_fit_its_role():
    registry = load_registry(REPO / "etlkit.toml")

    with pytest.raises(PlanError, match="cannot be a source"):
        source_config(registry.resolve("warehouse.analytics.events"), [])
    with pytest.raises(PlanError, match="cannot be a target"):
        destination_config(registry.resolve("source.analytics.events"))


def test_a_namespace_ref_needs_streams():
    registry = load_registry(REPO / "etlkit.toml")

    with pytest.raises(PlanError, match="list the streams"):
        source_config(registry.resolve("source.analytics"), [])


def test_the_registry_is_found_above_the_working_folder(tmp_path, monkeypatch):
    path = write_registry(tmp_path, "")
    nested = tmp_path / "notebooks" / "drafts"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)

    assert find_registry() == path
    assert load_registry().path == path


def test_the_registry_env_variable_names_the_file(tmp_path):
    path = write_registry(
        tmp_path, '[connections.w]\nconnector = "duckdb"\npath = "w.duckdb"\n'
    )

    registry = load_registry(environ={"ETLKIT_REGISTRY": str(path)})

    assert list(registry.connections) == ["w"]


def test_no_registry_is_a_plan_error_that_says_where_it_looked(tmp_path):
    with pytest.raises(PlanError, match="No etlkit.toml was found"):
        find_registry(tmp_path)
