-- Customer ARR at each month end and its movement against the previous month. This is the single churn
-- definition of the platform (clawbacks will reuse it): a customer churns in the month its ARR drops from
-- above zero to zero.
--   ARR of a subscription = recurring amount x 12 (monthly billing) or x 1 (annual), from the subscription
--   version in force on the month end, when it is active (status active/past_due, started, not yet ended);
--   converted to the reporting currency at the month-end rate.
-- Movement: new (first ARR), reactivation (ARR again after churn), expansion, contraction, churn, flat.
-- Grain: one row per customer per month from its first ARR month on, while ARR or previous ARR is non-zero.
with months as (
    select month_start, month_end
    from {{ ref('int_calendar_months') }}
),

version_ranges as (
    {{ version_ranges(ref('stg_billing__subscription_versions'), 'subscription_id', 'start_date') }}
),

subscription_month_arr as (
    select
        version_ranges.customer_id,
        months.month_start,
        -- exact_product: DuckDB's 18-digit product overflowed from an ARR of 100,000,000.00 x a rate of 1 on
        {{ exact_product(
            "case when version_ranges.billing_interval = 'month' then version_ranges.recurring_amount * 12"
            ~ " else version_ranges.recurring_amount end",
            'fx.rate_to_reporting'
        ) }} as arr_reporting
    from version_ranges
    inner join months
        on months.month_end >= version_ranges.valid_from
        and (version_ranges.next_valid_from is null or months.month_end < version_ranges.next_valid_from)
    left join {{ ref('int_fx_rates') }} as fx
        on version_ranges.currency_code = fx.currency_code
        and months.month_end = fx.rate_date
    where version_ranges.status in ('active', 'past_due')
        and version_ranges.start_date <= months.month_end
        and (version_ranges.end_date is null or version_ranges.end_date > months.month_end)
),

customer_arr as (
    select
        customer_id,
        month_start,
        {{ fit_decimal(
            'round(sum(arr_reporting), 2)',
            'the ARR in reporting currency',
            dbt.concat(["'customer '", "customer_id", "' in '", to_text('month_start')])
        ) }} as arr
    from subscription_month_arr
    group by customer_id, month_start
),

customer_first_month as (
    select customer_id, min(month_start) as first_arr_month
    from customer_arr
    group by customer_id
),

customer_months as (
    select
        customer_first_month.customer_id,
        months.month_start,
        cast(coalesce(customer_arr.arr, 0) as decimal(18, 2)) as arr
    from customer_first_month
    inner join months
        on months.month_start >= customer_first_month.first_arr_month
    left join customer_arr
        on customer_first_month.customer_id = customer_arr.customer_id
        and months.month_start = customer_arr.month_start
),

with_previous as (
    select
        customer_months.*,
        coalesce(lag(arr) over (partition by customer_id order by month_start), 0) as previous_arr,
        row_number() over (partition by customer_id order by month_start) as month_number
    from customer_months
)

select
    {{ dbt.concat(["customer_id", "':'", to_text('month_start')]) }} as customer_month_id,
    customer_id,
    month_start as arr_month,
    arr,
    cast(previous_arr as decimal(18, 2)) as previous_arr,
    cast(arr - previous_arr as decimal(18, 2)) as arr_change,
    case
        when previous_arr = 0 and arr > 0 and month_number = 1 then 'new'
        when previous_arr = 0 and arr > 0 then 'reactivation'
        when previous_arr > 0 and arr = 0 then 'churn'
        when arr > previous_arr then 'expansion'
        when arr < previous_arr then 'contraction'
        else 'flat'
    end as movement_type
from with_previous
where arr > 0 or previous_arr > 0
