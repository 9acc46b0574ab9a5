"""Row-level security on the PostgreSQL target: each login sees exactly the pay rows it is entitled to.

The small generated company is loaded with the project's loaders, its raw layer copied to a throw-away
PostgreSQL server and the dbt project built there; the pay marts are then rebuilt with `--full-refresh`, so every
assertion below runs against tables dbt replaced after the policies were first made (the post-hook must
re-apply them). Logins are created the way docs/pay-data-protection.md tells an admin to: a login role in a
group role, and a row in security.payee_logins. What a manager may see is recomputed here from the HR hierarchy
in Python, independently of security.team_members_monthly.
"""

from __future__ import annotations

import shutil
from collections import defaultdict
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
from engines.postgres import PostgresServer, copy_raw_layer, dbt_build, require_postgres_binaries, temporary_postgres

pytestmark = pytest.mark.slow

REBUILT_MARTS = ("fct_monthly_payouts", "fct_commission_ledger", "fct_attainment", "dim_employees")

# protected mart -> (its key, its month column or None)
PROTECTED_MARTS = {
    "marts.fct_monthly_payouts": ("payout_id", "payout_month"),
    "marts.fct_commission_ledger": ("ledger_line_id", "payout_month"),
    "marts.fct_attainment": ("attainment_id", "attainment_month"),
    "marts.fct_quota": ("quota_id", "quota_month"),
    "marts.fct_payout_runs": ("payout_run_id", "payout_month"),
    "marts.dim_employees": ("employee_id", None),
}


@dataclass(frozen=True)
class SecuredCompany:
    server: PostgresServer
    rep: str
    other_rep: str
    managers: dict[str, str]
    """login -> employee id of a first-line manager (`manager_login`) and of a manager of managers
    (`director_login`, so indirect reports are covered)."""
    teams: dict[str, frozenset[tuple[str, date]]]
    """login -> the (employee_id, month) pairs its team covers, computed here from the hierarchy."""

    def connect(self, login: str):
        """An autocommit connection as `login`, closed on leaving the `with` (psycopg2's own `with connection`
        opens a transaction, where the first refused statement would abort the rest)."""
        import psycopg2

        conn = psycopg2.connect(self.server.dsn.replace("user=spm", f"user={login}"))
        conn.autocommit = True
        return closing(conn)


def _month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _team_by_month(history: list[tuple], months: list[date], manager: str) -> set[tuple[str, date]]:
    """Everyone below `manager` in each month: reporting lines valid on any day of the month, walked down
    without a depth limit."""
    team = set()
    for month in months:
        reports = defaultdict(set)
        for employee_id, manager_id, valid_from, valid_to in history:
            if manager_id and manager_id != employee_id and valid_from <= _month_end(month) and valid_to >= month:
                reports[manager_id].add(employee_id)
        frontier, seen = [manager], set()
        while frontier:
            for member in reports[frontier.pop()] - seen - {manager}:
                seen.add(member)
                frontier.append(member)
        team |= {(member, month) for member in seen}
    return team


def _owner_rows(company_conn, sql: str, params: tuple = ()) -> list[tuple]:
    cursor = company_conn.cursor()
    cursor.execute(sql, params)
    return cursor.fetchall()


@pytest.fixture(scope="module")
def secured(small_company_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredCompany]:
    require_postgres_binaries()
    import psycopg2

    from ingestion.loader import load_all
    from ingestion.plans import load_plans

    workdir = tmp_path_factory.mktemp("rls")
    warehouse, landing = workdir / "warehouse.duckdb", workdir / "landing"
    shutil.copytree(small_company_landing, landing)
    with duckdb.connect(str(warehouse)) as conn:
        load_all(conn, landing)
        load_plans(conn, Path(__file__).resolve().parents[2] / "plans")

    with temporary_postgres() as server:
        assert copy_raw_layer(warehouse, server) > 10
        built = dbt_build(workdir / "build", server.dbt_env())
        assert built.returncode == 0, built.stdout[-4000:]

        with psycopg2.connect(server.dsn) as owner:
            owner.autocommit = True
            history = _owner_rows(
                owner,
                "select employee_id, manager_employee_id, valid_from, valid_to from intermediate.int_employee_history",
            )
            months = [r[0] for r in _owner_rows(owner, "select month_start from intermediate.int_calendar_months")]
            # payees with ledger lines (a zero payout month has none), so each table has rows of the chosen reps
            payees = {r[0] for r in _owner_rows(owner, "select distinct employee_id from marts.fct_commission_ledger")}
            managers = {m for _, m, _, _ in history if m}
            teams = {m: _team_by_month(history, months, m) for m in managers}
            members = {m: {e for e, _ in team} for m, team in teams.items()}
            director = min(m for m in managers if members[m] & managers)
            manager = min(m for m in managers if not members[m] & managers and payees - members[m] - managers - {m})
            team_payees = sorted(members[manager] & payees)
            outside = sorted(payees - members[manager] - managers)
            assert team_payees and outside, "the company needs reps inside and outside the manager's team"
            rep, other_rep = team_payees[0], outside[0]

            cursor = owner.cursor()
            for login, group, employee in (
                ("rep_login", "spm_rep", rep),
                ("manager_login", "spm_manager", manager),
                ("director_login", "spm_manager", director),
                ("finance_login", "spm_finance", None),
                ("unmapped_login", "spm_rep", None),
            ):
                cursor.execute(f"create role {login} login in role {group}")
                if employee:
                    cursor.execute(
                        "insert into security.payee_logins (login_role, employee_id) values (%s, %s)", (login, employee)
                    )
            table_ids = {
                name: _owner_rows(owner, "select %s::regclass::oid", (f"marts.{name}",))[0][0] for name in REBUILT_MARTS
            }

        # a rebuild replaces the tables: the post-hook must put the policies back, and the logins stay mapped
        rebuilt = dbt_build(workdir / "rebuild", server.dbt_env(), ["--select", *REBUILT_MARTS, "--full-refresh"])
        assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
        with psycopg2.connect(server.dsn) as owner:
            for name, oid in table_ids.items():
                assert _owner_rows(owner, "select %s::regclass::oid", (f"marts.{name}",))[0][0] != oid, (
                    f"marts.{name} was not replaced by the rebuild: the test would not show the policies survive one"
                )

        yield SecuredCompany(
            server=server,
            rep=rep,
            other_rep=other_rep,
            managers={"manager_login": manager, "director_login": director},
            teams={"manager_login": frozenset(teams[manager]), "director_login": frozenset(teams[director])},
        )


def _keys(conn, table: str, key: str, where: str = "true", params: tuple = ()) -> set:
    cursor = conn.cursor()
    cursor.execute(f"select {key} from {table} where {where}", params)
    return {r[0] for r in cursor.fetchall()}


def _rows_by_payee(conn, table: str, key: str, month_column: str | None) -> dict:
    cursor = conn.cursor()
    month = month_column or "null"
    cursor.execute(f"select {key}, employee_id, {month} from {table}")
    return {r[0]: (r[1], r[2]) for r in cursor.fetchall()}


@pytest.mark.parametrize("table", sorted(PROTECTED_MARTS))
def test_a_rep_sees_exactly_their_own_rows(secured: SecuredCompany, table: str):
    key, _ = PROTECTED_MARTS[table]
    with secured.connect("spm") as owner, secured.connect("rep_login") as rep:
        own = _keys(owner, table, key, "employee_id = %s", (secured.rep,))
        assert own, f"{secured.rep} has no rows in {table}: the test would prove nothing"
        assert _keys(rep, table, key) == own


def test_a_rep_cannot_read_another_reps_rows_even_by_asking_for_them(secured: SecuredCompany):
    import psycopg2

    with secured.connect("spm") as owner, secured.connect("rep_login") as rep:
        for table, (key, _) in PROTECTED_MARTS.items():
            assert _keys(owner, table, key, "employee_id = %s", (secured.other_rep,)), table
            assert _keys(rep, table, key, "employee_id = %s", (secured.other_rep,)) == set(), table
        # the layers below the marts hold the same amounts unprotected: no grant at all
        for relation in ("intermediate.int_ledger_lines", "raw.hr__workers", "marts.fct_retention_monthly"):
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                rep.cursor().execute(f"select 1 from {relation} limit 1")
        # and reps cannot read who reports to whom
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            rep.cursor().execute("select 1 from security.team_members_monthly limit 1")


@pytest.mark.parametrize("login", ["manager_login", "director_login"])
@pytest.mark.parametrize("table", sorted(PROTECTED_MARTS))
def test_a_manager_sees_their_own_rows_and_their_teams_for_the_months_they_led_it(
    secured: SecuredCompany, table: str, login: str
):
    key, month_column = PROTECTED_MARTS[table]
    employee, team = secured.managers[login], secured.teams[login]
    with secured.connect("spm") as owner, secured.connect(login) as manager:
        rows = _rows_by_payee(owner, table, key, month_column)
        if month_column is None:  # a dimension without months: everyone who was ever on the team
            expected = {k for k, (e, _) in rows.items() if e == employee or e in {member for member, _ in team}}
        else:
            expected = {k for k, (e, m) in rows.items() if e == employee or (e, m) in team}
        assert {rows[k][0] for k in expected} - {employee}, "the manager's team has rows here"
        assert _keys(manager, table, key) == expected
    if login == "manager_login":
        assert expected != set(rows), "a first-line manager must not see the whole company"


@pytest.mark.parametrize("table", sorted(PROTECTED_MARTS))
def test_finance_sees_every_row(secured: SecuredCompany, table: str):
    key, _ = PROTECTED_MARTS[table]
    with secured.connect("spm") as owner, secured.connect("finance_login") as finance:
        assert _keys(finance, table, key) == _keys(owner, table, key)


def test_a_login_in_a_group_but_not_mapped_to_an_employee_sees_nothing(secured: SecuredCompany):
    with secured.connect("unmapped_login") as unmapped:
        for table, (key, _) in PROTECTED_MARTS.items():
            assert _keys(unmapped, table, key) == set(), table
        assert _keys(unmapped, "security.payee_logins", "login_role") == set()
