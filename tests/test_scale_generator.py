"""The set-based scale generator (ingestion/scale): deterministic, loader-clean, shaped like the demo company.

Tiny sizes only (seconds); the benchmark's smoke test runs the generated company through the whole pipeline.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.contracts import CONTRACTS
from ingestion.loader import LoadResult, load_all
from ingestion.scale import ScaleConfig, generate, land_day

REPO_ROOT = Path(__file__).resolve().parent.parent
TINY = ScaleConfig(payees=30, credit_lines_per_month=2_000, months=3, seed=11)


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def tiny_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scale") / "landing"
    generate(TINY, out)
    return out


@dataclass
class Loaded:
    conn: duckdb.DuckDBPyConnection
    results: dict[str, LoadResult]


@pytest.fixture(scope="module")
def tiny_raw(tiny_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Loaded:
    conn = duckdb.connect(str(tmp_path_factory.mktemp("raw") / "tiny.duckdb"))
    return Loaded(conn, load_all(conn, tiny_landing))


def test_layout_is_one_extract_per_entity_per_month(tiny_landing: Path) -> None:
    for contract in CONTRACTS:
        files = sorted((tiny_landing / contract.source / contract.entity).glob(f"*.{contract.file_format}"))
        assert files, f"no files for {contract.name}"
        for f in files:
            stem_month = f.stem.removeprefix(f"{contract.entity}_")
            assert len(stem_month) == 7 and date.fromisoformat(f"{stem_month}-01"), f.name
    assert not list(tiny_landing.rglob(".*")), "temporary files left behind"


def test_same_arguments_give_identical_files_and_months_can_be_written_alone(tiny_landing: Path, tmp_path: Path):
    again = tmp_path / "again"
    generate(TINY, again)
    assert _digests(again) == _digests(tiny_landing)
    month_two = tmp_path / "month-two"
    generate(TINY, month_two, [2])
    alone = _digests(month_two)
    assert alone and all(_digests(tiny_landing)[name] == digest for name, digest in alone.items())
    assert all("2026-01" in name for name in alone)  # month 2 of a horizon starting 2025-12


def test_a_different_seed_gives_a_different_company(tiny_landing: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    generate(ScaleConfig(payees=30, credit_lines_per_month=2_000, months=3, seed=12), other)
    assert _digests(other) != _digests(tiny_landing)


def test_loader_loads_every_row_without_quarantine(tiny_raw: Loaded) -> None:
    results = tiny_raw.results
    assert {name for name, r in results.items() if r.rows_loaded == 0} == set()
    assert sum(r.rows_quarantined for r in results.values()) == 0
    assert sum(r.rows_duplicate for r in results.values()) == 0
    assert tiny_raw.conn.execute("select count(*) from raw._quarantine").fetchone() == (0,)


def test_company_shape(tiny_raw: Loaded) -> None:
    q = tiny_raw.conn.execute
    assert q("select count(distinct employee_id) from raw.hr__workers").fetchone() == (TINY.payees,)
    roles = dict(q("select job_role, count(distinct employee_id) from raw.hr__workers group by 1").fetchall())
    assert set(roles) == {"AE", "SE", "SALES_MANAGER", "SALES_DIRECTOR"}
    assert q("select count(*) from raw.hr__workers where termination_date is not null").fetchone()[0] >= 1
    # every worker has a CRM user, every deal owner and split user is a worker's user
    assert q(
        "select count(*) from raw.hr__workers w left join raw.crm__users u on u.user_id = w.crm_user_id "
        "where u.user_id is null"
    ).fetchone() == (0,)
    owners = q(
        "select count(*) from raw.crm__opportunities o "
        "where owner_user_id not in (select crm_user_id from raw.hr__workers where job_role = 'AE')"
    ).fetchone()
    assert owners == (0,)
    # revenue splits of a deal sum to exactly 100 %
    assert q(
        "select count(*) from (select opportunity_id, sum(split_percent) s from raw.crm__opportunity_splits "
        "where split_type = 'revenue' group by 1) where s <> 100"
    ).fetchone() == (0,)
    # later versions exist: amount edits, reassignments and un-wins of closed-won deals
    kinds = dict(
        q(
            """
            with versions as (
                select *, lag(amount) over w as prev_amount, lag(owner_user_id) over w as prev_owner,
                       lag(is_won) over w as prev_won
                from raw.crm__opportunities window w as (partition by opportunity_id order by last_modified)
            )
            select case when prev_won and not is_won then 'unwon' when amount <> prev_amount then 'amount'
                        when owner_user_id <> prev_owner and prev_won then 'reassign' end as kind, count(*)
            from versions where prev_won group by 1
            """
        ).fetchall()
    )
    assert {"unwon", "amount"} <= set(kinds)
    # every worker employed in a month has that month's quota
    missing = q(
        """
        with months as (select unnest(generate_series(date '2025-12-01', date '2026-02-01', interval 1 month))::date m),
        employments as (
            select employee_id, min(hire_date) as hired, max(termination_date) as terminated
            from raw.hr__workers group by 1
        ),
        employed as (
            select employee_id, m from employments, months
            where hired <= last_day(m) and coalesce(terminated, date '9999-12-31') >= m
        )
        select count(*) from employed e left join raw.salesops__quotas q
          on q.employee_id = e.employee_id and q.period_type = 'month' and q.period_start = e.m
        where q.employee_id is null
        """
    ).fetchone()
    assert missing == (0,)
    # every overlay deal is invoiced, and only deals with a billing customer
    assert q(
        "select count(*) from raw.billing__invoices i left join raw.billing__customers c using (customer_id) "
        "where c.customer_id is null"
    ).fetchone() == (0,)


def test_deal_volume_matches_the_requested_credit_lines(tiny_raw: Loaded) -> None:
    won = tiny_raw.conn.execute(
        "select count(distinct opportunity_id) from raw.crm__opportunities where is_won "
        "and close_date between date '2025-12-01' and date '2025-12-31'"
    ).fetchone()[0]
    assert won == TINY.won_deals_per_month
    assert abs(won * TINY.lines_per_won_deal - TINY.credit_lines_per_month) / TINY.credit_lines_per_month < 0.01


def test_a_day_of_the_open_month_lands_as_extra_files(tiny_landing: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    generate(TINY, landing)
    day = date(2026, 3, 2)  # the month after the horizon
    report = land_day(TINY, landing, day)
    assert report.rows.get("crm__opportunities", 0) > 0 and "fx__rates" in report.rows
    for items in report.files.values():
        for path, _ in items:
            assert path.name.endswith(f"_{day.isoformat()}{path.suffix}")
    conn = duckdb.connect()
    results = load_all(conn, landing)
    assert sum(r.rows_quarantined for r in results.values()) == 0
    # the day file holds only versions modified on that day, and closes deals of the open month
    stamps = conn.execute(
        "select min(last_modified), max(last_modified) from raw.crm__opportunities "
        "where _source_file like '%2026-03-02%'"
    ).fetchone()
    assert stamps[0] >= datetime(2026, 3, 2) and stamps[1] < datetime(2026, 3, 3)


def test_cli_writes_a_summary(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ingestion.scale", "--payees", "20", "--credit-lines-per-month", "500",
         "--months", "1", "--out", str(tmp_path / "out"), "--json"],
        capture_output=True, text=True, check=True, cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    assert '"total_rows"' in result.stdout


@pytest.mark.slow
def test_credit_lines_per_month_after_dbt_build(tiny_landing: Path, tmp_path: Path, dbt_manifest: Path) -> None:
    """The measured rows of int_payee_credits per credit month are within 5 % of the request."""
    from ingestion.plans import load_plans

    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        load_all(conn, tiny_landing)
        load_plans(conn, REPO_ROOT / "plans")
    subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "build", "--exclude-resource-type", "unit_test", "--quiet",
         "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO_ROOT / "dbt_project", check=True,
        env={**os.environ, "SPM_WAREHOUSE_PATH": str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
    )  # fmt: skip
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        lines = conn.execute(
            "select credit_month, count(*) from intermediate.int_payee_credits group by 1 order by 1"
        ).fetchall()
    assert len(lines) == TINY.months
    for month, count in lines:
        assert abs(count - TINY.credit_lines_per_month) / TINY.credit_lines_per_month < 0.05, (month, count)
