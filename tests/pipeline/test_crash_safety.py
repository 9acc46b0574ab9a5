"""Crash safety: a `publish_month_job` run SIGKILLed anywhere leaves nothing partial, and a rerun completes it.

Every kill is a real crash: the run is a separate process (tests/pipeline/crashing_run.py, which runs the job as
`spm publish` does, on the repository's dagster.yaml) that stops for good at the kill point and is SIGKILLed
there - no `finally`, no rollback, no resource teardown. The kill points are chained on one warehouse, each
link resuming the steps the killed runs had not finished (as Dagster's "re-execute from failure" would), so the
whole chain costs about one full run plus a process start per kill point:

    mid-load -> after each step boundary of the job -> inside the publication step -> plain full rerun

After each kill the test checks that the warehouse reopens (its WAL replays), that `published.*`,
`audit.publications` and `audit.month_reopenings` are byte-for-byte what they were before the killed run (or,
for a kill after the publish commit, a complete publication), that `audit.check_results` only gained rows,
that the serving file BI reads is byte-identical, that the raw layer holds no partial file load, and that no
stale lock blocks the next run: the warehouse lock is free, and the next link (and the final rerun) get
through Dagster's `duckdb_writer` pool. Finally a plain rerun's published tables must equal, row for row, those
of a reference run of the same months on a copy of the warehouse that was never killed.

Slow: January, the reference run, the chain and the final rerun are about four runs of the pipeline (4 min 15 s
measured on a shared 2-core box). docs/crash-safety.md has the measured results.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.pipeline.crash_helpers import serving_state, stop, wait_for

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
REPO_ROOT = Path(__file__).resolve().parents[2]
CRASHING_RUN = Path(__file__).with_name("crashing_run.py")
PUBLICATION_STEP = "published__monthly_payouts"
LATER_MONTHS = ("2025-02", "2025-03")
"""Landed files of these months arrive after January is closed: the chain's runs have new files to load."""

KILL_TIMEOUT_SECONDS = 300
RUN_TIMEOUT_SECONDS = 600

VOLATILE_COLUMNS = {
    # which publication wrote a row and when: a rerun is a different publication by design
    "publication_id",
    "published_at",
    "superseded_at",
    "superseded_by_publication_id",
    # audit.publications: the run that published, and the manifest, compared without its run_id
    "run_id",
    "manifest",
}
"""Columns a rerun may change; every other column of the published tables must equal the reference run's."""


@dataclass(frozen=True)
class KillPoint:
    name: str
    """The kill point as crashing_run.py takes it."""
    publishes: bool = False
    """Killed after the publish transaction committed: the publication is complete in the warehouse."""
    leaves_serving_copy: bool = False
    """Killed with a finished new serving copy beside the served file (readers never open it)."""


def step_kill_points(defs) -> list[KillPoint]:
    """One kill point per step boundary of publish_month_job, from the job itself: a step added to the job is a
    new kill point, with nothing to edit here. The loader steps are all the same code on different sources
    (orchestration/defs/ingestion.py): killing after the first source loader (ingestion half done) and after the
    last loader (ingestion done) covers them, provided they run first and together, which is asserted."""
    from orchestration.defs.ingestion import compensation_plans, ingestion_assets, landing_folder

    steps = [node.name for node in defs.resolve_job_def("publish_month_job").nodes_in_topological_order]
    source_loaders = [step for step in steps if step in {a.node_def.name for a in ingestion_assets}]
    # the landing-folder check writes only a refusal record; it runs among the loaders and is killed like them
    loaders = {*source_loaders, compensation_plans.node_def.name, landing_folder.node_def.name}
    loader_positions = [i for i, step in enumerate(steps) if step in loaders]
    assert loader_positions == list(range(len(loaders))), f"the loader steps run first: {steps}"
    # the first source loader is where the mid-load kill happens (the first one with new files), so the chain's
    # next link resumes there
    kill_after = [source_loaders[0], steps[len(loaders) - 1], *steps[len(loaders) : -1]]
    assert steps[-1] == PUBLICATION_STEP, f"publication is the last step: {steps}"
    return [KillPoint(f"after-step:{step}") for step in kill_after]


def kill_points(defs) -> list[KillPoint]:
    """In chain order. The publication step's internal boundaries (checks recorded, publish transaction,
    committed but not yet served, serving copy written but not swapped in) are kill points of their own, since
    checks, publish and serving refresh share one step."""
    return [
        KillPoint("mid-load"),
        *step_kill_points(defs),
        KillPoint("checks-recorded"),
        KillPoint("publish-transaction"),
        KillPoint("publish-committed", publishes=True),
        KillPoint("serving-swap", leaves_serving_copy=True),
    ]


def _env(dagster_storage: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
        "DAGSTER_HOME": str(REPO_ROOT),
        "SPM_DAGSTER_STORAGE_DIR": str(dagster_storage),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


class Runs:
    """Runs of crashing_run.py over one data folder and one Dagster storage, each process started one run ahead:
    the next run's process starts (imports, definitions) while the current run is still running, and only
    touches the warehouse once it gets its order."""

    def __init__(self, data_dir: Path, dagster_storage: Path, work_dir: Path) -> None:
        self.data_dir, self.dagster_storage, self.work_dir = data_dir, dagster_storage, work_dir
        self.count = 0
        self.spare: tuple[subprocess.Popen, Path, Path] | None = self._spawn()

    def _spawn(self) -> tuple[subprocess.Popen, Path, Path]:
        self.count += 1
        order, log = self.work_dir / f"order-{self.count}.json", self.work_dir / f"run-{self.count}.log"
        args = [sys.executable, str(CRASHING_RUN), str(self.data_dir), FEB.isoformat(), MAR.isoformat(), str(order)]
        with log.open("w") as out:
            proc = subprocess.Popen(args, cwd=REPO_ROOT, env=_env(self.dagster_storage), stdout=out, stderr=out)
        return proc, order, log

    def start(
        self, kill_point: str, marker: Path, steps: list[str] | None, *, last: bool = False
    ) -> tuple[subprocess.Popen, Path]:
        """Give the waiting process its order (written atomically), and start the next one unless `last`."""
        if self.spare is None:
            raise RuntimeError("the last run was started already")
        proc, order, log = self.spare
        part = order.with_suffix(".part")
        part.write_text(json.dumps({"kill_point": kill_point, "marker": str(marker), "steps": steps}))
        part.replace(order)
        self.spare = None if last else self._spawn()
        return proc, log

    def close(self) -> None:
        """Stop the process still waiting for an order, if any (cleanup path)."""
        if self.spare is not None:
            stop([self.spare[0]])


def _query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def _tables(warehouse: Path, schema: str) -> list[str]:
    rows = _query(
        warehouse, "select table_name from information_schema.tables where table_schema = ? order by 1", [schema]
    )
    return [f"{schema}.{name}" for (name,) in rows]


def _publication_state(warehouse: Path) -> dict[str, object]:
    """Every `published.*` table and the publication audit (not the check log): column types and all rows."""
    state = {}
    for table in [*_tables(warehouse, "published"), "audit.publications", "audit.month_reopenings"]:
        state[f"{table} columns"] = _query(warehouse, f"select column_name, column_type from (describe {table})")
        state[table] = _query(warehouse, f"select * from {table} order by all")
    return state


def _check_log(warehouse: Path) -> list[tuple]:
    return _query(warehouse, "select * from audit.check_results order by all")


def _partial_loads(warehouse: Path) -> list[str]:
    """Raw rows or quarantined rows of a file that `raw._loaded_files` does not record as loaded with exactly
    that many rows: what a load interrupted half-way would leave visible."""
    from ingestion.contracts import CONTRACTS

    problems = []
    logged = {
        (entity, source_file): (rows_loaded, rows_quarantined)
        for entity, source_file, rows_loaded, rows_quarantined in _query(
            warehouse, "select entity, source_file, rows_loaded, rows_quarantined from raw._loaded_files"
        )
    }
    for contract in CONTRACTS:
        raw = _query(warehouse, f"select _source_file, count(*) from raw.{contract.name} group by 1")
        for source_file, rows in raw:
            expected = logged.get((contract.name, source_file), (None, None))[0]
            if rows != expected:
                problems.append(f"raw.{contract.name}: {rows} rows of {source_file}, file log says {expected}")
    quarantined = _query(
        warehouse, "select entity, source_file, count(distinct source_row) from raw._quarantine group by 1, 2"
    )
    for entity, source_file, rows in quarantined:
        if (entity, source_file) not in logged:
            problems.append(f"raw._quarantine: {rows} rows of {source_file} ({entity}), a file not in the file log")
    return problems


def _comparable(warehouse: Path) -> dict[str, list[tuple]]:
    """The published tables and the publication audit without the VOLATILE_COLUMNS (manifests without run id)."""
    result = {}
    for table in [*_tables(warehouse, "published"), "audit.publications"]:
        columns = [c for (c,) in _query(warehouse, f"select column_name from (describe {table})")]
        kept = [c for c in columns if c not in VOLATILE_COLUMNS]
        rows = _query(warehouse, f"select {', '.join(kept)} from {table} order by all")
        if "manifest" in columns:
            manifests = sorted(
                json.dumps({k: v for k, v in json.loads(m).items() if k != "run_id"}, sort_keys=True)
                for (m,) in _query(warehouse, f"select manifest from {table}")
            )
            rows = [*rows, *((m,) for m in manifests)]
        result[table] = rows
    return result


def _lock_is_free(warehouse: Path) -> bool:
    from orchestration.lib.run_lock import WarehouseBusy, WarehouseRunLock

    try:
        with WarehouseRunLock(warehouse, run_id="crash-safety-probe"):
            return True
    except WarehouseBusy:
        return False


def _land_later_months(source: Path, landing: Path) -> int:
    files = [p for p in source.rglob("*") if p.is_file() and any(m in p.name for m in LATER_MONTHS)]
    for path in files:
        target = landing / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return len(files)


def _run_to_end(proc: subprocess.Popen, log: Path, what: str) -> None:
    try:
        proc.wait(timeout=RUN_TIMEOUT_SECONDS)
    finally:
        stop([proc])
    assert proc.returncode == 0, f"{what} failed (exit {proc.returncode}):\n{log.read_text()[-4000:]}"


@pytest.mark.slow
def test_every_kill_point_leaves_nothing_partial_and_a_rerun_publishes_what_an_unkilled_run_does(
    platform, tmp_path: Path
):
    """The crash guarantees, at every kill point in turn (see the module docstring for the chain)."""
    started = time.monotonic()
    data_dir, reference_dir = platform.settings.data_dir, tmp_path / "reference"
    warehouse, serving_path = platform.warehouse_path, platform.settings.serving_path
    chain_storage = tmp_path / "chain-dagster"
    (tmp_path / "chain-runs").mkdir()
    (tmp_path / "reference-runs").mkdir()
    # both processes start now: their start-up overlaps January's run below
    runs = Runs(data_dir, chain_storage, tmp_path / "chain-runs")
    reference_runs = Runs(reference_dir, tmp_path / "reference-dagster", tmp_path / "reference-runs")
    reference = None
    try:
        held_back = tmp_path / "later-landings"
        for path in list(platform.landing_dir.rglob("*")):
            if path.is_file() and any(m in path.name for m in LATER_MONTHS):
                target = held_back / path.relative_to(platform.landing_dir)
                target.parent.mkdir(parents=True, exist_ok=True)
                path.rename(target)
        assert platform.run("publish_month_job", JAN, JAN).success, "January closes with January's files"
        shutil.copytree(data_dir, reference_dir)  # the reference starts from the same closed January
        assert _land_later_months(held_back, platform.landing_dir) > 0
        _land_later_months(held_back, reference_dir / "landing")
        # the reference run: never killed, on its own copy and its own Dagster storage, beside the chain
        reference, reference_log = reference_runs.start("none", tmp_path / "unused", None, last=True)
        results, serving_copies_before = _kill_at_every_point(platform, runs, tmp_path)
        # a plain rerun of the whole job completes, on the same Dagster instance as the killed runs
        final, final_log = runs.start("none", tmp_path / "unused", None, last=True)
        _run_to_end(final, final_log, "the plain rerun after the kills")
        _run_to_end(reference, reference_log, "the reference run")
    finally:
        runs.close()
        reference_runs.close()
        stop([reference] if reference else [])

    assert any(name.endswith(".tmp") for name in serving_copies_before), "the serving-swap kill left its copy"
    assert [p.name for p in serving_path.parent.iterdir()] == [serving_path.name], "the rerun removed leftovers"
    assert _partial_loads(warehouse) == []
    chain, expected = _comparable(warehouse), _comparable(reference_dir / "warehouse.duckdb")
    assert chain.keys() == expected.keys()
    for table in expected:
        assert chain[table] == expected[table], f"{table}: the rerun after the kills differs from an unkilled run"
    assert _query(warehouse, "select payout_month, count(*) from audit.publications group by 1 order by 1") == [
        (JAN, 1),
        (FEB, 1),
        (MAR, 1),
    ], "each month published exactly once"
    with duckdb.connect(str(serving_path), read_only=True) as serving:
        served = serving.execute("select count(*) from published.monthly_payouts").fetchone()[0]
    assert served == _query(warehouse, "select count(*) from published.monthly_payouts")[0][0], "serving is current"
    _assert_dead_runs_released(chain_storage, len(results))

    report = {"seconds": round(time.monotonic() - started), "kills": results}
    print(json.dumps(report, indent=1, default=str))
    (Path(os.environ["SPM_CRASH_REPORT"]) if "SPM_CRASH_REPORT" in os.environ else tmp_path / "report.json").write_text(
        json.dumps(report, indent=1, default=str)
    )


def _kill_at_every_point(platform, runs: Runs, tmp_path: Path) -> tuple[list[dict[str, object]], list[str]]:
    """The chain: one run per kill point, each resuming the steps not yet succeeded, each SIGKILLed at its point
    and followed by every check. Returns what each kill changed, and the files beside the serving file at the
    end (the serving-swap kill leaves its unswapped copy there)."""
    warehouse, serving_path = platform.warehouse_path, platform.settings.serving_path
    remaining = [node.name for node in platform.defs.resolve_job_def("publish_month_job").nodes_in_topological_order]
    results: list[dict[str, object]] = []
    for point in kill_points(platform.defs):
        what = f"kill point {point.name}"
        published_before, checks_before = _publication_state(warehouse), _check_log(warehouse)
        serving_before = serving_state(serving_path)
        marker = tmp_path / f"{point.name.replace(':', '_')}.json"
        kill_started = time.monotonic()
        proc, log = runs.start(point.name, marker, remaining)
        try:
            wait_for(
                marker.exists,
                timeout=KILL_TIMEOUT_SECONDS,
                what=f"the run to reach {what} (a stale lock or pool slot would hold it up)",
                procs=[proc],
                diagnostics=lambda log=log: log.read_text()[-4000:],
            )
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            stop([proc])
        assert proc.returncode == -signal.SIGKILL, what
        stopped = json.loads(marker.read_text())
        _assert_stopped_where_meant(point, stopped)

        # the warehouse reopens (its WAL replays) with nothing partial in it
        published_after = _publication_state(warehouse)
        if point.publishes:
            _assert_complete_publication(warehouse, published_before, what)
        else:
            assert published_after == published_before, f"{what}: published.* or audit.publications changed"
        checks_after = _check_log(warehouse)
        assert set(checks_before) <= set(checks_after), f"{what}: audit.check_results lost rows"
        assert _partial_loads(warehouse) == [], f"{what}: a partial file load is visible"
        serving_bytes, serving_files = serving_state(serving_path)
        assert serving_bytes == serving_before[0], f"{what}: the serving file changed"
        extra_files = sorted(set(serving_files) - set(serving_before[1]))
        if point.leaves_serving_copy:
            assert [stopped["new_serving_copy"]] == extra_files, f"{what}: {extra_files}"
        else:
            assert extra_files == [], f"{what}: new files beside the serving file: {extra_files}"
        assert _lock_is_free(warehouse), f"{what}: the warehouse lock is still held"

        remaining = [s for s in remaining if s not in stopped["steps_succeeded"]] or [PUBLICATION_STEP]
        results.append(
            {
                "kill_point": point.name,
                "seconds": round(time.monotonic() - kill_started, 1),
                "published_rows_changed": _changed_rows(published_before, published_after),
                "check_rows_added": len(checks_after) - len(checks_before),
                "stopped": {k: v for k, v in stopped.items() if k != "kill_point"},
            }
        )
    return results, serving_state(serving_path)[1]


def _assert_stopped_where_meant(point: KillPoint, stopped: dict) -> None:
    what = f"kill point {point.name}"
    assert stopped["kill_point"] == point.name, what
    if point.name == "mid-load":
        assert stopped["raw_rows_written"] > 0 and stopped["file_log_rows"] == 0, f"{what}: {stopped}"
    elif point.name.startswith("after-step:"):
        assert stopped["steps_succeeded"][-1] == point.name.removeprefix("after-step:"), f"{what}: {stopped}"
    elif point.name == "publish-transaction":
        assert stopped["payout_rows_written"] > 0, f"{what}: {stopped}"
    elif point.name == "serving-swap":
        assert stopped["payout_rows_in_copy"] > 0, f"{what}: {stopped}"


def _assert_complete_publication(warehouse: Path, before: dict[str, object], what: str) -> None:
    """After a kill past the publish commit: February and March are published whole (each month's rows and
    ledger lines are what its manifest row says), and January's rows are untouched."""
    manifests = _query(
        warehouse, "select payout_month, payout_rows, ledger_lines from audit.publications order by payout_month"
    )
    assert [m[0] for m in manifests] == [JAN, FEB, MAR], f"{what}: {manifests}"
    for month, payout_rows, ledger_lines in manifests:
        counts = _query(
            warehouse,
            """select (select count(*) from published.monthly_payouts where payout_month = $1),
                      (select count(*) from published.commission_ledger where payout_month = $1)""",
            [month],
        )[0]
        assert counts == (payout_rows, ledger_lines), f"{what}: {month} is not published whole"
    for table in ("published.monthly_payouts", "published.commission_ledger"):
        january = _query(warehouse, f"select * from {table} where payout_month = ? order by all", [JAN])
        assert january == [r for r in before[table] if JAN in r], f"{what}: {table} January changed"


def _changed_rows(before: dict[str, object], after: dict[str, object]) -> int:
    changed = 0
    for table, rows in before.items():
        if not table.endswith(" columns"):
            changed += len(set(rows) ^ set(after.get(table, [])))
    return changed + sum(len(rows) for table, rows in after.items() if table not in before)


def _assert_dead_runs_released(dagster_storage: Path, killed: int) -> None:
    """On the chain's Dagster instance: no pool slot is left claimed or pending (a stale slot would make every
    later run wait for ever), and the final rerun is the one run that succeeded. (The killed runs stay
    "started": nothing marks a dead in-process run failed yet, docs/crash-safety.md.)"""
    script = (
        "import dagster as dg, json\n"
        "with dg.DagsterInstance.get() as i:\n"
        "    info = i.event_log_storage.get_concurrency_info('duckdb_writer')\n"
        "    print(json.dumps({'claimed': len(info.claimed_slots), 'pending': len(info.pending_steps),"
        " 'statuses': sorted(r.status.value for r in i.get_runs())}))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], env=_env(dagster_storage), capture_output=True, text=True, check=True
    )
    state = json.loads(out.stdout.strip().splitlines()[-1])
    assert state["claimed"] == 0 and state["pending"] == 0, state
    assert len(state["statuses"]) == killed + 1 and state["statuses"].count("SUCCESS") == 1, state
