"""The scale company as DuckDB SQL: small dimension tables built once, deals as pure functions of (month, index).

Randomness is `u(stream, a, b)`: DuckDB's `hash` of (seed, stream label, a, b) scaled to [0, 1). Every random
attribute of every record is such a draw keyed by the record's own coordinates, never a sequential stream, so
any subset (one month, one day, the deals created in a window) can be generated on its own and agrees with
every other subset. That is what makes the generator set-based and lets it write month by month in bounded
memory, and what lets `land_day` produce a day of the open month consistent with the months before it.

Tables built once per session (all small: at most a few hundred thousand rows at 10,000 payees):
`teams`, `seats`, `ae_seats`, `se_seats`, `workers`, `hr_versions`, `user_versions`, `leave_versions`,
`accounts`, `account_versions`, `customer_versions`, `subscription_versions`, `quota_versions`, `new_logos`.
Deals are never materialised whole: `deals_sql(month, predicate)` is a query over `range(deals per month)`
whose cheap draws (close day, lag, edit kind, ...) are filtered first and whose joins only run for the rows
a window needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from ingestion.scale.config import (
    AE_QUOTA_USD,
    AES_PER_TEAM,
    AMOUNT_EDIT_LAG,
    AMOUNT_EDIT_RATE,
    MANAGERS_PER_DIRECTOR,
    NOMINAL_USD_PER_UNIT,
    OVERLAY_RATE,
    REASSIGN_LAG,
    REASSIGN_RATE,
    REGION_SHARES,
    REGIONS,
    REPS_PER_MANAGER,
    REVENUE_SPLIT_RATE,
    SE_QUOTA_USD,
    UNWIN_LAG,
    UNWIN_RATE,
    ScaleConfig,
    month_end,
)

FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kara", "Luis", "Maya",
    "Noah", "Olga", "Priya", "Quinn", "Rosa", "Sven", "Tara", "Umar", "Vera", "Wen", "Ximena", "Yusuf", "Zoe",
    "Aiko", "Bruno", "Carmen", "Dmitri", "Esther", "Felix",
)  # fmt: skip
LAST_NAMES = (
    "Adler", "Baker", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski",
    "Larsen", "Moreau", "Nakamura", "Okafor", "Patel", "Quintero", "Rossi", "Schmidt", "Tanaka", "Ueda",
    "Varga", "Walsh", "Xu", "Yilmaz", "Zimmer", "Alvarez", "Brennan", "Chen", "Duarte", "Eriksen", "Fontaine",
)  # fmt: skip
COMPANY_WORDS = (
    "Acme", "Apex", "Birch", "Cobalt", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Indigo", "Juniper",
    "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pioneer", "Quartz", "Radiant", "Summit", "Tidal",
    "Umbra", "Vertex", "Willow", "Zephyr", "Aurora", "Beacon", "Cascade", "Drift", "Evergreen",
)  # fmt: skip
COMPANY_KINDS = (
    "Systems", "Labs", "Logistics", "Health", "Foods", "Energy", "Retail", "Media", "Analytics", "Robotics",
    "Finance", "Studios", "Networks", "Materials", "Travel", "Partners",
)  # fmt: skip
COMPANY_SUFFIXES = ("Inc", "Ltd", "GmbH", "SA", "BV", "Pty Ltd", "LLC", "AG")

TARGET_INCENTIVE_USD = {
    "AE": (60_000, 90_000),
    "SE": (30_000, 50_000),
    "SALES_MANAGER": (80_000, 120_000),
    "SALES_DIRECTOR": (120_000, 160_000),
}
LEADER_SHARE = 0.9
EMPTY_TEAM_USD = 180_000
QUOTA_CORRECTION_RATE = 0.02
TRANSFER_RATE = 0.04
LEAVE_RATE = 0.03
ADMIN_SHARE = 0.02
CHURN_SHARE = 0.08
"""Share of base accounts whose subscription is cancelled once in the horizon (feeds churn clawbacks)."""
SUBSCRIPTION_CHANGE_RATE = 0.05
"""Per base account and month: an expansion or contraction of its subscription."""
YEARLY_BILLING_SHARE = 0.3
SEGMENTS = (
    ("SMB", 0.60, 0.6, (300, 1_500)),
    ("MidMarket", 0.32, 1.6, (1_500, 6_000)),
    ("Enterprise", 0.08, 4.0, (6_000, 20_000)),
)
"""(segment, share of accounts, deal-size factor, monthly subscription range in USD)."""
DEAL_SHAPE = (0.2, 0.5, 3.0)
"""Triangular (low, mode, high) multiple of the mean deal size, before the segment factor."""
INVOICE_VOID_RATE = 0.01
INVOICE_UNCOLLECTIBLE_RATE = 0.025
DEAL_MONTH_LOOKBACK = 4
"""Events of a deal happen at most 4 months after its close month (an uncollectible write-off: up to 93 days)."""
DEAL_MONTH_LOOKAHEAD = 4
"""A deal is created at most 120 days (4 months) before its close month."""


def sql_list(values) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def pick(values, draw: str) -> str:
    """SQL: the element of `values` chosen by a uniform draw in [0, 1)."""
    return f"{sql_list(values)}[1 + floor({draw} * {len(values)})::int]"


def nominal_sql(currency: str) -> str:
    cases = " ".join(f"when '{c}' then {rate}" for c, rate in NOMINAL_USD_PER_UNIT.items())
    return f"(case {currency} {cases} end)"


def region_sql(position: str) -> str:
    """Region of a position in [0, 1) by cumulative region shares (contiguous teams share a region)."""
    bounds, total, parts = [], 0.0, []
    for region, share in zip(REGIONS, REGION_SHARES, strict=True):
        total += share
        bounds.append((region, total))
    for region, bound in bounds[:-1]:
        parts.append(f"when {position} < {bound:.4f} then '{region}'")
    return f"(case {' '.join(parts)} else '{bounds[-1][0]}' end)"


def pay_currency_sql(region: str, draw: str) -> str:
    return (
        f"(case {region} when 'NA' then (case when {draw} < 0.2 then 'CAD' else 'USD' end) "
        f"when 'EMEA' then (case when {draw} < 0.4 then 'GBP' else 'EUR' end) "
        f"when 'APAC' then 'AUD' else 'USD' end)"
    )


def deal_currency_sql(region: str, draw: str) -> str:
    return (
        f"(case {region} when 'EMEA' then (case when {draw} < 0.35 then 'GBP' else 'EUR' end) "
        f"when 'APAC' then 'AUD' else 'USD' end)"
    )


def user_id_sql(worker: str) -> str:
    """CRM user id of a worker index (employee ids are the same number with an E)."""
    return f"('U' || lpad(({worker} + 1)::varchar, 7, '0'))"


def region_name_sql(index: str) -> str:
    return f"(case {index} {' '.join(f'when {i} then {chr(39)}{r}{chr(39)}' for i, r in enumerate(REGIONS))} end)"


def segment_sql(draw: str) -> str:
    return f"(case when {draw} < 0.60 then 'SMB' when {draw} < 0.92 then 'MidMarket' else 'Enterprise' end)"


def company_name_sql(a: str, b: str, c: str) -> str:
    return f"({pick(COMPANY_WORDS, a)} || ' ' || {pick(COMPANY_KINDS, b)} || ' ' || {pick(COMPANY_SUFFIXES, c)})"


def d(day: date) -> str:
    return f"date '{day.isoformat()}'"


def ts_at(day_sql: str, hour: int, minute: int = 0) -> str:
    return f"(({day_sql})::timestamp + interval '{hour * 60 + minute} minutes')"


def round_hundreds(expr: str) -> str:
    return f"(round(({expr}) / 100) * 100)::decimal(18,2)"


@dataclass(frozen=True)
class DealMonth:
    index: int
    first: date
    days: int

    @property
    def tag(self) -> str:
        return self.first.strftime("%Y%m")


class Company:
    """Builds the dimension tables of one `ScaleConfig` into a DuckDB connection and writes deal SQL."""

    def __init__(self, config: ScaleConfig, conn: duckdb.DuckDBPyConnection) -> None:
        self.config = config
        self.conn = conn
        self.org = config.org

    # ---- helpers -------------------------------------------------------------------------------------------

    def u(self, stream: str, a: str = "0", b: str = "0") -> str:
        return f"u('{stream}', ({a})::bigint, ({b})::bigint)"

    def account_sql(self, a: str, region: str) -> dict[str, str]:
        """Attributes of base account `a` (an index) in `region`: pure functions of the index, so the deal
        queries compute them instead of joining the accounts table for strings (see `deals_sql`)."""
        return {
            "account_id": f"('ACC' || lpad(({a} + 1)::varchar, 8, '0'))",
            "account_name": company_name_sql(self.u("cw", a), self.u("ck", a), self.u("cs", a)),
            "segment": segment_sql(self.u("seg", a)),
            "currency": deal_currency_sql(region, self.u("acur", a)),
            "customer_id": f"('cus_' || lpad(({a} + 1)::varchar, 8, '0'))",
        }

    def deal_month(self, index: int) -> DealMonth:
        first = self.config.month_start(index)
        return DealMonth(index, first, (month_end(first) - first).days + 1)

    def _exec(self, sql: str) -> None:
        self.conn.execute(sql)

    # ---- build ---------------------------------------------------------------------------------------------

    def build(self) -> None:
        cfg, org = self.config, self.org
        self._exec(
            # hash() of several values combines their hashes cheaply: draws of two streams for the same record
            # come out strongly dependent (correlation ~ -0.5). Hashing the combined hash again mixes it fully.
            f"create or replace macro u(s, a, b) as "
            f"((hash(hash({cfg.seed}::bigint, s, a, b)) >> 11)::double / 9007199254740992.0)"
        )
        self._build_org()
        self._build_workers()
        self._build_hr()
        self._build_accounts()
        self._build_quotas()
        self._build_new_logos()
        del org

    def _build_org(self) -> None:
        org = self.org
        ds, ms, rs = org.directors, org.managers, org.rep_seats
        self._exec(
            f"""
            create or replace table teams as
            select t as team,
                   {ds} + t as manager_seat,
                   least(t // {MANAGERS_PER_DIRECTOR}, {ds - 1}) as director,
                   {region_sql(f"(t + 0.5) / {ms}")} as region,
                   least({REPS_PER_MANAGER}, {rs} - t * {REPS_PER_MANAGER}) as reps,
                   least({AES_PER_TEAM}, {rs} - t * {REPS_PER_MANAGER}) as n_ae,
                   greatest(0, least({REPS_PER_MANAGER}, {rs} - t * {REPS_PER_MANAGER}) - {AES_PER_TEAM}) as n_se
            from range({ms}) r(t)
            """
        )
        self._exec(
            f"""
            create or replace table seats as
            select d as seat_id, 'SALES_DIRECTOR' as role, null::bigint as team, null::bigint as pos,
                   d as director, teams.region, null::bigint as manager_seat
            from range({ds}) r(d)
            join teams on teams.team = least(d * {MANAGERS_PER_DIRECTOR}, {ms - 1})
            union all
            select manager_seat, 'SALES_MANAGER', team, null, director, region, director from teams
            union all
            select {ds + ms} + r, case when r % {REPS_PER_MANAGER} < {AES_PER_TEAM} then 'AE' else 'SE' end,
                   r // {REPS_PER_MANAGER}, r % {REPS_PER_MANAGER}, teams.director, teams.region, teams.manager_seat
            from range({rs}) x(r)
            join teams on teams.team = r // {REPS_PER_MANAGER}
            """
        )
        h = self.config.horizon_days
        self._exec(
            f"""
            create or replace table turnovers as
            select seat_id, rank,
                   {d(self.config.start_month)} + (14 + floor({self.u("tday", "seat_id")} * {h - 14}))::int
                   as turnover_day
            from (
                select seat_id, row_number() over (order by {self.u("turnover", "seat_id")}, seat_id) - 1 as rank
                from seats where role in ('AE', 'SE')
            )
            where rank < {org.replacements}
            """
        )

    def _build_workers(self) -> None:
        cfg, org = self.config, self.org
        start = d(cfg.start_month)
        seats = org.seats
        hire_back = (
            f"(case role when 'SALES_DIRECTOR' then 2555 + floor({self.u('hire', 'w')} * 1095) "
            f"when 'SALES_MANAGER' then 365 + floor({self.u('hire', 'w')} * 2190) "
            f"else 15 + floor({self.u('hire', 'w')} * 2175) end)::int"
        )
        target_cases = " ".join(
            f"when '{role}' then {lo} + {self.u('ti', 'w')} * {hi - lo}"
            for role, (lo, hi) in TARGET_INCENTIVE_USD.items()
        )
        self._exec(
            f"""
            create or replace table workers as
            with people as (
                select s.seat_id as w, s.*, false as is_successor, t.turnover_day
                from seats s left join turnovers t using (seat_id)
                union all
                select {seats} + t.rank as w, s.*, true, t.turnover_day
                from turnovers t join seats s using (seat_id)
            )
            select w, seat_id, role, team, pos, director, region, manager_seat, is_successor,
                   case when is_successor then turnover_day else {start} - {hire_back} end as hire_date,
                   case when is_successor then null else turnover_day end as termination_date,
                   'E' || lpad((w + 1)::varchar, 7, '0') as employee_id,
                   'U' || lpad((w + 1)::varchar, 7, '0') as user_id,
                   {pick(FIRST_NAMES, self.u("first", "w"))} as first_name,
                   {pick(LAST_NAMES, self.u("last", "w"))} as last_name,
                   {pay_currency_sql("region", self.u("paycur", "w"))} as pay_currency,
                   (case role {target_cases} end) as target_usd,
                   case when manager_seat is null then null
                        else 'E' || lpad((manager_seat + 1)::varchar, 7, '0') end as manager_employee_id
            from people
            """
        )
        self._exec(
            f"""
            create or replace table workers as
            select *, first_name || ' ' || last_name as full_name,
                   lower(first_name) || '.' || lower(last_name) || '.' || (w + 1) || '@brightwave.example' as email,
                   {round_hundreds(f"target_usd / {nominal_sql('pay_currency')}")} as target_incentive_annual
            from workers
            """
        )
        # Seats with the user holding them before and after a turnover (the successor from the turnover day on).
        self._exec(
            """
            create or replace table holders as
            select s.seat_id, inc.w as inc_w, succ.w as succ_w, inc.user_id as inc_user, succ.user_id as succ_user,
                   t.turnover_day
            from seats s
            join workers inc on inc.w = s.seat_id
            left join turnovers t on t.seat_id = s.seat_id
            left join workers succ on succ.seat_id = s.seat_id and succ.is_successor
            """
        )
        self._exec(
            f"""
            create or replace table ae_seats as
            select row_number() over (order by s.seat_id) - 1 as ae_ord, s.seat_id, s.team, s.pos as k, s.region,
                   list_position({sql_list(REGIONS)}, s.region) - 1 as region_idx,
                   teams.n_ae, teams.n_se, h.inc_w, h.succ_w, h.inc_user, h.succ_user, h.turnover_day
            from seats s join teams using (team) join holders h using (seat_id)
            where s.role = 'AE'
            """
        )
        self._exec(
            f"""
            create or replace table se_seats as
            select s.seat_id, s.team, s.pos - {AES_PER_TEAM} as k, h.inc_w, h.succ_w, h.turnover_day
            from seats s join holders h using (seat_id)
            where s.role = 'SE'
            """
        )

    def _build_hr(self) -> None:
        cfg, org = self.config, self.org
        start_ts = f"timestamp '{cfg.start_ts.isoformat(sep=' ')}'"
        h = cfg.horizon_days
        start = d(cfg.start_month)
        end = d(cfg.horizon_end)
        # Transfers: a few incumbent reps move to the sister team of the same director on a day in the horizon.
        self._exec(
            f"""
            create or replace table transfers as
            select w.w, {start} + (1 + floor({self.u("xday", "w.w")} * {h - 2}))::int as transfer_day,
                   'E' || lpad((alt.manager_seat + 1)::varchar, 7, '0') as new_manager_employee_id
            from workers w
            join teams alt on alt.team = xor(w.team, 1) and alt.director = w.director
            where w.role in ('AE', 'SE') and not w.is_successor and w.termination_date is null
              and {self.u("transfer", "w.w")} < {TRANSFER_RATE}
            """
        )
        cols = (
            "employee_id, user_id as crm_user_id, full_name, role as job_role, {mgr} as manager_employee_id, region, "
            "pay_currency, hire_date, {term} as termination_date, target_incentive_annual, "
            "{eff_from} as effective_from, "
            "{eff_to} as effective_to, {lm} as last_modified"
        )
        first_lm = f"greatest({ts_at('hire_date', 9)}, {start_ts})"
        self._exec(
            f"""
            create or replace table hr_versions as
            select {
                cols.format(
                    mgr="manager_employee_id", term="null::date", eff_from="hire_date", eff_to="null::date", lm=first_lm
                )
            }
            from workers
            union all
            select {
                cols.format(
                    mgr="manager_employee_id",
                    term="null::date",
                    eff_from="hire_date",
                    eff_to="x.transfer_day - 1",
                    lm=ts_at("x.transfer_day", 9),
                )
            }
            from workers join transfers x using (w)
            union all
            select {
                cols.format(
                    mgr="x.new_manager_employee_id",
                    term="null::date",
                    eff_from="x.transfer_day",
                    eff_to="null::date",
                    lm=ts_at("x.transfer_day", 9),
                )
            }
            from workers join transfers x using (w)
            union all
            select {
                cols.format(
                    mgr="manager_employee_id",
                    term="termination_date",
                    eff_from="hire_date",
                    eff_to="null::date",
                    lm=ts_at("termination_date", 9),
                )
            }
            from workers where termination_date is not null
            """
        )
        admins = max(1, round(ADMIN_SHARE * cfg.payees))
        self._exec(
            f"""
            create or replace table user_versions as
            select user_id, full_name, email, true as is_active, {first_lm} as last_modified from workers
            union all
            select user_id, full_name, email, false, {ts_at("termination_date", 18)} from workers
            where termination_date is not null
            union all
            select 'U' || lpad(({cfg.payees} + k + 1)::varchar, 7, '0'),
                   {pick(FIRST_NAMES, self.u("afirst", "k"))} || ' ' || {pick(LAST_NAMES, self.u("alast", "k"))},
                   'ops.admin.' || (k + 1) || '@brightwave.example', true, {start_ts}
            from range({admins}) r(k)
            """
        )
        leaves = max(1, round(LEAVE_RATE * cfg.payees))
        self._exec(
            f"""
            create or replace table leave_versions as
            with chosen as (
                select w, employee_id, hire_date, termination_date,
                       7 + floor({self.u("llen", "w")} * 50)::int as len,
                       greatest(hire_date, {start}) as first_day,
                       least(coalesce(termination_date - 1, {end}), {end}) as last_day,
                       {self.u("ltype", "w")} as t
                from workers
                order by {self.u("leave", "w")}, w
                limit {leaves}
            ),
            placed as (
                select *, first_day + floor({
                self.u("lstart", "w")
            } * (last_day - first_day + 2 - len))::int as start_date,
                       case when t < 0.5 then 'unpaid' when t < 0.78 then 'parental' else 'sick' end as leave_type
                from chosen
                where last_day - first_day + 1 >= len
            )
            select 'L' || lpad((w + 1)::varchar, 7, '0') as leave_id, employee_id, leave_type,
                   leave_type <> 'unpaid' as is_paid, start_date, start_date + len - 1 as end_date,
                   greatest(
                       {
                ts_at(
                    "start_date - (case when leave_type = 'sick' then 0 else 1 + floor("
                    + self.u("lnotice", "w")
                    + " * 21)::int end)",
                    11,
                )
            },
                       {ts_at("hire_date", 11)}, {start_ts}
                   ) as last_modified
            from placed
            """
        )
        del org

    def _build_accounts(self) -> None:
        cfg = self.config
        a_per = cfg.accounts_per_ae
        start = d(cfg.start_month)
        start_ts = f"timestamp '{cfg.start_ts.isoformat(sep=' ')}'"
        h = cfg.horizon_days
        attrs = self.account_sql("a", "region")
        monthly_cases = " ".join(
            f"when '{seg}' then {lo} + {self.u('subamt', 'a')} * {hi - lo}" for seg, _, _, (lo, hi) in SEGMENTS
        )
        self._exec(
            f"""
            create or replace table accounts as
            select a, ae_ord, seat_id, team, region,
                   {attrs["account_id"]} as account_id,
                   {attrs["account_name"]} as account_name,
                   {attrs["segment"]} as segment,
                   {attrs["currency"]} as currency,
                   {start} - (1 + floor({self.u("acreated", "a")} * 1095))::int as created_date,
                   case when {self.u("churn", "a")} < {CHURN_SHARE}
                        then {start} + (14 + floor({self.u("churnday", "a")} * {h - 14}))::int end as churn_date,
                   inc_user, succ_user, turnover_day
            from (select ae.*, ae.ae_ord * {a_per} + j as a from ae_seats ae, range({a_per}) r(j))
            """
        )
        self._exec(
            f"""
            create or replace table accounts as
            select *,
                   {attrs["customer_id"]} as customer_id,
                   'sub_' || lpad((a + 1)::varchar, 8, '0') as subscription_id,
                   case when {self.u("yearly", "a")} < {YEARLY_BILLING_SHARE} then 'year' else 'month' end
                       as billing_interval,
                   (case segment {monthly_cases} end) / {nominal_sql("currency")} as monthly_local
            from accounts
            """
        )
        self._exec(
            f"""
            create or replace table base_account_versions as
            select a, account_id, account_name, segment, region, inc_user as owner_user_id, created_date,
                   {start_ts} as last_modified
            from accounts
            union all
            select a, account_id, account_name, segment, region, succ_user, created_date, {ts_at("turnover_day", 8)}
            from accounts where turnover_day is not null
            """
        )
        months = cfg.months + 1
        recurring = (
            "round(monthly_local * (case when billing_interval = 'year' then 12 else 1 end) * {f}, 2)::decimal(18,2)"
        )
        self._exec(
            f"""
            create or replace table base_subscription_versions as
            select a, subscription_id, customer_id, null::varchar as crm_opportunity_id, 'active' as status,
                   created_date as start_date, null::date as end_date, billing_interval,
                   {recurring.format(f="1")} as recurring_amount, currency, {start_ts} as last_modified
            from accounts
            union all
            select a, subscription_id, customer_id, null, 'active', created_date, null, billing_interval,
                   {recurring.format(f=f"(0.6 + 0.8 * {self.u('subf', 'a', 'p')})")}, currency,
                   {ts_at("change_day", 12)}
            from (
                select accounts.*, p,
                       date_add(date_trunc('month', {start} + interval (p - 1) month)::date,
                           interval (floor({self.u("subday", "a", "p")} * 28)) day)::date as change_day
                from accounts, range(1, {months + 1}) r(p)
                where {self.u("subchg", "a", "p")} < {SUBSCRIPTION_CHANGE_RATE}
            )
            where change_day < coalesce(churn_date, date '9999-12-31')
            union all
            select a, subscription_id, customer_id, null, 'canceled', created_date, churn_date, billing_interval,
                   {recurring.format(f="1")}, currency, {ts_at("churn_date", 12, 30)}
            from accounts where churn_date is not null
            """
        )

    def _build_quotas(self) -> None:
        cfg = self.config
        start = d(cfg.start_month)
        start_ts = f"timestamp '{cfg.start_ts.isoformat(sep=' ')}'"
        months = cfg.months + 1
        ae_lo, ae_hi = AE_QUOTA_USD
        se_lo, se_hi = SE_QUOTA_USD
        self._exec(
            f"""
            create or replace table seat_quota_usd as
            with reps as (
                select seat_id, team, role,
                       case role when 'AE' then {ae_lo} + {self.u("qbase", "seat_id")} * {ae_hi - ae_lo}
                                 else {se_lo} + {self.u("qbase", "seat_id")} * {se_hi - se_lo} end as usd
                from seats where role in ('AE', 'SE')
            ),
            managers as (
                select t.manager_seat as seat_id, t.director,
                       {LEADER_SHARE} * coalesce(sum(reps.usd) filter (where reps.role = 'AE'), {EMPTY_TEAM_USD}) as usd
                from teams t left join reps on reps.team = t.team
                group by t.manager_seat, t.director
            ),
            directors as (
                select s.seat_id, {LEADER_SHARE} * coalesce(sum(m.usd), {EMPTY_TEAM_USD}) as usd
                from seats s left join managers m on m.director = s.seat_id
                where s.role = 'SALES_DIRECTOR'
                group by s.seat_id
            )
            select seat_id, usd from reps
            union all select seat_id, usd from managers
            union all select seat_id, usd from directors
            """
        )
        monthly = f"""
            select w.w, w.employee_id, w.role, w.pay_currency, w.hire_date, w.termination_date, q.usd,
                   'month' as period_type, p as period_index,
                   (date_trunc('month', {start} + interval (p - 1) month))::date as period_start
            from workers w join seat_quota_usd q using (seat_id), range(1, {months + 1}) r(p)
        """
        self._exec(
            f"""
            create or replace table quota_base as
            select *, (period_start + interval 1 month - interval 1 day)::date as period_end
            from ({monthly})
            """
        )
        long_rows = []
        for role, periods in cfg.long_quota_periods.items():
            for period_type, first, last in periods:
                length = 3 if period_type == "quarter" else 12
                long_rows.append(f"('{role}', '{period_type}', {d(first)}, {d(last)}, {length})")
        long_sql = ""
        if long_rows:
            self._exec(
                "create or replace table long_periods(role varchar, period_type varchar, period_start date, "
                "period_end date, len integer)"
            )
            self._exec(f"insert into long_periods values {', '.join(long_rows)}")
            long_sql = f"""
                union all
                select w.employee_id, lp.period_type, lp.period_start,
                       {round_hundreds(f"q.usd * lp.len / {nominal_sql('w.pay_currency')}")} as quota_amount,
                       w.pay_currency as currency,
                       greatest({ts_at("lp.period_start - 5", 8)}, {start_ts}) as updated_at
                from workers w join seat_quota_usd q using (seat_id) join long_periods lp on lp.role = w.role
                where w.hire_date <= lp.period_end
                  and coalesce(w.termination_date, date '9999-12-31') >= greatest(lp.period_start, {start})
            """
        draw = self.u("qnoise", "w", "period_index")
        noise = f"(case when role in ('AE', 'SE') then 1 + 0.08 * ({draw} - 0.5) else 1 end)"
        self._exec(
            f"""
            create or replace table quota_versions as
            with monthly as (
                select b.*, {round_hundreds(f"usd * {noise} / {nominal_sql('pay_currency')}")} as quota_amount,
                       greatest({ts_at("period_start - 5", 8)}, {start_ts}) as updated_at
                from quota_base b
                where b.hire_date <= b.period_end
                  and coalesce(b.termination_date, date '9999-12-31') >= b.period_start
            )
            select employee_id, period_type, period_start, quota_amount, pay_currency as currency, updated_at
            from monthly
            union all
            select employee_id, period_type, period_start,
                   case when corrected = quota_amount then corrected + 100 else corrected end,
                   pay_currency, updated_at + interval 10 day
            from (
                select *,
                       {round_hundreds(f"quota_amount * (0.85 + 0.3 * {self.u('qcorrf', 'w', 'period_index')})")}
                           as corrected
                from monthly
                where {self.u("qcorr", "w", "period_index")} < {QUOTA_CORRECTION_RATE}
            )
            {long_sql}
            """
        )

    # ---- deals ---------------------------------------------------------------------------------------------

    def deal_core_sql(self, month: DealMonth) -> str:
        """Cheap per-deal draws straight from range(): filter on these before the joins run."""
        cfg = self.config
        m = month.index
        u = self.u

        def lag_days(stream: str, lag: tuple[int, int]) -> str:
            return f"({lag[0]} + floor({u(stream, m, 'i')} * {lag[1] - lag[0] + 1}))::int"

        return f"""
            select {m} as m, i, i < {cfg.won_deals_per_month} as is_won_type,
                   close_date, close_ts, close_date - lag as created_date,
                   {ts_at("close_date - lag", 10)} + to_minutes(floor({u("cmin", m, "i")} * 60)::bigint) as created_ts,
                   edit_kind,
                   case edit_kind
                       when 'amount' then {ts_at(f"close_date + {lag_days('elag', AMOUNT_EDIT_LAG)}", 11)}
                       when 'reassign' then {ts_at(f"close_date + {lag_days('elag', REASSIGN_LAG)}", 11)}
                       when 'unwon' then {ts_at(f"close_date + {lag_days('elag', UNWIN_LAG)}", 11)}
                   end + to_minutes(floor({u("emin", m, "i")} * 60)::bigint) as edit_ts,
                   has_overlay_draw,
                   has_overlay_draw and coalesce(edit_kind, '') <> 'unwon' as invoice_candidate,
                   close_date + floor({u("invday", m, "i")} * 4)::int as invoice_date,
                   {u("invout", m, "i")} as invoice_draw
            from (
                select i,
                       {d(month.first)} + floor({u("day", m, "i")} * {month.days})::int as close_date,
                       {ts_at(f"{d(month.first)} + floor({u('day', m, 'i')} * {month.days})::int", 9)}
                           + to_minutes(floor({u("min", m, "i")} * 480)::bigint) as close_ts,
                       (10 + floor({u("lag", m, "i")} * 111))::int as lag,
                       case when i >= {cfg.won_deals_per_month} then null
                            when {u("edit", m, "i")} < {AMOUNT_EDIT_RATE} then 'amount'
                            when {u("edit", m, "i")} < {AMOUNT_EDIT_RATE + REASSIGN_RATE} then 'reassign'
                            when {u("edit", m, "i")} < {AMOUNT_EDIT_RATE + REASSIGN_RATE + UNWIN_RATE} then 'unwon'
                       end as edit_kind,
                       i < {cfg.won_deals_per_month} and {u("ovl", m, "i")} < {OVERLAY_RATE} as has_overlay_draw
                from range({cfg.deals_per_month}) r(i)
            )
        """

    def deals_sql(self, month: DealMonth, where: str, core_extra: str = "") -> str:
        """Every attribute of the deals of `month` passing `where`, a predicate on the core columns (plus the
        columns `core_extra` computes from them, which are passed through to the result)."""
        cfg = self.config
        m = month.index
        u = self.u
        a_per = cfg.accounts_per_ae
        p_new = cfg.new_logo_share
        lo, mode, hi = DEAL_SHAPE
        f_mode = (mode - lo) / (hi - lo)
        shape_mean = (lo + mode + hi) / 3
        seg_mean = sum(share * factor for _, share, factor, _ in SEGMENTS)
        seg_factor = " ".join(f"when '{seg}' then {factor}" for seg, _, factor, _ in SEGMENTS)
        tri = (
            f"(case when {u('amt', m, 'i')} < {f_mode:.8f} "
            f"then {lo} + sqrt({u('amt', m, 'i')} * {(hi - lo) * (mode - lo)}) "
            f"else {hi} - sqrt((1 - {u('amt', m, 'i')}) * {(hi - lo) * (hi - mode)}) end)"
        )
        # Join payloads are integers only: strings carried out of a join's build side trip an internal error in
        # DuckDB 2.0.0 ("dict-surviving ...") once the tables span several row groups (10k payees). User ids,
        # regions and account attributes are derived after the joins instead.
        holder = user_id_sql("(case when {s}.turnover_day <= {day} then {s}.succ_w else {s}.inc_w end)")
        type_draw = u("type", m, "i")
        acc = self.account_sql("w.account_index", "w.region")
        return f"""
            with core as (
                select * from (select *{", " + core_extra if core_extra else ""} from ({self.deal_core_sql(month)}))
                where {where}
            ),
            placed as (
                select core.*,
                       case when {type_draw} < {p_new} then 'new'
                            when ({type_draw} - {p_new}) / {1 - p_new} < 0.6 then 'expansion' else 'renewal' end
                           as opportunity_type,
                       ae.ae_ord, ae.seat_id, ae.team, ae.k, {region_name_sql("ae.region_idx")} as region,
                       ae.n_ae, ae.n_se,
                       {holder.format(s="ae", day="core.close_date")} as owner_user_id,
                       {holder.format(s="ae", day="core.created_date")} as creation_owner_user_id,
                       ae.ae_ord * {a_per} + floor({u("acct", m, "i")} * {a_per})::bigint as drawn_account,
                       case when ae.n_ae >= 2
                            then (ae.k + 1 + floor({u("partner", m, "i")} * (ae.n_ae - 1))::int) % ae.n_ae end
                           as partner_k,
                       case when ae.n_se >= 1 then floor({u("se", m, "i")} * ae.n_se)::int end as se_k
                from core
                join ae_seats ae on ae.ae_ord = floor({u("seat", m, "i")} * {cfg.org.ae_seats})::bigint
            ),
            with_account as (
                select placed.*,
                       case when placed.opportunity_type = 'new' then null
                            when drawn.churn_date <= placed.close_date
                            then placed.ae_ord * {a_per}
                                 + (placed.drawn_account - placed.ae_ord * {a_per} + 1) % {a_per}
                            else placed.drawn_account end as account_index
                from placed
                left join accounts drawn on drawn.a = placed.drawn_account
            )
            select deals.*,
                   greatest(1.00, round(
                       {cfg.mean_deal_usd} * (0.6 + 0.8 * {u("prod", "seat_id")}) * {tri} / {shape_mean}
                       * (case segment {seg_factor} end) / {seg_mean} / {nominal_sql("currency")}, 2)
                   )::decimal(18,2) as amount
            from (
            select w.*,
                   'OPP{month.tag}-' || lpad(w.i::varchar, 8, '0') as opportunity_id,
                   case when w.account_index is null then 'ACN{month.tag}-' || lpad(w.i::varchar, 8, '0')
                        else {acc["account_id"]} end as account_id,
                   case when w.account_index is null
                        then {company_name_sql(u("ncw", m, "i"), u("nck", m, "i"), u("ncs", m, "i"))}
                        else {acc["account_name"]} end as account_name,
                   case when w.account_index is null then {segment_sql(u("nseg", m, "i"))} else {acc["segment"]} end
                       as segment,
                   case when w.account_index is null then {deal_currency_sql("w.region", u("ncur", m, "i"))}
                        else {acc["currency"]} end as currency,
                   case when w.account_index is not null then {acc["customer_id"]} end as base_customer_id,
                   (case when {u("term", m, "i")} < 0.6 then 12 when {u("term", m, "i")} < 0.85 then 24 else 36 end)
                       as contract_term_months,
                   w.is_won_type and w.partner_k is not null and {u("split", m, "i")} < {REVENUE_SPLIT_RATE}
                       as has_revenue_split,
                   [60, 50, 70][1 + floor({u("pattern", m, "i")} * 3)::int] as owner_split_percent,
                   {holder.format(s="partner", day="w.close_date")} as partner_user_id,
                   w.has_overlay_draw and w.se_k is not null as has_overlay,
                   w.invoice_candidate and w.se_k is not null as has_invoice,
                   {holder.format(s="se", day="w.close_date")} as se_user_id,
                   case when {u("sepct", m, "i")} < 0.5 then 100 else 50 end as overlay_percent,
                   case when {u("esign", m, "i")} < 0.5 then -1 else 1 end
                       * (0.05 + 0.35 * {u("efactor", m, "i")}) as amount_edit_change
            from with_account w
            left join ae_seats partner on partner.team = w.team and partner.k = w.partner_k
            left join se_seats se on se.team = w.team and se.k = w.se_k
            ) as deals
        """

    def _build_new_logos(self) -> None:
        """New-logo deals of every month that can matter (their accounts, customers and subscriptions)."""
        cfg = self.config
        p_new = cfg.new_logo_share
        parts = []
        for index in range(1, cfg.months + 2 + DEAL_MONTH_LOOKAHEAD):
            predicate = f"{self.u('type', index, 'i')} < {p_new}"
            parts.append(
                f"select * from ({self.deals_sql(self.deal_month(index), predicate)}) where opportunity_type = 'new'"
            )
        self._exec(f"create or replace table new_logos as {' union all '.join(parts)}")
