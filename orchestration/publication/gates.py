"""Blocking checks that gate the publication of a payout month (SPEC §4).

Each gate is a SQL query over the preview marts that returns the *offending keys* for the months being
published: no rows means the gate passed. Keeping the rule as a query that names offenders (instead of a
count) is what lets a blocked publication say exactly which opportunity, payee or currency is wrong.

Keys, not amounts: a key (employee id, month, opportunity, ledger line, currency) goes into the failure message,
the Dagster event log and the alert webhook, which people read who may not see pay. The amounts that show why
a key offends (a payout above its cap, totals that moved too much) are a gate's optional second column,
`offending_detail`: they are recorded only in the warehouse, in audit.check_results.sample_details, beside the
pay data itself (docs/pay-data-protection.md).

This module has no Dagster imports: the publication asset, the CLI and the tests all call `evaluate_gates`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import duckdb

from ingestion.contracts import CONTRACTS, CONTRACTS_BY_NAME, REPORTING_CURRENCY, SourceContract

SAMPLE_SIZE = 10

# Source entities whose quarantined rows could change a payout if silently dropped.
PAYOUT_RELEVANT_ENTITIES = (
    "crm__users",
    "crm__opportunities",
    "crm__opportunity_splits",
    "hr__workers",
    "hr__leaves",
    "salesops__quotas",
    "fx__rates",
)


@dataclass(frozen=True)
class CheckResult:
    """Outcome of one blocking check for one publication attempt."""

    check_name: str
    rule: str
    passed: bool
    failing_count: int = 0
    sample_keys: tuple[str, ...] = ()
    sample_details: tuple[str, ...] = ()
    """Per sample key, the amounts behind it (same order), for audit.check_results only: never in `describe`."""

    def describe(self) -> str:
        """One line for failure messages and alerts: rule and offending keys, never amounts."""
        status = "passed" if self.passed else f"FAILED ({self.failing_count} offending)"
        text = f"{self.check_name}: {status} - rule: {self.rule}"
        if self.sample_keys:
            text += f"; sample keys: {', '.join(self.sample_keys)}"
        if self.sample_details:
            text += " (amounts in audit.check_results.sample_details)"
        return text


@dataclass(frozen=True)
class GateContext:
    """What a gate needs besides the connection: the months being published and the run's policy knobs."""

    months: tuple[date, ...]
    max_payout_change_ratio: float = 0.5
    acknowledged_change_months: frozenset[date] = field(default_factory=frozenset)

    @property
    def month_list_sql(self) -> str:
        return ", ".join(f"date '{m.isoformat()}'" for m in self.months)


@dataclass(frozen=True)
class Gate:
    name: str
    rule: str
    offenders_sql: Callable[[GateContext], str]
    """SQL returning a varchar column `offending_key` (no amounts) and optionally a second, `offending_detail`
    (the amounts, for the audit table only), one row per offender, for the context's months."""


def _in_months(column: str, ctx: GateContext) -> str:
    return f"{column} in ({ctx.month_list_sql})"


QUARANTINED_ROW_SQL = (
    "q.entity || ' ' || q.record_key || ': ' || q.rule || ' (' || coalesce(q.detail, '') || ') in '"
    " || q.source_file || ' row ' || cast(q.source_row as varchar)"
)
"""A row of raw._quarantine (aliased `q`) as people read it: entity, record key, rule and why, file and row."""


def _quarantine_sql(ctx: GateContext) -> str:
    """Quarantined payout-relevant rows not superseded by a later valid load of the same record.

    A quarantined opportunity row means a deal may be missing from someone's credit, so it blocks until the
    source sends a corrected version (or the engineer lands a fix) - it never silently vanishes. Only a version
    loaded by a *later* load resolves it: a valid sibling from the same delivery does not, because for a
    conflicting duplicate (two contents under one version key) that sibling is the loader's arbitrary pick.
    """
    parts = []
    for name in PAYOUT_RELEVANT_ENTITIES:
        contract = CONTRACTS_BY_NAME[name]
        # Same format as the loader's quarantine record_key: `col=value, col2=value`.
        key_expr = " || ', ' || ".join(
            f"'{col}=' || coalesce(cast(r.{col} as varchar), '<null>')" for col in contract.record_key
        )
        parts.append(
            f"""
            select {QUARANTINED_ROW_SQL} as offending_key
            from raw._quarantine as q
            where q.entity = '{name}'
              and not exists (
                  select 1 from {contract.raw_table} as r
                  where {key_expr} = q.record_key and r._loaded_at > q.quarantined_at
              )
            """
        )
    return " union all ".join(parts)


def _references_sql(ctx: GateContext) -> str:
    """Current records whose reference to another source (`Column.references`) names no record there.

    Every reference the contracts declare is checked, so a new one is checked the day it is declared. An
    orphan is data the platform was not sent: a split of a deal missing from the CRM extract is a deal someone
    may be owed for, an invoice of an unknown opportunity is a payment no pay-on-invoice plan will see. Fixed
    at the source: deliver the missing record, or a corrected version of the referencing one. Checked over the
    current state (the latest version of each record, not deleted at the source) of the records that can reach
    the months being published or earlier (`SourceContract.relevant_until`: next month's quota for a hire HR
    has not sent yet does not block this month). Cost: one anti-join per reference over the raw history; only
    records with an orphan in some version are then ranked to find their current version.
    """
    end = f"date '{_last_day(max(ctx.months)).isoformat()}'"
    parts = []
    for contract in CONTRACTS:
        for column in contract.columns:
            if column.references is not None:
                parts.append(_orphans_sql(contract, column.name, column.references, end))
    return " union all ".join(parts)


def _last_day(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _orphans_sql(contract: SourceContract, column: str, references: str, end: str) -> str:
    parent_name, parent_column = references.split(".")
    parent = CONTRACTS_BY_NAME[parent_name]
    key = contract.record_key
    key_text = " || ', ' || ".join(f"'{col}=' || coalesce(cast(c.{col} as varchar), '<null>')" for col in key)
    orphan = (
        f"c.{column} is not null"
        f" and not exists (select 1 from {parent.raw_table} as p where p.{parent_column} = c.{column})"
    )
    stamp = f"{contract.change_stamp} desc, " if contract.change_stamp else ""
    not_deleted = f"and not coalesce(c.{contract.deleted_flag}, false)" if contract.deleted_flag else ""
    relevant = f"and ({contract.relevant_until.format(end=end)})" if contract.relevant_until else ""
    return f"""
        select distinct '{contract.name} ' || {key_text} || ': {column}=' || c.{column}
               || ' not found in {parent_name}' as offending_key
        from (
            select *, row_number() over (
                partition by {", ".join(key)} order by {stamp}_loaded_at desc, _source_file desc, _source_row desc
            ) as _version_rank
            from {contract.raw_table} as versions
            where exists (
                select 1 from {contract.raw_table} as c
                where {orphan} and {" and ".join(f"c.{col} = versions.{col}" for col in key)}
            )
        ) as c
        where c._version_rank = 1 and {orphan} {not_deleted} {relevant}
    """


def _payout_change_sql(ctx: GateContext) -> str:
    """Total payout per month in the reporting currency (month-end rate) against the month before."""
    acknowledged = ", ".join(f"date '{m.isoformat()}'" for m in sorted(ctx.acknowledged_change_months))
    # (never `not in (null)`: that is null for every row and would silently pass every month)
    not_acknowledged = f"and cur.payout_month not in ({acknowledged})" if acknowledged else ""
    bound = ctx.max_payout_change_ratio
    return f"""
        with totals as (
            -- decimal(38, 2): DuckDB multiplies two decimals of width <= 18 in 64 bits, which overflowed for a
            -- payout worth USD 100,000,000 or more (docs/compensation-engine.md, Amount range)
            select p.payout_month,
                   sum(cast(p.net_payout_amount as decimal(38, 2)) * coalesce(fx.rate_to_reporting, 1))
                       as total_reporting
            from marts.fct_monthly_payouts as p
            left join intermediate.int_fx_rates as fx
              on fx.currency_code = p.currency_code
             and fx.rate_date = cast(p.payout_month + interval 1 month - interval 1 day as date)
            group by p.payout_month
        ),
        compared as (
            select cur.payout_month, cur.total_reporting, prev.total_reporting as previous_total
            from totals as cur
            join totals as prev on prev.payout_month = cast(cur.payout_month - interval 1 month as date)
            where {_in_months("cur.payout_month", ctx)}
              {not_acknowledged}
        )
        select cast(payout_month as varchar) || ': total payout changed by '
               || cast(round(100 * (total_reporting - previous_total) / previous_total, 1) as varchar)
               || ' % against the month before' as offending_key,
               'total ' || cast(round(total_reporting, 2) as varchar) || ' {REPORTING_CURRENCY} vs '
               || cast(round(previous_total, 2) as varchar) || ' the month before' as offending_detail
        from compared
        where previous_total > 0 and abs(total_reporting - previous_total) / previous_total > {bound}
    """


def _hierarchy_cycle_sql(ctx: GateContext) -> str:
    """Managers who are their own manager through the HR chain on some day of the months being published.

    The roll-up walk (int_team_credits) is bounded, so a cycle cannot hang a run; but it would credit a
    manager with their own manager's deals, which no plan intends. The chain is checked on the first day of each
    month and on every day an HR row takes effect inside it (the only days the chain can change). Each cycle is
    reported once, from its smallest employee id, on the first day it exists.
    """
    months = ctx.month_list_sql
    return f"""
        with recursive check_days as (
            select distinct day from (
                select unnest([{months}]) as day
                union all
                select valid_from from intermediate.int_employee_history
                where cast(date_trunc('month', valid_from) as date) in ({months})
            )
        ),
        edges as (
            select check_days.day, h.employee_id, h.manager_employee_id
            from check_days
            join intermediate.int_employee_history as h
              on check_days.day between h.valid_from and coalesce(h.valid_to, date '9999-12-31')
            where h.manager_employee_id is not null
        ),
        walk as (
            select day, employee_id as start_id, manager_employee_id as current_id,
                   [employee_id, manager_employee_id] as chain
            from edges
            union all
            select walk.day, walk.start_id, edges.manager_employee_id,
                   list_append(walk.chain, edges.manager_employee_id)
            from walk
            join edges on edges.day = walk.day and edges.employee_id = walk.current_id
            -- stop at the start (a cycle) or at anyone already on the chain (a cycle not through the start)
            where walk.current_id <> walk.start_id
              and not list_contains(walk.chain[1:len(walk.chain) - 1], walk.current_id)
        )
        select 'manager chain ' || array_to_string(chain, ' -> ') || ' on ' || cast(min(day) as varchar)
        from walk
        where current_id = start_id and start_id = list_min(chain)
        group by chain
    """


def _hr_overlap_sql(ctx: GateContext) -> str:
    """HR rows of one employee whose stated effective ranges overlap, on days that can reach these payouts.

    The history model ends a row the day before the next one starts, so an overlap would silently resolve to
    "the later row wins" for role, manager, region, currency and target incentive. HR sent two answers for
    those days; which one is right is HR's call, not ours. Days from the start of the earliest published month's
    year count, because a segment's quota and draws are prorated over a period of up to a year.
    """
    first, last = min(ctx.months), max(ctx.months)
    return f"""
        with ranked as (
            select employee_id, effective_from, effective_to,
                   lead(effective_from) over (partition by employee_id order by effective_from) as next_from
            from staging.stg_hr__workers
        )
        select 'employee ' || employee_id || ': HR row effective ' || cast(effective_from as varchar) || ' to '
               || cast(effective_to as varchar) || ' overlaps the row effective ' || cast(next_from as varchar)
        from ranked
        where effective_to >= next_from
          and next_from <= date '{last.isoformat()}' + interval 1 month - interval 1 day
          and effective_to >= date '{first.replace(month=1).isoformat()}'
    """


_OWN_COMMISSION = "net_payout_amount - draw_amount - draw_recovery_amount - prior_period_adjustment_amount"


GATES: tuple[Gate, ...] = (
    Gate(
        "payout_preview_exists",
        "every month being published has a built payout preview (payee-months exist)",
        lambda ctx: (
            f"""
            select cast(months.payout_month as varchar) || ': no payout preview rows (is the month built, and does '
                   || 'the quota sheet cover it?)'
            from (select unnest([{ctx.month_list_sql}]) as payout_month) as months
            where not exists (
                select 1 from marts.fct_monthly_payouts as p where p.payout_month = months.payout_month
            )
        """
        ),
    ),
    Gate(
        "payout_keys_unique_and_not_null",
        "one payout row per employee per month, with employee, month and currency set, and a plan while employed",
        lambda ctx: (
            f"""
            select coalesce(employee_id, '<null employee>') || ':' || coalesce(cast(payout_month as varchar), '?')
            from marts.fct_monthly_payouts
            where {_in_months("payout_month", ctx)}
            group by employee_id, payout_month
            having count(*) > 1 or employee_id is null
                or bool_or(currency_code is null) or bool_or(plan_id is null and is_employed_with_plan)
        """
        ),
    ),
    Gate(
        "ledger_line_keys_unique_and_not_null",
        "ledger_line_id is unique and not null",
        lambda ctx: (
            f"""
            select coalesce(ledger_line_id, '<null line id>')
            from marts.fct_commission_ledger
            where {_in_months("payout_month", ctx)}
            group by ledger_line_id
            having count(*) > 1 or ledger_line_id is null
        """
        ),
    ),
    Gate(
        "credited_deals_map_to_active_employee",
        "every credited closed-won deal closing in, or first known in, the months being published maps to an "
        "employee active on the close date",
        lambda ctx: (
            f"""
            select 'opportunity ' || opportunity_id || ' credit ' || credit_line_id || ' user '
                   || coalesce(credited_user_id, '<null>') || ' closed ' || cast(close_date as varchar)
            from intermediate.int_opportunity_credits
            where is_current and employee_id is null
              and ({_in_months("credit_month", ctx)} or {_in_months("known_from_month", ctx)})
        """
        ),
    ),
    Gate(
        "won_credits_reach_the_ledger",
        "every credit of a closed-won deal closing in, or first known in, the months being published reaches the "
        "ledger or is explained by a plan rule (int_credit_outcomes); none vanishes unseen",
        lambda ctx: (
            f"""
            select 'credit ' || payee_credit_id || ' of employee ' || employee_id || ' (opportunity '
                   || opportunity_id || ', closed ' || cast(close_date as varchar) || '): '
                   || case outcome
                          when 'close_date_outside_pay_calendar'
                              then 'the close date lies outside the pay calendar (the months the quota sheet covers)'
                          else 'reached no ledger line and no plan rule explains it'
                      end
            from intermediate.int_credit_outcomes
            where is_blocking and outcome <> 'no_active_employee'
              and credit_month <= date '{max(ctx.months).isoformat()}'
              and ({_in_months("credit_month", ctx)} or {_in_months("known_from_month", ctx)})
        """
        ),
    ),
    Gate(
        "source_references_resolve",
        "every reference between sources (a split's opportunity, a deal's owner and account, a worker's manager, "
        "an invoice's subscription, ...) names a record that was delivered",
        _references_sql,
    ),
    Gate(
        "manager_hierarchy_has_no_cycles",
        "no employee is their own manager, directly or up the HR chain, on any day of the months being published",
        _hierarchy_cycle_sql,
    ),
    Gate(
        "hr_effective_ranges_do_not_overlap",
        "no employee has two HR rows whose effective ranges overlap on a day that can reach the months' payouts",
        _hr_overlap_sql,
    ),
    Gate(
        "revenue_splits_sum_to_100",
        "the revenue splits of every closed-won opportunity sum to exactly 100 %",
        lambda ctx: (
            f"""
            select 'opportunity ' || s.opportunity_id || ' revenue splits sum to '
                   || cast(sum(s.split_percent) as varchar) || ' %'
            from staging.stg_crm__opportunity_splits as s
            join staging.stg_crm__opportunities as o on o.opportunity_id = s.opportunity_id
            where s.split_type = 'revenue' and not s.is_deleted and o.is_won and o.is_closed
              and {_in_months("cast(date_trunc('month', o.close_date) as date)", ctx)}
            group by s.opportunity_id
            having sum(s.split_percent) <> 100
        """
        ),
    ),
    Gate(
        "plan_participants_have_quota",
        "every payee on a plan has a quota for the plan period (month, quarter or year) covering the month",
        lambda ctx: (
            f"""
            select employee_id || ':' || cast(payout_month as varchar) || ' (' || plan_id || ', '
                   || coalesce(quota_period, '?') || ' quota missing)'
            from marts.fct_monthly_payouts
            where {_in_months("payout_month", ctx)} and is_employed_with_plan and quota_amount is null
        """
        ),
    ),
    Gate(
        "plan_version_in_force",
        "every payee's assigned plan has a version in force on the payee-month's as-of date",
        lambda ctx: (
            f"""
            select employee_id || ':' || cast(payout_month as varchar) || ' (' || coalesce(plan_id, '?') || ')'
            from marts.fct_monthly_payouts
            where {_in_months("payout_month", ctx)} and is_employed_with_plan and plan_version is null
        """
        ),
    ),
    Gate(
        "fx_rate_exists",
        "an FX rate exists for every currency and date a credit or quota is converted at",
        lambda ctx: (
            f"""
            select distinct 'credit ' || payee_credit_id || ' ' || deal_currency || '->' || pay_currency || ' on '
                   || cast(fx_rate_date as varchar)
            from intermediate.int_commission_evaluation_credits
            where {_in_months("evaluation_month", ctx)} and fx_rate is null
            union all
            select 'quota ' || employee_id || ':' || cast(period_start as varchar) || ' ' || sheet_currency
                   || '->' || pay_currency
            from intermediate.int_plan_segments
            where sheet_quota_amount is not null and quota_fx_rate is null
              and exists (
                  select 1 from (select unnest([{ctx.month_list_sql}]) as payout_month) as months
                  where months.payout_month between segment_start_month and segment_end_month
              )
        """
        ),
    ),
    Gate(
        "ledger_lines_sum_to_payouts",
        "for every payee-month, ledger lines sum exactly (to the cent) to net_payout_amount and balance to zero",
        lambda ctx: (
            f"""
            with line_totals as (
                select employee_id, payout_month,
                       sum(case when entry_type <> 'payout' then amount else 0 end) as line_total,
                       sum(amount) as balance
                from marts.fct_commission_ledger
                where {_in_months("payout_month", ctx)}
                group by employee_id, payout_month
            )
            select coalesce(p.employee_id, l.employee_id) || ':'
                   || cast(coalesce(p.payout_month, l.payout_month) as varchar)
                   || case when p.employee_id is null then ' has ledger lines but no payout row'
                           else ' payout does not equal its ledger lines' end as offending_key,
                   'payout ' || coalesce(cast(p.net_payout_amount as varchar), '<missing>') || ' vs lines '
                   || coalesce(cast(l.line_total as varchar), '0') || ', balance '
                   || coalesce(cast(l.balance as varchar), '0') as offending_detail
            from (select * from marts.fct_monthly_payouts where {_in_months("payout_month", ctx)}) as p
            full outer join line_totals as l
              on p.employee_id = l.employee_id and p.payout_month = l.payout_month
            where p.employee_id is null
               or coalesce(l.line_total, 0) <> p.net_payout_amount
               or coalesce(l.balance, 0) <> 0
        """
        ),
    ),
    Gate(
        "one_currency_per_payee_month",
        "every ledger line of a payee-month is in the payout's currency (lines in two currencies cannot be summed)",
        lambda ctx: (
            f"""
            select l.employee_id || ':' || cast(l.payout_month as varchar) || ' line ' || l.ledger_line_id
                   || ' in ' || l.currency_code || ', payout in ' || p.currency_code
            from marts.fct_commission_ledger as l
            join marts.fct_monthly_payouts as p
              on p.employee_id = l.employee_id and p.payout_month = l.payout_month
            where {_in_months("l.payout_month", ctx)} and l.currency_code <> p.currency_code
        """
        ),
    ),
    Gate(
        "payouts_within_plan_caps",
        "no month's own commission (net payout before draws and prior-period adjustments, which belong to "
        "months capped when they were computed) exceeds the plan's payout cap",
        lambda ctx: (
            f"""
            select employee_id || ':' || cast(payout_month as varchar) || ' commission above the plan cap'
                       as offending_key,
                   'commission ' || cast({_OWN_COMMISSION} as varchar) || ' > cap ' || cast(cap_amount as varchar)
                       as offending_detail
            from marts.fct_monthly_payouts
            where {_in_months("payout_month", ctx)} and cap_amount is not null
              and {_OWN_COMMISSION} > cap_amount
        """
        ),
    ),
    Gate(
        "payout_change_within_bound",
        "total payout changes by at most the configured ratio against the previous month, or is acknowledged",
        _payout_change_sql,
    ),
    Gate(
        "no_unresolved_quarantined_source_rows",
        "no payout-relevant source row is sitting in quarantine without a later valid version",
        _quarantine_sql,
    ),
)


def evaluate_gates(
    conn: duckdb.DuckDBPyConnection, ctx: GateContext, gates: Sequence[Gate] = GATES
) -> list[CheckResult]:
    """Run every gate and return one result per gate (all of them, so a report lists every failure)."""
    results = []
    for gate in gates:
        sql = gate.offenders_sql(ctx)
        count_and_sample = conn.execute(
            f"""
            with offenders as ({sql})
            select count(*) over () as failing_count, offenders.* from offenders
            order by 2 limit {SAMPLE_SIZE}
            """
        ).fetchall()
        failing = int(count_and_sample[0][0]) if count_and_sample else 0
        results.append(
            CheckResult(
                check_name=gate.name,
                rule=gate.rule,
                passed=failing == 0,
                failing_count=failing,
                sample_keys=tuple(str(row[1]) for row in count_and_sample),
                sample_details=tuple(str(row[2]) for row in count_and_sample if len(row) > 2),
            )
        )
    return results
