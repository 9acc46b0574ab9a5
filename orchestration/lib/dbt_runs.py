"""How a Dagster step hands its run's settings to dbt, and keeps dbt's parse between invocations.

Two fixed costs of every run come from parsing the dbt project (about 200 nodes, 4-7 s per invocation on the
default machine, and a run has two invocations):

* dbt re-parses everything when the `--vars` of an invocation differ from its last parse, and the partition
  window, run id and code version differ in every run. They go to dbt as environment variables instead
  (`run_setting()` in dbt_project/macros/run_context.sql): a changed environment variable re-parses only the
  few files that read it.
* dagster-dbt runs each invocation in a fresh target folder, seeded with the project's
  `target/partial_parse.msgpack`, but never writes the result back. When that seed was parsed under another
  profile (the setup's `dbt parse` with a different warehouse path, say), every invocation parses from
  scratch. `keep_partial_parse` copies an invocation's parse back, so the next one starts from it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

RUN_SETTING_ENVIRONMENT: dict[str, str] = {
    "partition_start_month": "SPM_PARTITION_START_MONTH",
    "partition_end_month": "SPM_PARTITION_END_MONTH",
    "spm_run_id": "SPM_RUN_ID",
    "spm_code_version": "SPM_CODE_VERSION",
}
"""dbt run setting -> environment variable; the same table is in the `run_setting` macro."""

PARTIAL_PARSE_FILE = "partial_parse.msgpack"


@contextmanager
def run_settings_in_environment(settings: Mapping[str, str]) -> Iterator[None]:
    """Expose the settings as environment variables while the dbt process is started, then restore.

    Settings not given are removed for that time, so a value left in the shell (or by an earlier step in the
    same process) can never reach dbt: no window means "every month", as with a plain `dbt build`.
    """
    unknown = set(settings) - set(RUN_SETTING_ENVIRONMENT)
    if unknown:
        raise ValueError(f"unknown dbt run settings: {sorted(unknown)}")
    saved = {name: os.environ.get(name) for name in RUN_SETTING_ENVIRONMENT.values()}
    try:
        for setting, variable in RUN_SETTING_ENVIRONMENT.items():
            if setting in settings:
                os.environ[variable] = settings[setting]
            else:
                os.environ.pop(variable, None)
        yield
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value


def keep_partial_parse(invocation_target: Path, project_target: Path) -> bool:
    """Make an invocation's parse the seed of the next one. Returns whether there was one to keep.

    Written to a temporary name and renamed, so a concurrent reader (another code location process copying
    the seed) sees the old file or the new one, never half of one. dbt checks the seed itself (project files,
    profile, vars, environment variables, dbt version) and re-parses whatever no longer matches.
    """
    parsed = invocation_target / PARTIAL_PARSE_FILE
    if not parsed.exists():
        return False
    project_target.mkdir(parents=True, exist_ok=True)
    staging = project_target / f".{PARTIAL_PARSE_FILE}.{os.getpid()}"
    shutil.copyfile(parsed, staging)
    os.replace(staging, project_target / PARTIAL_PARSE_FILE)
    return True


ENGINE_FAULT_MARKERS = ("INTERNAL Error", "FATAL Error", "database has been invalidated")
"""How DuckDB reports a failure of its own (an assertion inside the engine), as opposed to an error in the SQL
or the data. DuckDB 2.0.0 has intermittent ones in its new dictionary-preserving joins ('dict-surviving
cache: global dictionary column ... changed identity'): the same build succeeds when run again."""


def engine_fault(invocation_target: Path) -> str | None:
    """The first line of the invocation's dbt log that reports a database-engine fault, if any.

    Such a fault invalidates the database in that dbt process: the failing model's transaction is lost and its
    post-hooks (which record what an incremental model has seen) never ran, so the warehouse holds what it held
    before that model and running the step again is safe.
    """
    log = invocation_target / "dbt.log"
    if not log.exists():
        return None
    with log.open(errors="replace") as lines:
        for line in lines:
            if any(marker in line for marker in ENGINE_FAULT_MARKERS):
                return line.strip()[:500]
    return None
