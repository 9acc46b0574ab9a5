"""A run's settings reach dbt through the environment, and dbt re-parses only what they touch."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.lib.dbt_runs import (
    PARTIAL_PARSE_FILE,
    RUN_SETTING_ENVIRONMENT,
    engine_fault,
    keep_partial_parse,
    run_settings_in_environment,
)

DBT_PROJECT_DIR = Path(__file__).resolve().parent.parent / "dbt_project"


def test_run_settings_are_set_while_dbt_starts_and_the_environment_is_restored_after(monkeypatch):
    monkeypatch.setenv("SPM_RUN_ID", "left-over-from-the-shell")
    monkeypatch.delenv("SPM_PARTITION_START_MONTH", raising=False)

    with run_settings_in_environment({"partition_start_month": "2026-03-01", "spm_code_version": "abc"}):
        assert os.environ["SPM_PARTITION_START_MONTH"] == "2026-03-01"
        assert os.environ["SPM_CODE_VERSION"] == "abc"
        # a setting not given must not reach dbt from the surrounding environment
        assert "SPM_RUN_ID" not in os.environ and "SPM_PARTITION_END_MONTH" not in os.environ

    assert "SPM_PARTITION_START_MONTH" not in os.environ
    assert os.environ["SPM_RUN_ID"] == "left-over-from-the-shell"


def test_an_unknown_run_setting_is_refused():
    with pytest.raises(ValueError, match="unknown dbt run settings"), run_settings_in_environment({"month": "x"}):
        pass


def test_the_macro_reads_the_same_environment_variables_python_sets():
    macro = (DBT_PROJECT_DIR / "macros" / "run_context.sql").read_text()
    assert dict(re.findall(r"'(\w+)': '(SPM_\w+)'", macro)) == RUN_SETTING_ENVIRONMENT


def test_keep_partial_parse_replaces_the_seed_and_ignores_an_invocation_without_one(tmp_path):
    invocation, project_target = tmp_path / "invocation", tmp_path / "target"
    invocation.mkdir()
    assert keep_partial_parse(invocation, project_target) is False

    (invocation / PARTIAL_PARSE_FILE).write_bytes(b"new parse")
    project_target.mkdir()
    (project_target / PARTIAL_PARSE_FILE).write_bytes(b"old parse")
    assert keep_partial_parse(invocation, project_target) is True
    assert (project_target / PARTIAL_PARSE_FILE).read_bytes() == b"new parse"
    assert [p.name for p in project_target.iterdir()] == [PARTIAL_PARSE_FILE]


def _parse(target: Path, settings: dict[str, str]) -> list[dict]:
    """`dbt parse` into `target` with the run settings in the environment; dbt's structured log events."""
    env = {k: v for k, v in os.environ.items() if k not in RUN_SETTING_ENVIRONMENT.values()}
    env.update({RUN_SETTING_ENVIRONMENT[k]: v for k, v in settings.items()})
    env.update(DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_LOG_FORMAT="json")
    out = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "parse", "--target-path", str(target), "--log-path", str(target)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_a_new_run_window_reparses_only_the_files_that_read_it(tmp_path, dbt_manifest):
    seed = tmp_path / "seed"
    _parse(seed, {"partition_start_month": "2026-01-01", "spm_run_id": "run-1"})
    nodes = len(json.loads((seed / "manifest.json").read_text())["nodes"])

    target = tmp_path / "next_run"
    target.mkdir()
    shutil.copyfile(seed / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
    events = _parse(target, {"partition_start_month": "2026-02-01", "spm_run_id": "run-2"})

    names = {e["info"]["name"] for e in events}
    assert "UnableToPartialParse" not in names, [e["info"]["msg"] for e in events if "Partial" in e["info"]["name"]]
    assert len(json.loads((target / "manifest.json").read_text())["nodes"]) == nodes


def test_a_duckdb_internal_failure_is_an_engine_fault_and_a_sql_or_data_error_is_not(tmp_path):
    assert engine_fault(tmp_path) is None  # no log: nothing to retry

    (tmp_path / "dbt.log").write_text(
        '{"info": {"msg": "1 of 2 START sql incremental model intermediate.int_commission_evaluation_amounts"}}\n'
        '{"info": {"msg": "FATAL Error: Failed: database has been invalidated because of a previous fatal error. '
        'Original error: dict-surviving cache: global dictionary column 9 changed identity"}}\n'
    )
    assert "database has been invalidated" in engine_fault(tmp_path)

    (tmp_path / "dbt.log").write_text(
        '{"info": {"msg": "Binder Error: Referenced column \\"amount_eur\\" not found"}}\n'
        '{"info": {"msg": "Failure in test unique_fct_monthly_payouts_payout_id"}}\n'
    )
    assert engine_fault(tmp_path) is None
