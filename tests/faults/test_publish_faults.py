"""Fault classes that load but must not be paid: the real `publish_month_job` for March must refuse them.

Each case lands its input on a copy of the published baseline (January and February closed) and runs the whole
pipeline for March in-process (ingestion -> dbt -> gates -> publication), as `spm publish 2025-03` would. A
blocked case must fail naming its gate and the offending key, with the gate's asset check failed, and leave
the published and audit tables and the serving file byte-identical. The accepted case (late data for a closed
month) must publish March and change no row already published. About 40-60 s per case: slow.
"""

from __future__ import annotations

import pytest

from .cases import CASES, FaultCase
from .installation import JAN, MAR

pytestmark = pytest.mark.slow

PUBLISH_CASES = [case for case in CASES if case.stage == "publish"]


def _failure_text(result) -> str:
    return "\n".join(
        str(event.event_specific_data.error) for event in result.all_events if event.event_type_value == "STEP_FAILURE"
    )


def _failed_checks(result) -> set[str]:
    return {
        event.event_specific_data.check_name
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed
    }


@pytest.mark.parametrize("case", PUBLISH_CASES, ids=lambda case: case.name)
def test_faulty_month_is_refused_by_a_named_gate_or_adjusted_and_nothing_published_changes(
    case: FaultCase, installation
):
    before = installation.published()
    case.inject(installation)

    result = installation.publish(MAR, MAR)

    expected = case.expected
    if expected.kind == "blocked":
        failure = _failure_text(result)
        assert not result.success, f"{case.name}: March was published despite the fault"
        assert expected.rule in _failed_checks(result), f"{case.name}: {_failed_checks(result)}"
        assert f"{expected.rule}: FAILED" in failure, failure
        gate_line = next(line for line in failure.splitlines() if f"{expected.rule}: FAILED" in line)
        for fragment in expected.fragments:
            assert fragment in gate_line, f"{case.name}: {fragment!r} not in {gate_line}"
        after = installation.published()
        assert after.changes_since(before) == [], f"{case.name}: a blocked run changed published or audit data"
        attempt = installation.query(
            "select passed from audit.check_results where run_id = ? and check_name = ?", [result.run_id, expected.rule]
        )
        assert attempt == [(False,)], f"{case.name}: the blocked attempt is not in the audit trail"
        return

    # late data for a closed month: the deal is counted when it becomes known, in the open month
    assert expected.kind == "accepted" and expected.rule == "booked_late"
    assert result.success, _failure_text(result)
    after = installation.published()
    assert after.rows_changed_since(before) == 0, f"{case.name}: rows of closed months changed"
    (opportunity,) = expected.fragments
    booked = installation.query(
        """select employee_id, entry_type, change_reason, period_start, sum(amount)
           from published.commission_ledger where opportunity_id = ? group by all order by all""",
        [opportunity],
    )
    payees = {employee for employee, *_ in booked}
    assert {"E000005", "E000002", "E000001"} <= payees, f"the rep and both managers above are paid: {booked}"
    for _, entry_type, reason, period_start, amount in booked:
        assert (entry_type, reason, period_start) == ("adjustment", "booked_late", JAN), booked
        assert amount > 0, booked
    months = installation.query(
        "select distinct payout_month from published.commission_ledger where opportunity_id = ?", [opportunity]
    )
    assert months == [(MAR,)], "the late deal is paid in the open month, never inside a closed one"
