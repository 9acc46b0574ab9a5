"""Credentials come from the environment only: no password, token or key is written into a config file.

dbt reads them with `env_var` in profiles.yml, Dagster's instance config with `{env: ...}`, and the platform's
own settings (the alert webhook URL) with `Settings.from_env` (docs/pay-data-protection.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]

SECRET_KEY = re.compile(r"pass(word)?|token|secret|api_?key|private_?key|keyfile|credential", re.IGNORECASE)
"""Config keys whose value is a credential (dbt adapters' `password`, `token`, `keyfile_json`, ...)."""

FROM_ENVIRONMENT = re.compile(r"^\{\{\s*env_var\(\s*'[A-Z][A-Z0-9_]*'\s*(,\s*'')?\s*\)\s*\}\}$")
"""A dbt `env_var` call, with no default or an empty one (a non-empty default would be a literal secret)."""


def _entries(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _entries(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _entries(value, f"{path}[{index}]")
    else:
        yield path, node


def literal_secrets_in_dbt_profile(profile: dict) -> list[str]:
    """Paths of credential settings in a dbt profile that are not read from the environment."""
    return [
        path
        for path, value in _entries(profile)
        if SECRET_KEY.search(path.rsplit(".", 1)[-1]) and not FROM_ENVIRONMENT.match(str(value).strip())
    ]


def literal_secrets_in_dagster_config(config: dict) -> list[str]:
    """Paths of credential settings in a Dagster instance config that are not `{env: VAR}`."""
    found = []
    for path, value in _entries(config):
        *parents, leaf = path.split(".")
        if leaf == "env":  # {password: {env: SPM_...}}
            continue
        if any(SECRET_KEY.search(part) for part in [*parents, leaf]) and value not in (None, ""):
            found.append(path)
    return found


def test_the_dbt_profile_reads_every_credential_from_the_environment():
    profile = yaml.safe_load((REPO_ROOT / "dbt_project" / "profiles.yml").read_text())
    assert profile["spm"]["outputs"]["postgres"]["password"], "the postgres target must name its password setting"
    assert literal_secrets_in_dbt_profile(profile) == []


def test_the_dagster_instance_config_holds_no_literal_credential():
    config = yaml.safe_load((REPO_ROOT / "dagster.yaml").read_text())
    assert literal_secrets_in_dagster_config(config) == []


@pytest.mark.parametrize(
    "password",
    ["hunter2", "{{ env_var('SPM_PG_PASSWORD', 'hunter2') }}", "{{ 'hunter2' }}", "{{ env_var('X') }}x"],
)
def test_a_literal_password_in_a_dbt_profile_is_found(password: str):
    profile = {"spm": {"outputs": {"postgres": {"type": "postgres", "password": password, "user": "spm"}}}}
    assert literal_secrets_in_dbt_profile(profile) == ["spm.outputs.postgres.password"]


def test_a_token_or_password_from_the_environment_passes():
    profile = {
        "spm": {
            "outputs": {
                "databricks": {"token": "{{ env_var('DATABRICKS_TOKEN') }}"},
                "postgres": {"password": "{{ env_var('SPM_PG_PASSWORD', '') }}"},
            }
        }
    }
    assert literal_secrets_in_dbt_profile(profile) == []


def test_a_literal_credential_in_dagster_config_is_found():
    config = {"storage": {"postgres": {"postgres_db": {"password": "hunter2", "username": {"env": "PG_USER"}}}}}
    assert literal_secrets_in_dagster_config(config) == ["storage.postgres.postgres_db.password"]
    config["storage"]["postgres"]["postgres_db"]["password"] = {"env": "SPM_DAGSTER_PG_PASSWORD"}
    assert literal_secrets_in_dagster_config(config) == []
