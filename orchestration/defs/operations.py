"""Running the platform unattended: an alert when a run fails, and the monthly close on a business day.

* `run_failure_alert_sensor`: every failed run of this code location (a blocked publication, a busy warehouse,
  a broken source file) is logged at ERROR and, if `SPM_ALERT_WEBHOOK_URL` is set, posted to that webhook with
  the run id, job, months and failed steps.
* `month_close_schedule`: every morning it checks whether today is the `SPM_CLOSE_BUSINESS_DAY`-th business day
  of the month (default the 3rd; Mon-Fri minus `SPM_CLOSE_HOLIDAYS`) and if so runs `publish_month_job` for the
  previous month. If a gate blocks the publication the run fails, and the sensor above says so.

Both read their settings with `Settings.from_env()` when they are evaluated, not from the `Settings` given to
`build_definitions`: they run in the daemon and are not tied to one data folder, and this way the webhook URL (a
secret) never becomes resource config that the UI would display.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from orchestration.defs.jobs import publish_month_job
from orchestration.lib.alerts import send_alert
from orchestration.lib.run_failures import MAX_MESSAGE_CHARS, StepFailure, describe, root_message, step_failures
from orchestration.lib.run_lock import partition_range_from_tags
from orchestration.runs import month_key
from orchestration.settings import Settings

CLOSE_TAG = "spm/close"


def failure_details(context: dg.RunFailureSensorContext) -> dict[str, object]:
    """What an operator needs to find the run: id, job, months, and why it failed as far as cheaply known."""
    run = context.dagster_run
    partition_range = partition_range_from_tags(run.tags)
    details: dict[str, object] = {
        "run_id": run.run_id,
        "job_name": run.job_name,
        "partition_start": partition_range[0] if partition_range else None,
        "partition_end": partition_range[1] if partition_range else None,
        "failure_message": context.failure_event.message,
    }
    try:
        failed = step_failures(context.get_step_failure_events())
    except Exception as exc:  # an event-log hiccup must not stop the alert itself
        failed = []
        details["step_failures_unavailable"] = str(exc)[:MAX_MESSAGE_CHARS]
    details["failed_steps"] = [failure.step for failure in failed]
    details["step_errors"] = {failure.step: failure.message for failure in failed}
    run_error = getattr(context.failure_event.event_specific_data, "error", None)
    if not failed and run_error is not None:
        # a failure outside any step, e.g. a resource that could not start (the warehouse lock was held)
        details["run_error"] = root_message(run_error)
    return details


@dg.run_failure_sensor(
    name="run_failure_alert_sensor",
    # On by default: an alerting sensor someone forgot to switch on fails silently, and it only logs and posts.
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Logs every failed run of this code location and posts it to SPM_ALERT_WEBHOOK_URL if set.",
)
def run_failure_alert_sensor(context: dg.RunFailureSensorContext) -> None:
    details = failure_details(context)
    start, end = details["partition_start"], details["partition_end"]
    months = "" if start is None else f" for {start}" if start == end else f" for {start} to {end}"
    failures = describe(StepFailure(step, message) for step, message in details["step_errors"].items())
    send_alert(
        f"SPM run failed: {details['job_name']}{months} (run {details['run_id']})"
        + (f"\n{failures}" if failures else f"\n{details.get('run_error', details['failure_message'])}"),
        details,
        webhook_url=Settings.from_env().alert_webhook_url,
    )


def is_business_day(day: date, holidays: frozenset[date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def month_to_close(day: date, close_business_day: int, holidays: frozenset[date]) -> date | None:
    """The month closed on `day` (its first day), or None if `day` is not a close day.

    `day` is a close day if it is the `close_business_day`-th business day of its month, counting from the 1st
    (the 1st business day is the first Mon-Fri non-holiday on or after the 1st); the month it closes is the
    previous one. Pure, so the calendar arithmetic is tested without a scheduler.
    """
    if close_business_day < 1:
        raise ValueError(f"close_business_day must be 1 or more, got {close_business_day}")
    if not is_business_day(day, holidays):
        return None
    first = day.replace(day=1)
    business_days_up_to_day = sum(
        is_business_day(first + timedelta(days=offset), holidays) for offset in range(day.day)
    )
    if business_days_up_to_day != close_business_day:
        return None
    return (first - timedelta(days=1)).replace(day=1)


def next_close_day(after: date, close_business_day: int, holidays: frozenset[date]) -> date | None:
    """The first close day strictly after `after`, or None if there is none within a year (close day beyond the
    business days of every month)."""
    for offset in range(1, 367):
        candidate = after + timedelta(days=offset)
        if month_to_close(candidate, close_business_day, holidays) is not None:
            return candidate
    return None


@dg.schedule(
    job=publish_month_job,
    cron_schedule="0 6 * * *",
    execution_timezone="UTC",
    name="month_close_schedule",
    description=(
        "Daily at 06:00 UTC; on the close business day (SPM_CLOSE_BUSINESS_DAY, Mon-Fri minus SPM_CLOSE_HOLIDAYS) "
        "publishes the previous month."
    ),
)
def month_close_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    """Daily rather than a cron of the close day: "3rd business day" with holidays is not expressible in cron.

    The run key `close-YYYY-MM` makes a month's close run once even if the tick is evaluated again. A tick
    missed while the daemon was down is not caught up by a later day; publish that month by hand (`spm publish`).
    """
    settings = Settings.from_env()
    today = (context.scheduled_execution_time or datetime.now(UTC)).date()
    month = month_to_close(today, settings.close_business_day, settings.close_holidays)
    if month is None:
        upcoming = next_close_day(today, settings.close_business_day, settings.close_holidays)
        when = (
            f"the next close is due on {upcoming.isoformat()} (for {upcoming.replace(day=1) - timedelta(days=1):%Y-%m})"
            if upcoming
            else "no close day within a year"
        )
        return dg.SkipReason(
            f"{today.isoformat()} is not business day {settings.close_business_day} of its month; {when}."
        )
    if month < settings.first_month:
        return dg.SkipReason(f"{month:%Y-%m} is before the platform's first month {settings.first_month:%Y-%m}.")
    return dg.RunRequest(
        run_key=f"close-{month:%Y-%m}",
        partition_key=month_key(month),
        tags={CLOSE_TAG: f"{month:%Y-%m}"},
    )
