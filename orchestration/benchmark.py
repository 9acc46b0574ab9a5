"""`make bench` / `python -m orchestration.benchmark`: how fast the real pipeline is at mid-market scale.

    python -m orchestration.benchmark --sizes 1k            # one size; results of other sizes are kept
    python -m orchestration.benchmark --sizes 10k --months 4   # a shorter history (recorded in the JSON)
    python -m orchestration.benchmark --render              # only re-render docs/benchmarks.md from the JSON

Per size, in `data/bench/<size>/` (`<size>-<K>m/` with `--months K`; git-ignored; wiped at the start of the
size's run, kept afterwards):

1. **generate**: the scale generator (`python -m ingestion.scale`) writes every horizon month into `source/`.
   Timed, not a target.
2. **backfill**: months 1..K-1 (12 by default) are hard-linked into `landing/` and published in one run,
   `spm publish FIRST LAST` (exactly: `python -m orchestration.cli publish ...`, the entry point of `spm`).
3. **close**: month K's files are landed, then `spm close K` (ingest, dbt, gates, publication).
4. **nightly**: a day's new data for the open month K+1 is landed (`python -m ingestion.scale --day`, timed
   separately), then `spm preview K+1` (the nightly preview job).
5. **overhead**: the fixed cost of a run that does no data work: a fresh `python -c "import
   orchestration.definitions"` (Python, Dagster, the Definitions and the dbt manifest) plus two dbt invocations
   (a run has two: the unpartitioned and the monthly models) of `dbt run` selecting nothing, each in a fresh
   target directory like the ones dagster-dbt gives every invocation (so dbt parses the whole project).
   fixed overhead = import + 2 x dbt no-op.
6. **floor**: DuckDB alone, one connection, no Dagster and no dbt: read month K's opportunity and split files,
   every HR file and the FX rates, compute the month's credit lines (owner or revenue splits plus overlay
   splits, resolved to the employee active on the close date, and the manager roll-up through the hierarchy
   effective on the close date) and a per-payee sum in pay currency, and write both to a DuckDB file.

Every measured step is its own subprocess (its own process group), so its numbers are its own:
* `seconds`: wall time from process start to exit;
* `peak_rss_bytes`: the highest sum of resident set sizes over the step's process tree (the Dagster process
  plus the dbt subprocess and anything else it starts), sampled every 0.2 s with psutil. RSS of shared pages is
  counted once per process, so the sum errs high;
* `max_process_rss_bytes`: the largest single process's peak RSS as the kernel reports it (`wait4` ru_maxrss);
* for pipeline steps, the split of the wall time from the run's Dagster event log and dbt's run_results.json
  (dagster-dbt gives every dbt invocation its own target directory `dbt_project/target/<op>-<run id[:7]>-*`):
  `loader_seconds` (the ingestion steps), `sql_seconds` (the sum over every dbt node, models and data tests,
  of its `execute` phase), `dbt_overhead_seconds` (the dbt steps' wall time minus their SQL: process start,
  project parse, per-node compilation and bookkeeping), `publication_seconds` (gates, Great Expectations,
  publish, serving copy), `startup_seconds` (process start until the run starts) and `overhead_seconds` =
  seconds - sql - loader - publication.
The profile lists each step's dbt models by execute time with their row counts (`count(*)` after the step).

Results go to `docs/benchmarks.json` (machine-readable, merged: sizes not run keep their earlier results) and
`docs/benchmarks.md`, rendered from the JSON by `render_markdown`. The targets (SPEC §5, for the 10k size:
month close < 180 s, nightly < 60 s, peak memory < 8 GiB, fixed overhead < 15 s, month close <= 3x the floor)
are evaluated by `evaluate_targets` for every size.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from orchestration.lib.dbt_runs import PARTIAL_PARSE_FILE, RUN_SETTING_ENVIRONMENT

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
DEFAULT_JSON = REPO_ROOT / "docs" / "benchmarks.json"
DEFAULT_MD = REPO_ROOT / "docs" / "benchmarks.md"
DEFAULT_DATA_DIR = REPO_ROOT / "data" / "bench"
RESULT_FILES = ("benchmarks.json", "benchmarks.md")
CLOSE_MONTH = date(2026, 12, 1)
"""The month closed in step 3: December, so the directors' annual plan evaluates a full year of credits and the
managers' a full quarter (the most expensive month of the year for the engine)."""
GIB = 1024**3
SCHEMA_VERSION = 1
TOP_MODELS = 10
PIPELINE_STEPS = ("backfill", "close", "nightly")


@dataclass(frozen=True)
class Size:
    name: str
    payees: int
    credit_lines_per_month: int
    months: int
    """History length K: months 1..K-1 are backfilled, K is closed, K+1 is the open month."""
    seed: int = 7


SIZES: dict[str, Size] = {
    "smoke": Size("smoke", payees=40, credit_lines_per_month=3_000, months=3),
    # the history curve (nightly cost vs months of history) is measured at this size with --months 4, 7 and 13
    "100k": Size("100k", payees=250, credit_lines_per_month=100_000, months=13),
    "1k": Size("1k", payees=1_000, credit_lines_per_month=1_000_000, months=13),
    "10k": Size("10k", payees=10_000, credit_lines_per_month=10_000_000, months=13),
}
SIZE_ORDER = ("smoke", "1k", "10k")


def result_key(size: str, months: int) -> str:
    """Where a run is stored in the JSON: the size's name, or `<size>-<months>m` for a `--months` override, so a
    shortened run does not replace the full-history one (and vice versa)."""
    default = SIZES[size].months if size in SIZES else months
    return size if months == default else f"{size}-{months}m"


def _order(key: str) -> tuple[int, int, str]:
    base, _, months = key.partition("-")
    rank = SIZE_ORDER.index(base) if base in SIZE_ORDER else len(SIZE_ORDER)
    return rank, int(months.rstrip("m")) if months.rstrip("m").isdigit() else 0, key


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    limit: float
    unit: str
    """`s` (seconds), `bytes` or `x` (a ratio)."""
    inclusive: bool = False
    """True for `<=`, False for `<`."""


TARGETS: tuple[Target, ...] = (
    Target("month_close_seconds", "month close end to end", 180, "s"),
    Target("nightly_seconds", "nightly incremental", 60, "s"),
    Target("peak_rss_bytes", "peak memory (any pipeline step)", 8 * GIB, "bytes"),
    Target("fixed_overhead_seconds", "fixed overhead (Dagster + dbt start-up and parse)", 15, "s"),
    Target("close_vs_floor", "month close vs DuckDB floor", 3, "x", inclusive=True),
)


# ---------------------------------------------------------------------------------------------------------
# calendar
# ---------------------------------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Calendar:
    months: int

    @property
    def close_month(self) -> date:
        return CLOSE_MONTH

    @property
    def first_month(self) -> date:
        return add_months(CLOSE_MONTH, -(self.months - 1))

    @property
    def backfill_last(self) -> date:
        return add_months(CLOSE_MONTH, -1)

    @property
    def open_month(self) -> date:
        return add_months(CLOSE_MONTH, 1)

    @property
    def nightly_day(self) -> date:
        return self.open_month

    def describe(self) -> dict[str, str]:
        return {
            "first_month": f"{self.first_month:%Y-%m}",
            "backfill": f"{self.first_month:%Y-%m}..{self.backfill_last:%Y-%m}",
            "backfill_months": str(self.months - 1),
            "close_month": f"{self.close_month:%Y-%m}",
            "nightly_day": self.nightly_day.isoformat(),
        }


# ---------------------------------------------------------------------------------------------------------
# measuring a subprocess
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Measured:
    seconds: float
    peak_rss_bytes: int
    max_process_rss_bytes: int
    returncode: int
    started_at: float
    """Epoch seconds."""
    ended_at: float
    load_average_at_start: list[float]
    cpu_seconds: float = 0.0
    """User + system CPU time of the process and every descendant it waited for (wait4's rusage)."""
    load_average_at_end: list[float] = field(default_factory=list)
    timed_out: bool = False
    output_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


class _TreeRssSampler(threading.Thread):
    """Samples the summed RSS of a process and all its descendants until stopped."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        import psutil

        try:
            root = psutil.Process(self.pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop_event.is_set():
            total = 0
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            for proc in procs:
                with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
                    total += proc.memory_info().rss
            self.peak = max(self.peak, total)
            self._stop_event.wait(self.interval)

    def stop(self) -> int:
        self._stop_event.set()
        self.join(timeout=5)
        return self.peak


def measure(
    cmd: list[str], *, env: dict[str, str], cwd: Path, log_path: Path, timeout: float | None = None
) -> Measured:
    """Run `cmd` to completion in its own process group; output goes to `log_path`."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    load = list(os.getloadavg())
    started_at = time.time()
    t0 = time.perf_counter()
    timed_out = False
    with log_path.open("w") as log:
        log.write(f"$ {' '.join(cmd)}\n")
        log.flush()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        sampler = _TreeRssSampler(proc.pid)
        sampler.start()
        timer = None
        if timeout:

            def _kill() -> None:
                nonlocal timed_out
                timed_out = True
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the group this function created, nothing else

            timer = threading.Timer(timeout, _kill)
            timer.start()
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if timer is not None:
            timer.cancel()
        seconds = time.perf_counter() - t0
        peak = sampler.stop()
    ended_at = time.time()
    tail = "".join(log_path.read_text(errors="replace").splitlines(keepends=True)[-25:])
    return Measured(
        seconds=round(seconds, 3),
        peak_rss_bytes=int(peak),
        max_process_rss_bytes=int(rusage.ru_maxrss) * 1024,  # Linux reports KiB
        returncode=proc.returncode,
        started_at=started_at,
        ended_at=ended_at,
        load_average_at_start=[round(x, 2) for x in load],
        cpu_seconds=round(rusage.ru_utime + rusage.ru_stime, 3),
        load_average_at_end=[round(x, 2) for x in os.getloadavg()],
        timed_out=timed_out,
        output_tail=tail,
    )


# ---------------------------------------------------------------------------------------------------------
# environment and landing
# ---------------------------------------------------------------------------------------------------------


def step_env(size_dir: Path, first_month: date) -> dict[str, str]:
    """The environment of every step: this checkout's code, the size's own data folder and Dagster instance.

    Inherited SPM_* settings (another data folder, the postgres dbt target, ...) are dropped: the benchmark
    measures the embedded default."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SPM_") and k not in ("DBT_TARGET_PATH",)}
    python_path = [str(REPO_ROOT), *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    env.update(
        {
            "PYTHONPATH": os.pathsep.join(python_path),
            "SPM_DATA_DIR": str(size_dir),
            "SPM_FIRST_MONTH": first_month.isoformat(),
            "DAGSTER_HOME": str(REPO_ROOT),
            "SPM_DAGSTER_STORAGE_DIR": str(size_dir / "dagster_home"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "SPM_LOG_LEVEL": "WARNING",
            # the benchmark's calendar is synthetic and may lie ahead of this machine's clock: its extracts'
            # last-change stamps must not be quarantined as future-dated (ingestion/loader.py, `not_future`)
            "SPM_FUTURE_TOLERANCE_DAYS": str(max(1, (add_months(CLOSE_MONTH, 3) - date.today()).days)),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def file_period(path: Path) -> str:
    """`YYYY-MM` or `YYYY-MM-DD` from `<entity>_<period>.<ext>`."""
    return path.name.split(".", 1)[0].rsplit("_", 1)[1]


def land(source: Path, landing: Path, keep) -> int:
    """Hard-link (or copy) the files of `source` whose period passes `keep` into `landing`; returns the count."""
    count = 0
    for path in sorted(source.rglob("*")):
        if not path.is_file() or path.name.startswith(".") or not keep(file_period(path)):
            continue
        target = landing / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            continue
        try:
            os.link(path, target)
        except OSError:
            shutil.copy2(path, target)
        count += 1
    return count


def _python() -> str:
    return sys.executable


def _dbt() -> str:
    return str(Path(sys.executable).parent / "dbt")


def ensure_manifest() -> None:
    if not (DBT_PROJECT_DIR / "target" / "manifest.json").exists():
        subprocess.run(
            [_dbt(), "parse", "--quiet"],
            cwd=DBT_PROJECT_DIR,
            check=True,
            env={**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        )


# ---------------------------------------------------------------------------------------------------------
# what happened inside a pipeline run
# ---------------------------------------------------------------------------------------------------------

LOADER_STEPS = ("compensation_plans",)
DBT_STEPS = ("spm_dbt_models", "spm_dbt_monthly_models")
PUBLICATION_STEPS = ("published__monthly_payouts",)


def _instance(storage_dir: Path):
    """The size's Dagster instance (dagster.yaml reads its storage folder from the environment on load)."""
    import dagster as dg

    previous = os.environ.get("SPM_DAGSTER_STORAGE_DIR")
    os.environ["SPM_DAGSTER_STORAGE_DIR"] = str(storage_dir)
    try:
        return dg.DagsterInstance.from_config(str(REPO_ROOT))
    finally:
        if previous is None:
            os.environ.pop("SPM_DAGSTER_STORAGE_DIR", None)
        else:
            os.environ["SPM_DAGSTER_STORAGE_DIR"] = previous


def run_timeline(storage_dir: Path) -> dict:
    """Step durations of the latest run in a Dagster instance, from its event log."""
    instance = _instance(storage_dir)
    try:
        runs = instance.get_runs(limit=1)
        if not runs:
            return {}
        run = runs[0]
        steps: dict[str, dict[str, float]] = {}
        run_start = run_end = None
        failures = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None:
                continue
            kind = event.event_type_value
            if kind in ("PIPELINE_START", "RUN_START"):
                run_start = entry.timestamp
            elif kind in ("PIPELINE_SUCCESS", "RUN_SUCCESS", "PIPELINE_FAILURE", "RUN_FAILURE"):
                run_end = entry.timestamp
            elif kind == "STEP_START":
                steps.setdefault(entry.step_key, {})["start"] = entry.timestamp
            elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
                steps.setdefault(entry.step_key, {})["end"] = entry.timestamp
                if kind == "STEP_FAILURE":
                    error = event.event_specific_data.error
                    failures[entry.step_key] = (error.message if error else entry.message or "")[:2000]
        durations = {k: round(v["end"] - v["start"], 3) for k, v in steps.items() if "start" in v and "end" in v}
        return {
            "run_id": run.run_id,
            "job_name": run.job_name,
            "status": str(run.status.value),
            "run_start": run_start,
            "run_end": run_end,
            "step_seconds": durations,
            "failures": failures,
        }
    finally:
        instance.dispose()


def dbt_invocations(run_id: str) -> list[dict]:
    """The run_results.json of every dbt invocation of a run, reduced to per-node execute times."""
    invocations = []
    for path in sorted((DBT_PROJECT_DIR / "target").glob(f"*-{run_id[:7]}-*/run_results.json")):
        results = json.loads(path.read_text())
        nodes = []
        for r in results["results"]:
            execute = next((t for t in r.get("timing", []) if t["name"] == "execute"), None)
            seconds = 0.0
            if execute and execute.get("started_at") and execute.get("completed_at"):
                seconds = (
                    datetime.fromisoformat(execute["completed_at"].replace("Z", "+00:00"))
                    - datetime.fromisoformat(execute["started_at"].replace("Z", "+00:00"))
                ).total_seconds()
            unique_id = r["unique_id"]
            nodes.append(
                {
                    "unique_id": unique_id,
                    "type": unique_id.split(".")[0],
                    "name": unique_id.split(".")[2] if unique_id.startswith("model.") else unique_id.split(".", 2)[-1],
                    "relation": r.get("relation_name"),
                    "status": r.get("status"),
                    "execute_seconds": round(seconds, 4),
                    "execution_time": round(r.get("execution_time") or 0.0, 4),
                }
            )
        invocations.append(
            {
                "directory": path.parent.name,
                "elapsed_seconds": round(results.get("elapsed_time", 0.0), 3),
                "nodes": nodes,
            }
        )
    return invocations


def warehouse_counts(warehouse: Path, relations: Iterable[str]) -> dict[str, int]:
    import duckdb

    counts = {}
    if not warehouse.exists():
        return counts
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        for relation in relations:
            try:
                counts[relation] = int(conn.execute(f"select count(*) from {relation}").fetchone()[0])
            except duckdb.Error:
                continue
    return counts


def rebuilt_from(warehouse: Path) -> dict[str, str]:
    """The month each incremental engine model's latest build recomputed from ("all" for a full rebuild), from
    intermediate.incremental_builds: what tells a nightly run that restarted years back from one that did not."""
    import duckdb

    if not warehouse.exists():
        return {}
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        try:
            rows = conn.execute(
                """select model_name, rebuilt_from from intermediate.incremental_builds
                   qualify row_number() over (partition by model_name order by built_at desc) = 1
                   order by model_name"""
            ).fetchall()
        except duckdb.Error:  # built by a version without the build log
            return {}
    return {name: month.isoformat() if month else "all" for name, month in rows}


def pipeline_breakdown(measured: Measured, size_dir: Path) -> dict:
    """Split a pipeline step's wall time into loader, SQL, publication and overhead; profile its dbt models."""
    timeline = run_timeline(size_dir / "dagster_home")
    if not timeline:
        return {}
    step_seconds = timeline["step_seconds"]
    loader = sum(v for k, v in step_seconds.items() if k.startswith("raw__") or k in LOADER_STEPS)
    dbt_wall = sum(v for k, v in step_seconds.items() if k in DBT_STEPS)
    publication = sum(v for k, v in step_seconds.items() if k in PUBLICATION_STEPS)
    invocations = dbt_invocations(timeline["run_id"])
    nodes = [n for inv in invocations for n in inv["nodes"]]
    sql = sum(n["execute_seconds"] for n in nodes)
    models = sorted((n for n in nodes if n["type"] == "model"), key=lambda n: -n["execute_seconds"])
    top = models[:TOP_MODELS]
    rows = warehouse_counts(size_dir / "warehouse.duckdb", [n["relation"] for n in top if n["relation"]])
    startup = (timeline["run_start"] - measured.started_at) if timeline.get("run_start") else None
    return {
        "run_id": timeline["run_id"],
        "run_status": timeline["status"],
        "failures": timeline["failures"],
        "loader_seconds": round(loader, 3),
        "dbt_seconds": round(dbt_wall, 3),
        "sql_seconds": round(sql, 3),
        "sql_model_seconds": round(sum(n["execute_seconds"] for n in nodes if n["type"] == "model"), 3),
        "sql_test_seconds": round(sum(n["execute_seconds"] for n in nodes if n["type"] == "test"), 3),
        "dbt_overhead_seconds": round(dbt_wall - sql, 3),
        "dbt_nodes": len(nodes),
        "dbt_invocation_elapsed_seconds": [inv["elapsed_seconds"] for inv in invocations],
        "publication_seconds": round(publication, 3),
        "startup_seconds": round(startup, 3) if startup is not None else None,
        "overhead_seconds": round(measured.seconds - sql - loader - publication, 3),
        "dagster_step_seconds": step_seconds,
        "rebuilt_from": rebuilt_from(size_dir / "warehouse.duckdb"),
        "top_models": [
            {"model": n["name"], "seconds": n["execute_seconds"], "rows": rows.get(n["relation"])} for n in top
        ],
    }


# ---------------------------------------------------------------------------------------------------------
# the floor: DuckDB alone
# ---------------------------------------------------------------------------------------------------------


def _read_sql(contract_name: str, paths: list[Path]) -> str:
    from ingestion.contracts import CONTRACTS_BY_NAME

    contract = CONTRACTS_BY_NAME[contract_name]
    files = "[" + ", ".join(f"'{p}'" for p in paths) + "]"
    if contract.file_format == "csv":
        columns = "{" + ", ".join(f"'{c.name}': '{c.type}'" for c in contract.columns) + "}"
        return f"read_csv({files}, header = true, columns = {columns}, auto_detect = false)"
    if contract.file_format == "parquet":
        return f"read_parquet({files})"
    columns = "{" + ", ".join(f"'{c.name}': '{c.type}'" for c in contract.columns) + "}"
    return f"read_json({files}, format = 'newline_delimited', columns = {columns})"


def floor(landing: Path, month: date, out: Path, max_depth: int = 6) -> dict:
    """The month's credit lines and per-payee totals with DuckDB alone (see the module docstring, step 6)."""
    import duckdb

    out.unlink(missing_ok=True)
    tag = f"{month:%Y-%m}"
    month_end = add_months(month, 1) - timedelta(days=1)
    conn = duckdb.connect(str(out))
    opportunities = _read_sql("crm__opportunities", [landing / "crm" / "opportunities" / f"opportunities_{tag}.csv"])
    splits_files = sorted((landing / "crm" / "opportunity_splits").glob(f"opportunity_splits_{tag}.csv"))
    workers = _read_sql("hr__workers", sorted((landing / "hr" / "workers").glob("*.csv")))
    rates = _read_sql("fx__rates", sorted((landing / "fx" / "rates").glob("*.parquet")))
    conn.execute(
        f"""
        create temp table won as
        select * from (
            select *, row_number() over (partition by opportunity_id order by last_modified desc) as version_rank
            from {opportunities}
        )
        where version_rank = 1 and is_won and is_closed
          and close_date between date '{month}' and date '{month_end}'
        """
    )
    if splits_files:
        conn.execute(
            f"""
            create temp table splits as
            select * from (
                select *, row_number() over (partition by split_id order by last_modified desc) as version_rank
                from {_read_sql("crm__opportunity_splits", splits_files)}
            )
            where version_rank = 1 and not is_deleted and opportunity_id in (select opportunity_id from won)
            """
        )
    else:
        conn.execute(
            "create temp table splits (split_id varchar, opportunity_id varchar, user_id varchar, "
            "split_type varchar, split_percent decimal(9,4))"
        )
    conn.execute(
        f"""
        create temp table history as
        with latest as (
            select * from (
                select *, row_number() over (
                    partition by employee_id, effective_from order by last_modified desc) as version_rank
                from {workers}
            ) where version_rank = 1
        ),
        employment as (
            select employee_id, max(hire_date) as hire_date, max(termination_date) as termination_date
            from latest group by employee_id
        )
        select l.employee_id, l.crm_user_id, l.manager_employee_id, l.pay_currency, l.effective_from as valid_from,
               coalesce(lead(l.effective_from) over (partition by l.employee_id order by l.effective_from) - 1,
                        l.effective_to, date '9999-12-31') as valid_to,
               e.hire_date, e.termination_date
        from latest l join employment e using (employee_id)
        """
    )
    conn.execute(f"create temp table fx as select * from {rates}")
    levels = []
    for level in range(1, max_depth + 1):
        source = "(select * from personal where credit_type = 'revenue')" if level == 1 else f"level_{level - 1}"
        rep = "employee_id" if level == 1 else "rep_employee_id"
        levels.append(
            f"""level_{level} as (
                select walk.opportunity_id, walk.split_id, walk.close_date, walk.currency, walk.credit,
                       walk.{rep} as rep_employee_id, h.manager_employee_id as employee_id, {level} as rollup_level
                from {source} as walk
                join history h
                  on h.employee_id = walk.employee_id and walk.close_date between h.valid_from and h.valid_to
                where h.manager_employee_id is not null
            )"""
        )
    union = " union all ".join(
        f"select opportunity_id, split_id, close_date, currency, credit, rep_employee_id, employee_id, rollup_level "
        f"from level_{level}"
        for level in range(1, max_depth + 1)
    )
    conn.execute(
        f"""
        create table credit_lines as
        with shares as (
            select opportunity_id, null::varchar as split_id, 'revenue' as credit_type, owner_user_id as user_id,
                   100::decimal(9,4) as split_percent
            from won
            where opportunity_id not in (select opportunity_id from splits where split_type = 'revenue')
            union all
            select opportunity_id, split_id, split_type, user_id, split_percent from splits
        ),
        personal as (
            select s.opportunity_id, s.split_id, s.credit_type, w.close_date, w.currency, h.employee_id,
                   round(w.amount * s.split_percent * 0.01, 2) as credit
            from shares s
            join won w using (opportunity_id)
            join history h on h.crm_user_id = s.user_id and w.close_date between h.valid_from and h.valid_to
                and w.close_date >= h.hire_date and w.close_date < coalesce(h.termination_date, date '9999-12-31')
        ),
        {", ".join(levels)},
        team as (
            select * from (
                select *, row_number() over (
                    partition by opportunity_id, split_id, employee_id order by rollup_level) as path_rank
                from ({union})
            ) where path_rank = 1 and employee_id <> rep_employee_id
        )
        select opportunity_id, split_id, credit_type, close_date, currency, employee_id, employee_id
                   as rep_employee_id, 0 as rollup_level, credit
        from personal
        union all
        select opportunity_id, split_id, 'team', close_date, currency, employee_id, rep_employee_id, rollup_level,
               credit
        from team
        """
    )
    conn.execute(
        f"""
        create table payee_month as
        select c.employee_id, h.pay_currency, date '{month}' as payout_month, count(*) as credit_lines,
               round(sum(c.credit * deal_fx.rate_to_reporting / pay_fx.rate_to_reporting), 2) as credited_amount
        from credit_lines c
        join history h on h.employee_id = c.employee_id and c.close_date between h.valid_from and h.valid_to
        join fx as deal_fx on deal_fx.currency = c.currency and deal_fx.rate_date = c.close_date
        join fx as pay_fx on pay_fx.currency = h.pay_currency and pay_fx.rate_date = c.close_date
        group by all
        """
    )
    result = {
        "credit_lines": conn.execute("select count(*) from credit_lines").fetchone()[0],
        "payees": conn.execute("select count(*) from payee_month").fetchone()[0],
        "won_deals": conn.execute("select count(*) from won").fetchone()[0],
    }
    conn.close()
    return result


# ---------------------------------------------------------------------------------------------------------
# one size
# ---------------------------------------------------------------------------------------------------------


def _git(*args: str) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def machine_info() -> dict:
    import psutil

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "ram_bytes": psutil.virtual_memory().total,
        "cpu": cpu,
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for package in ("duckdb", "dagster", "dagster-dbt", "dbt-core", "dbt-duckdb"):
        with contextlib.suppress(PackageNotFoundError):
            found[package] = version(package)
    return found


@dataclass
class SizeRun:
    size: Size
    months: int
    data_dir: Path
    timeout: float | None = None
    log: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return result_key(self.size.name, self.months)

    @property
    def dir(self) -> Path:
        return self.data_dir / self.key

    @property
    def calendar(self) -> Calendar:
        return Calendar(self.months)

    def say(self, message: str) -> None:
        line = f"[{datetime.now():%H:%M:%S}] {self.key}: {message}"
        print(line, flush=True)

    def generator_args(self) -> list[str]:
        s = self.size
        return [
            "--payees", str(s.payees), "--credit-lines-per-month", str(s.credit_lines_per_month),
            "--months", str(self.months), "--seed", str(s.seed), "--start-month", f"{self.calendar.first_month:%Y-%m}",
        ]  # fmt: skip

    def run(self) -> dict:
        cal = self.calendar
        if self.dir.exists():
            shutil.rmtree(self.dir)
        (self.dir / "landing").mkdir(parents=True)
        env = step_env(self.dir, cal.first_month)
        logs = self.dir / "logs" / "bench"
        steps: dict[str, dict] = {}
        result = {
            "size": self.size.name,
            "payees": self.size.payees,
            "credit_lines_per_month_target": self.size.credit_lines_per_month,
            "months": self.months,
            "months_default": self.size.months,
            "months_override": self.months != self.size.months,
            "seed": self.size.seed,
            "calendar": cal.describe(),
            "run": {
                "commit": _git("rev-parse", "HEAD"),
                # the results files themselves change between the sizes of one invocation: not code changes
                "commit_dirty": bool(
                    _git(
                        "status",
                        "--porcelain",
                        "--untracked-files=no",
                        "--",
                        ".",
                        *(f":!docs/{f}" for f in RESULT_FILES),
                    )
                ),
                "date": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": machine_info(),
                "versions": versions(),
            },
            "steps": steps,
        }

        # 1. generate every month into source/
        self.say(f"generating {self.months} months into {self.dir / 'source'}")
        gen_cmd = [
            _python(),
            "-m",
            "ingestion.scale",
            *self.generator_args(),
            "--out",
            str(self.dir / "source"),
            "--json",
        ]
        m = measure(gen_cmd, env=env, cwd=REPO_ROOT, log_path=logs / "generate.log", timeout=self.timeout)
        steps["generate"] = self._step(m)
        if not m.ok:
            return self._finish(result, "generate failed")
        summary = json.loads(m.output_tail.strip().splitlines()[-1])
        result["generator"] = summary["config"]
        steps["generate"].update(
            {
                "rows": summary["total_rows"],
                "files": summary["files"],
                "bytes": summary["bytes"],
                "rows_per_second": round(summary["total_rows"] / m.seconds),
                "rows_by_entity": summary["rows"],
            }
        )

        # 2. backfill months 1..K-1 in one run
        last = f"{cal.backfill_last:%Y-%m}"
        land(self.dir / "source", self.dir / "landing", lambda period: period[:7] <= last)
        self.say(f"backfill: spm publish {cal.first_month:%Y-%m} {last}")
        if not self._pipeline(steps, "backfill", ["publish", f"{cal.first_month:%Y-%m}", last], env, logs):
            return self._finish(result, "backfill failed")

        # 3. land month K, close it
        close = f"{cal.close_month:%Y-%m}"
        landed = land(self.dir / "source", self.dir / "landing", lambda period: period[:7] == close)
        self.say(f"close: landed {landed} files of {close}; spm close {close}")
        if not self._pipeline(steps, "close", ["close", close], env, logs):
            return self._finish(result, "close failed")
        steps["close"]["files_landed"] = landed
        result["counts"] = self._counts()

        # 4. land a day of the open month, run the nightly preview
        day = cal.nightly_day
        day_cmd = [_python(), "-m", "ingestion.scale", *self.generator_args(), "--out", str(self.dir / "landing"),
                   "--day", day.isoformat(), "--json"]  # fmt: skip
        m = measure(day_cmd, env=env, cwd=REPO_ROOT, log_path=logs / "land_day.log", timeout=self.timeout)
        steps["land_day"] = self._step(m)
        if m.ok:
            day_summary = json.loads(m.output_tail.strip().splitlines()[-1])
            steps["land_day"].update({"rows": day_summary["total_rows"], "rows_by_entity": day_summary["rows"]})
        self.say(f"nightly: landed {day}; spm preview {cal.open_month:%Y-%m}")
        if not self._pipeline(steps, "nightly", ["preview", f"{cal.open_month:%Y-%m}"], env, logs):
            return self._finish(result, "nightly failed")

        # 5. fixed overhead
        self.say("fixed overhead: import Definitions, dbt no-op")
        steps["overhead"] = self._overhead(env, logs)

        # 6. floor
        self.say(f"floor: DuckDB alone on {close}")
        floor_cmd = [_python(), "-m", "orchestration.benchmark", "floor", "--landing", str(self.dir / "landing"),
                     "--month", close, "--out", str(self.dir / "floor.duckdb")]  # fmt: skip
        m = measure(floor_cmd, env=env, cwd=REPO_ROOT, log_path=logs / "floor.log", timeout=self.timeout)
        steps["floor"] = self._step(m)
        if m.ok:
            steps["floor"].update(json.loads(m.output_tail.strip().splitlines()[-1]))
        return self._finish(result, None)

    # -- helpers ---------------------------------------------------------------------------------------------

    def _step(self, m: Measured) -> dict:
        step = {
            "status": "ok" if m.ok else ("timeout" if m.timed_out else "failed"),
            "seconds": m.seconds,
            "peak_rss_bytes": m.peak_rss_bytes,
            "max_process_rss_bytes": m.max_process_rss_bytes,
            "cpu_seconds": m.cpu_seconds,
            "load_average_at_start": m.load_average_at_start,
            "load_average_at_end": m.load_average_at_end,
        }
        if not m.ok:
            step["output_tail"] = m.output_tail
        return step

    def _pipeline(self, steps: dict, name: str, args: list[str], env: dict, logs: Path) -> bool:
        cmd = [_python(), "-m", "orchestration.cli", *args]
        m = measure(cmd, env=env, cwd=REPO_ROOT, log_path=logs / f"{name}.log", timeout=self.timeout)
        steps[name] = self._step(m)
        steps[name]["command"] = "spm " + " ".join(args)
        try:
            steps[name].update(pipeline_breakdown(m, self.dir))
        except Exception as exc:  # the measurement stands even if the breakdown cannot be read
            steps[name]["breakdown_error"] = f"{type(exc).__name__}: {exc}"
        self.say(f"{name}: {steps[name]['status']} in {m.seconds:.1f} s, peak RSS {m.peak_rss_bytes / GIB:.2f} GiB")
        return m.ok

    def _overhead(self, env: dict, logs: Path) -> dict:
        imp = measure(
            [_python(), "-c", "import orchestration.definitions"], env=env, cwd=REPO_ROOT, log_path=logs / "import.log"
        )
        scratch = self.dir / "dbt_noop_target"
        shutil.rmtree(scratch, ignore_errors=True)
        # as in a pipeline step: a fresh target folder seeded with the parse the last run kept
        # (orchestration/lib/dbt_runs.py), and run settings no earlier invocation had
        seed = DBT_PROJECT_DIR / "target" / PARTIAL_PARSE_FILE
        if seed.exists():
            scratch.mkdir(parents=True)
            shutil.copyfile(seed, scratch / PARTIAL_PARSE_FILE)
        noop_env = {
            **env,
            "SPM_WAREHOUSE_PATH": str(self.dir / "warehouse.duckdb"),
            RUN_SETTING_ENVIRONMENT["spm_run_id"]: f"benchmark-overhead-{os.getpid()}",
            RUN_SETTING_ENVIRONMENT["partition_start_month"]: self.calendar.open_month.isoformat(),
            RUN_SETTING_ENVIRONMENT["partition_end_month"]: self.calendar.open_month.isoformat(),
        }
        noop = measure(
            [_dbt(), "run", "--select", "tag:spm_benchmark_selects_nothing", "--target-path", str(scratch),
             "--log-path", str(scratch)],
            env=noop_env, cwd=DBT_PROJECT_DIR, log_path=logs / "dbt_noop.log",
        )  # fmt: skip
        ok = imp.ok and noop.ok
        return {
            "status": "ok" if ok else "failed",
            "import_definitions_seconds": imp.seconds,
            "import_definitions_peak_rss_bytes": imp.peak_rss_bytes,
            "dbt_noop_seconds": noop.seconds,
            "dbt_noop_seeded_with_previous_parse": seed.exists(),
            "dbt_invocations_per_run": len(DBT_STEPS),
            "fixed_overhead_seconds": round(imp.seconds + len(DBT_STEPS) * noop.seconds, 3),
            "seconds": round(imp.seconds + noop.seconds, 3),
            "peak_rss_bytes": max(imp.peak_rss_bytes, noop.peak_rss_bytes),
            "cpu_seconds": round(imp.cpu_seconds + noop.cpu_seconds, 3),
            "load_average_at_start": imp.load_average_at_start,
            "load_average_at_end": noop.load_average_at_end,
            **({} if ok else {"output_tail": imp.output_tail + noop.output_tail}),
        }

    def _counts(self) -> dict:
        """What the warehouse holds after the run (after the close, or wherever a failed run stopped)."""
        import duckdb

        warehouse = self.dir / "warehouse.duckdb"
        if not warehouse.exists():
            return {}
        queries = {
            "credit_lines_by_month": "select strftime(credit_month, '%Y-%m'), count(*) "
            "from intermediate.int_payee_credits group by 1 order by 1",
            "close_month_credit_lines": "select count(*) from intermediate.int_payee_credits "
            f"where credit_month = date '{self.calendar.close_month}'",
            "raw_rows": "select entity, sum(rows_loaded)::bigint from raw._loaded_files group by 1 order by 1",
            "quarantined_rows": "select count(*) from raw._quarantine",
            "published": "select count(*), count(distinct employee_id), count(distinct payout_month) "
            "from published.monthly_payouts",
            "published_ledger_lines": "select count(*) from published.commission_ledger",
        }
        found: dict[str, list] = {}
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            for key, sql in queries.items():
                try:
                    found[key] = conn.execute(sql).fetchall()
                except duckdb.Error:
                    continue
        counts: dict[str, object] = {"warehouse_bytes": warehouse.stat().st_size}
        if "credit_lines_by_month" in found:
            per_month = dict(found["credit_lines_by_month"])
            values = list(per_month.values())
            counts.update(
                {
                    "credit_lines_by_month": per_month,
                    "credit_lines_per_month_mean": round(sum(values) / len(values)) if values else None,
                    "credit_lines_per_month_min": min(values) if values else None,
                    "credit_lines_per_month_max": max(values) if values else None,
                }
            )
        if "close_month_credit_lines" in found:
            counts["close_month_credit_lines"] = found["close_month_credit_lines"][0][0] or None
        if "raw_rows" in found:
            counts["raw_rows"] = dict(found["raw_rows"])
            counts["raw_rows_total"] = sum(counts["raw_rows"].values())
        if "quarantined_rows" in found:
            counts["quarantined_rows"] = found["quarantined_rows"][0][0]
        if "published" in found:
            rows, payees, months = found["published"][0]
            counts.update({"published_payout_rows": rows, "published_payees": payees, "published_months": months})
        if "published_ledger_lines" in found:
            counts["published_ledger_lines"] = found["published_ledger_lines"][0][0]
        return counts

    def _finish(self, result: dict, failure: str | None) -> dict:
        if "counts" not in result:
            try:
                result["counts"] = self._counts()
            except Exception as exc:  # a broken warehouse must not lose the measurements
                result["counts"] = {"error": f"{type(exc).__name__}: {exc}"}
        result["status"] = "ok" if failure is None else "failed"
        if failure:
            result["failure"] = failure
            self.say(f"FAILED: {failure}")
        result["targets"] = evaluate_targets(result)
        return result


# ---------------------------------------------------------------------------------------------------------
# targets and rendering
# ---------------------------------------------------------------------------------------------------------


def target_values(result: dict) -> dict[str, float | None]:
    steps = result.get("steps", {})

    def value(step: str, key: str = "seconds") -> float | None:
        s = steps.get(step)
        return s.get(key) if s and s.get("status") == "ok" else None

    peaks = [steps[s]["peak_rss_bytes"] for s in PIPELINE_STEPS if steps.get(s, {}).get("status") == "ok"]
    close, floor_seconds = value("close"), value("floor")
    return {
        "month_close_seconds": close,
        "nightly_seconds": value("nightly"),
        "peak_rss_bytes": max(peaks) if len(peaks) == len(PIPELINE_STEPS) else None,
        "fixed_overhead_seconds": value("overhead", "fixed_overhead_seconds"),
        "close_vs_floor": round(close / floor_seconds, 2) if close and floor_seconds else None,
    }


def evaluate_targets(result: dict) -> list[dict]:
    """Each target with the measured value, whether it is met, by how much (value - limit) and value / limit."""
    values = target_values(result)
    evaluated = []
    for t in TARGETS:
        v = values.get(t.key)
        entry = {"key": t.key, "label": t.label, "limit": t.limit, "unit": t.unit, "inclusive": t.inclusive, "value": v}
        if v is None:
            entry.update({"met": None, "margin": None, "ratio": None})
        else:
            entry.update(
                {
                    "met": bool(v <= t.limit if t.inclusive else v < t.limit),
                    "margin": round(v - t.limit, 3),
                    "ratio": round(v / t.limit, 3),
                }
            )
        evaluated.append(entry)
    return evaluated


def _fmt_value(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "bytes":
        return f"{value / GIB:.2f} GiB"
    if unit == "x":
        return f"{value:.2f}x"
    return f"{value:,.1f} s"


def _fmt_limit(t: dict) -> str:
    op = "<=" if t["inclusive"] else "<"
    if t["unit"] == "x":
        return f"{op} {t['limit']:g}x floor"
    return f"{op} {_fmt_value(t['limit'], t['unit'])}"


def format_verdict(t: dict) -> str:
    if t["met"] is None:
        return "not measured"
    margin = abs(t["margin"])
    amount = f"{margin:.2f}x" if t["unit"] == "x" else _fmt_value(margin, t["unit"])
    if t["met"]:
        return f"met ({amount} to spare, {t['ratio']:.2f} of the limit)"
    return f"**missed** by {amount} ({t['ratio']:.2f}x the limit)"


def _plain(text: str) -> str:
    """Log text without ANSI colour codes or backticks, for a markdown code span."""
    import re

    return re.sub(r"\x1b\[[0-9;]*m", "", text).replace("`", "'")


def _gib(value: float | None) -> str:
    return "-" if value is None else f"{value / GIB:.2f}"


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


STEP_LABELS = {
    "generate": "generate (not a target)",
    "backfill": "backfill",
    "close": "month close",
    "land_day": "land a day (not a target)",
    "nightly": "nightly incremental",
    "overhead": "fixed overhead",
    "floor": "floor (DuckDB alone)",
}


def render_markdown(data: dict) -> str:
    """docs/benchmarks.md from the benchmark JSON (pure: same JSON, same text)."""
    sizes = data.get("sizes", {})
    order = sorted(sizes, key=_order)
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`python -m orchestration.benchmark`) from `docs/benchmarks.json`; do not edit by",
        "hand. Re-render with `python -m orchestration.benchmark --render`. How each number is measured: the",
        "docstring of `orchestration/benchmark.py` and the README section *Benchmark*.",
        "",
        "Targets (SPEC §5, for 10,000 payees x 10 million credit lines a month on 2 cores / 24 GiB): month close",
        "< 180 s, nightly < 60 s, peak memory < 8 GiB, fixed overhead < 15 s, month close <= 3x the DuckDB floor.",
        "Smaller sizes are held to the same limits.",
        "",
        "What the figures say against each target, why the 10k size was not run, and the profile behind each miss:",
        "docs/scale.md.",
        "",
    ]
    for name in order:
        r = sizes[name]
        run = r.get("run", {})
        machine = run.get("machine", {})
        counts = r.get("counts", {})
        gen = r.get("generator", {})
        cal = r.get("calendar", {})
        override = " (**shortened history**: `--months` override)" if r.get("months_override") else ""
        out += [
            f"## {name}: {r['payees']:,} payees x {r['credit_lines_per_month_target']:,} credit lines a month, "
            f"{r['months']} months{override}",
            "",
            f"- command: `{r.get('command', 'python -m orchestration.benchmark --sizes ' + name)}`",
            f"- run: {run.get('date', '?')}, commit `{run.get('commit', '?')[:12]}`"
            f"{' (uncommitted changes)' if run.get('commit_dirty') else ''}, status **{r.get('status', '?')}**"
            + (f" ({r['failure']})" if r.get("failure") else ""),
            f"- machine: {machine.get('nproc', '?')} cores, {_gib(machine.get('ram_bytes'))} GiB RAM, "
            f"{machine.get('cpu', '?')}; {', '.join(f'{k} {v}' for k, v in run.get('versions', {}).items())}",
            f"- calendar: backfill {cal.get('backfill', '?')} ({cal.get('backfill_months', '?')} months), close "
            f"{cal.get('close_month', '?')}, nightly day {cal.get('nightly_day', '?')}",
        ]
        for remark in (r.get("note"), counts.get("note")):
            if remark:
                out.append(f"- note: {remark}")
        if gen:
            out.append(
                f"- company: {gen.get('directors')} directors, {gen.get('managers')} managers, "
                f"{gen.get('ae_seats')} AE and {gen.get('se_seats')} SE seats, "
                f"{gen.get('replacement_hires')} replacement hires; "
                f"{gen.get('won_deals_per_month', 0):,} won + {gen.get('lost_deals_per_month', 0):,} lost deals a month"
            )
        if counts:
            out.append(
                "- credit lines a month (rows of `int_payee_credits` per credit month in the warehouse the run left): "
                "mean "
                f"**{counts.get('credit_lines_per_month_mean', 0):,}** "
                f"(min {counts.get('credit_lines_per_month_min', 0):,}, "
                f"max {counts.get('credit_lines_per_month_max', 0):,})"
                f" against {r['credit_lines_per_month_target']:,} requested; raw rows "
                f"{counts.get('raw_rows_total', 0):,}, quarantined {counts.get('quarantined_rows', 0)}, "
                f"warehouse {_gib(counts.get('warehouse_bytes'))} GiB"
            )
        out += ["", "| target | limit | measured | result |", "|---|---|---|---|"]
        for t in r.get("targets", []):
            out.append(
                f"| {t['label']} | {_fmt_limit(t)} | {_fmt_value(t['value'], t['unit'])} | {format_verdict(t)} |"
            )
        for key in PIPELINE_STEPS:
            failures = r.get("steps", {}).get(key, {}).get("failures") or {}
            for step_key, message in failures.items():
                lines = [
                    ln.strip()
                    for ln in message.splitlines()
                    if ("Error" in ln or "ERROR" in ln) and not ln.startswith(("dagster_dbt.errors", "Errors parsed"))
                ][:3]
                out += ["", f"> {STEP_LABELS[key]} failed in `{step_key}`:"] + [f"> `{_plain(ln)}`" for ln in lines]
        out += [
            "",
            "| step | status | wall s | CPU s | peak RSS GiB (tree) | largest process GiB | SQL s | loader s "
            "| publication s | dbt overhead s | start-up s | overhead s | load avg start / end |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for key, label in STEP_LABELS.items():
            s = r.get("steps", {}).get(key)
            if not s:
                continue
            if key == "overhead":
                label = (
                    f"{label}: import {_s(s.get('import_definitions_seconds'))} s + "
                    f"{s.get('dbt_invocations_per_run', 2)} x dbt no-op {_s(s.get('dbt_noop_seconds'))} s = "
                    f"{_s(s.get('fixed_overhead_seconds'))} s"
                )
            load = [(s.get(k) or ["-"])[0] for k in ("load_average_at_start", "load_average_at_end")]
            out.append(
                f"| {label} | {s.get('status')} | {_s(s.get('seconds'))} | {_s(s.get('cpu_seconds'))} | "
                f"{_gib(s.get('peak_rss_bytes'))} | {_gib(s.get('max_process_rss_bytes'))} | "
                f"{_s(s.get('sql_seconds'))} | {_s(s.get('loader_seconds'))} | "
                f"{_s(s.get('publication_seconds'))} | {_s(s.get('dbt_overhead_seconds'))} | "
                f"{_s(s.get('startup_seconds'))} | {_s(s.get('overhead_seconds'))} | {load[0]} / {load[1]} |"
            )
        gen_step = r.get("steps", {}).get("generate")
        if gen_step and gen_step.get("rows"):
            out += [
                "",
                f"Generator: {gen_step['rows']:,} rows in {gen_step['files']} files "
                f"({gen_step.get('bytes', 0) / GIB:.2f} GiB) in {_s(gen_step['seconds'])} s = "
                f"{gen_step.get('rows_per_second', 0):,} rows/s.",
            ]
        floor_step = r.get("steps", {}).get("floor")
        if floor_step and floor_step.get("credit_lines") is not None:
            pipeline_lines = counts.get("close_month_credit_lines")
            out += [
                "",
                f"Floor: {floor_step['credit_lines']:,} credit lines of {floor_step.get('won_deals', 0):,} won deals "
                f"and {floor_step.get('payees', 0):,} payee totals written in {_s(floor_step['seconds'])} s"
                + (f" (the pipeline's closed month: {pipeline_lines:,} credit lines)." if pipeline_lines else "."),
            ]
        for key in PIPELINE_STEPS:
            s = r.get("steps", {}).get(key)
            if not s or not s.get("top_models"):
                continue
            rebuilt = sorted(set((s.get("rebuilt_from") or {}).values()))
            out += [
                "",
                f"Profile, {STEP_LABELS[key]} (`{s.get('command', '')}`): {s.get('dbt_nodes', 0)} dbt nodes, "
                + (f"incremental engine models recomputed from {', '.join(rebuilt)}; " if rebuilt else "")
                + "SQL "
                f"{_s(s.get('sql_model_seconds'))} s in models + {_s(s.get('sql_test_seconds'))} s in tests; "
                "top models:",
                "",
                "| model | execute s | rows |",
                "|---|---:|---:|",
            ]
            for m in s["top_models"]:
                rows = "-" if m.get("rows") is None else f"{m['rows']:,}"
                out.append(f"| {m['model']} | {m['seconds']:.2f} | {rows} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_results(data: dict, json_path: Path, md_path: Path) -> None:
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    md_path.write_text(render_markdown(data))


def load_results(json_path: Path) -> dict:
    if json_path.exists():
        data = json.loads(json_path.read_text())
        if data.get("schema_version") == SCHEMA_VERSION:
            return data
    return {"schema_version": SCHEMA_VERSION, "sizes": {}}


# ---------------------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------------------


def _floor_main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.benchmark floor")
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--month", required=True, help="YYYY-MM")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    result = floor(args.landing, date.fromisoformat(f"{args.month}-01"), args.out)
    print(json.dumps(result))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m orchestration.benchmark",
        description="Benchmark the real pipeline at scale (see the module docstring for what is measured).",
    )
    parser.add_argument("--sizes", nargs="+", choices=sorted(SIZES), default=["1k", "10k"], help="default: 1k 10k")
    parser.add_argument("--months", type=int, default=None, help="history length K (default: each size's own)")
    parser.add_argument("--data-dir", type=Path, default=DEFAULT_DATA_DIR, help="default: %(default)s")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, dest="json_path", help="default: %(default)s")
    parser.add_argument("--md", type=Path, default=DEFAULT_MD, dest="md_path", help="default: %(default)s")
    parser.add_argument("--step-timeout", type=float, default=None, help="seconds before a step is killed")
    parser.add_argument("--render", action="store_true", help="only re-render the markdown from the JSON")
    parser.add_argument("--note", default=None, help="a remark stored with each size run and shown in the markdown")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["floor"]:
        return _floor_main(argv[1:])
    args = build_parser().parse_args(argv)
    data = load_results(args.json_path)
    if args.render:
        write_results(data, args.json_path, args.md_path)
        return 0
    if args.months is not None and args.months < 2:
        print("error: --months must be at least 2 (a backfill month and the closed month)", file=sys.stderr)
        return 2
    ensure_manifest()
    failed = False
    for name in args.sizes:
        size = SIZES[name]
        run = SizeRun(size, args.months or size.months, args.data_dir, timeout=args.step_timeout)
        result = run.run()
        result["command"] = shlex.join(["python", "-m", "orchestration.benchmark", *argv])
        if args.note:
            result["note"] = args.note
        data["sizes"][run.key] = result
        data["updated_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        write_results(data, args.json_path, args.md_path)  # after every size, so a later failure keeps it
        failed |= result["status"] != "ok"
    print(f"results: {args.json_path} and {args.md_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["SIZES", "TARGETS", "Calendar", "evaluate_targets", "floor", "main", "measure", "render_markdown"]
