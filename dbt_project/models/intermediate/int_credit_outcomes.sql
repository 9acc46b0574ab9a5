-- What became of every current credit (issue 15): a credit a closed-won deal gives must end in the ledger, or
-- carry the plan rule that explains why it pays nothing, or be named by a blocking check. Nothing vanishes
-- between int_opportunity_credits and the ledger unseen.
--   in_ledger                 the engine booked at least one ledger line for it (any month, any entry type)
--   no_active_employee        the credited CRM user is no employee active on the close date (blocking)
--   close_date_outside_pay_calendar
--                             the close date lies outside the pay calendar (the months the quota sheet covers):
--                             a mistyped year, say (blocking once the platform runs: a credit first known
--                             after the calendar's first month)
--   no_plan_on_close_date     the payee is on no plan on the close date (a rep or manager the plans do not
--                             cover, or not yet): pays nothing by the plan assignments
--   credit_type_not_counted   the payee's plan does not count this credit type (e.g. overlay on an AE plan)
--   awaiting_invoice_payment  the plan pays or counts on invoice paid and nothing is paid yet
--   clawed_back               clawed back in full before anything was paid
--   above_attainment_cap      the whole credit lies above the plan's attainment cap, which counts nothing more
--   zero_credit               the credit is 0.00
--   unexplained               none of the above: an engine defect or a case no rule covers (blocking)
-- The gate `won_credits_reach_the_ledger` blocks publication on the blocking outcomes of credits closing in, or
-- becoming known in, the months being published.
-- Grain: one row per payee_credit_id (current credits only; a personal credit without an employee appears once
-- under its credit_line_id).
with current_credits as (
    select
        payee_credit_id,
        payee_credit_version_id,
        credit_line_id,
        opportunity_id,
        employee_id,
        credit_type,
        rollup_level,
        close_date,
        credit_month,
        known_from_month,
        credit_amount_deal_currency
    from {{ ref('int_payee_credits') }}
    where known_to_month is null
),

credits_without_employee as (
    select
        credit_line_id as payee_credit_id,
        credit_line_id,
        opportunity_id,
        credited_user_id,
        credit_type,
        close_date,
        credit_month,
        known_from_month
    from {{ ref('int_opportunity_credits') }}
    where is_current and employee_id is null
),

pay_calendar as (
    select min(month_start) as first_month, max(month_start) as last_month
    from {{ ref('int_calendar_months') }}
),

segments_on_close_date as (
    select
        current_credits.payee_credit_version_id,
        min(segments.plan_id) as plan_id,
        min(segments.plan_version) as plan_version,
        max(case when plan_credit_types.credit_type is not null then 1 else 0 end) = 1 as counts_credit_type
    from current_credits
    inner join {{ ref('int_plan_segments') }} as segments
        on current_credits.employee_id = segments.employee_id
        and current_credits.close_date between segments.segment_start and segments.segment_end
    left join {{ ref('stg_plans__plan_credit_types') }} as plan_credit_types
        on segments.plan_id = plan_credit_types.plan_id
        and segments.plan_version = plan_credit_types.plan_version
        and current_credits.credit_type = plan_credit_types.credit_type
    group by current_credits.payee_credit_version_id
),

credits_in_ledger as (
    select distinct payee_credit_id
    from {{ ref('int_ledger_lines') }}
    where payee_credit_id is not null
),

unbooked_credit_ids as (
    -- the few credits without a ledger line: only these need the evaluation detail below, which keeps the
    -- model's cost to one pass over the ledger and the current credits at scale
    select current_credits.payee_credit_id
    from current_credits
    left join credits_in_ledger
        on current_credits.payee_credit_id = credits_in_ledger.payee_credit_id
    where credits_in_ledger.payee_credit_id is null
),

latest_evaluations as (
    select
        evaluations.payee_credit_id,
        evaluations.pay_basis,
        evaluations.attainment_basis,
        evaluations.clawback_fraction,
        evaluations.release_fraction,
        evaluations.counted_credit_amount,
        evaluations.payable_credit_amount,
        evaluations.cumulative_credit_before,
        plan_versions.attainment_cap * segments.quota_amount as attainment_cap_amount
    from (
        select
            credits.*,
            row_number() over (partition by credits.payee_credit_id order by credits.evaluation_month desc)
                as recency
        from {{ ref('int_commission_evaluation_credits') }} as credits
        where credits.payee_credit_id in (select unbooked_credit_ids.payee_credit_id from unbooked_credit_ids)
    ) as evaluations
    inner join {{ ref('int_plan_segments') }} as segments
        on evaluations.segment_id = segments.segment_id
    inner join {{ ref('stg_plans__plan_versions') }} as plan_versions
        on evaluations.plan_id = plan_versions.plan_id
        and evaluations.plan_version = plan_versions.plan_version
    where evaluations.recency = 1
),

payee_credit_outcomes as (
    select
        current_credits.payee_credit_id,
        current_credits.credit_line_id,
        current_credits.opportunity_id,
        current_credits.employee_id,
        cast(null as {{ dbt.type_string() }}) as credited_user_id,
        current_credits.credit_type,
        current_credits.rollup_level,
        current_credits.close_date,
        current_credits.credit_month,
        current_credits.known_from_month,
        segments_on_close_date.plan_id,
        segments_on_close_date.plan_version,
        case
            when credits_in_ledger.payee_credit_id is not null then 'in_ledger'
            when current_credits.credit_month not between pay_calendar.first_month and pay_calendar.last_month
                then 'close_date_outside_pay_calendar'
            when segments_on_close_date.payee_credit_version_id is null then 'no_plan_on_close_date'
            when not segments_on_close_date.counts_credit_type then 'credit_type_not_counted'
            when current_credits.credit_amount_deal_currency = 0 then 'zero_credit'
            when latest_evaluations.payee_credit_id is null then 'unexplained'
            when latest_evaluations.clawback_fraction = 1 then 'clawed_back'
            when latest_evaluations.payable_credit_amount = 0
                and 'invoice_paid' in (latest_evaluations.pay_basis, latest_evaluations.attainment_basis)
                then 'awaiting_invoice_payment'
            when latest_evaluations.attainment_cap_amount is not null
                and latest_evaluations.cumulative_credit_before >= latest_evaluations.attainment_cap_amount
                then 'above_attainment_cap'
            else 'unexplained'
        end as outcome
    from current_credits
    cross join pay_calendar
    left join credits_in_ledger
        on current_credits.payee_credit_id = credits_in_ledger.payee_credit_id
    left join segments_on_close_date
        on current_credits.payee_credit_version_id = segments_on_close_date.payee_credit_version_id
    left join latest_evaluations
        on current_credits.payee_credit_id = latest_evaluations.payee_credit_id
),

unmatched_credit_outcomes as (
    select
        payee_credit_id,
        credit_line_id,
        opportunity_id,
        cast(null as {{ dbt.type_string() }}) as employee_id,
        credited_user_id,
        credit_type,
        0 as rollup_level,
        close_date,
        credit_month,
        known_from_month,
        cast(null as {{ dbt.type_string() }}) as plan_id,
        cast(null as integer) as plan_version,
        'no_active_employee' as outcome
    from credits_without_employee
),

outcomes as (
    select * from payee_credit_outcomes
    union all
    select * from unmatched_credit_outcomes
)

select
    outcomes.payee_credit_id,
    outcomes.credit_line_id,
    outcomes.opportunity_id,
    outcomes.employee_id,
    outcomes.credited_user_id,
    outcomes.credit_type,
    outcomes.rollup_level,
    outcomes.close_date,
    outcomes.credit_month,
    outcomes.known_from_month,
    outcomes.plan_id,
    outcomes.plan_version,
    outcomes.outcome,
    outcomes.outcome in ('no_active_employee', 'unexplained')
        or (
            outcomes.outcome = 'close_date_outside_pay_calendar'
            and outcomes.known_from_month > pay_calendar.first_month
        ) as is_blocking
from outcomes
cross join pay_calendar
