"""Fault classes that load but must not be paid: the real `publish_month_job` for March must refuse them.

Each case lands its input on a copy of the published baseline (January and February closed) and runs the whole
pipeline for March in-process (ingestion -> dbt -> gates -> publication), as `spm publish 2025-03` would. A
blocked case must fail with its gate's asset check failed and the gate's exact line in the failure, and leave
the published and audit tables and the serving file byte-identical. An accepted case (late data or a restated
FX rate for a closed month) must publish March, change no row already published, and explain itself in the
ledger line it pins. About 40-60 s per case: slow.
"""

from __future__ import annotations

import pytest

from .cases import CASES, FaultCase
from .installation import JAN, MAR
from .observe import failed_checks, failure_text, gate_line, march_explanation

pytestmark = pytest.mark.slow

PUBLISH_CASES = [case for case in CASES if case.stage == "publish"]


@pytest.mark.parametrize("case", PUBLISH_CASES, ids=lambda case: case.name)
def test_faulty_month_is_refused_by_a_named_gate_or_adjusted_and_nothing_published_changes(
    case: FaultCase, installation
):
    before = installation.published()
    case.inject(installation)

    result = installation.publish(MAR, MAR)

    expected = case.expected
    if expected.kind == "blocked":
        assert not result.success, f"{case.name}: March was published despite the fault"
        assert expected.rule in failed_checks(result), f"{case.name}: {failed_checks(result)}"
        observed = gate_line(result, expected.rule)
        assert observed == expected.message, f"{case.name}: observed message {observed!r}"
        after = installation.published()
        assert after.changes_since(before) == [], f"{case.name}: a blocked run changed published or audit data"
        attempt = installation.query(
            "select passed from audit.check_results where run_id = ? and check_name = ?", [result.run_id, expected.rule]
        )
        assert attempt == [(False,)], f"{case.name}: the blocked attempt is not in the audit trail"
        return

    # accepted: a change to a closed month is paid in the open month, never inside the closed one
    assert expected.kind == "accepted"
    assert result.success, failure_text(result)
    after = installation.published()
    assert after.rows_changed_since(before) == 0, f"{case.name}: rows of closed months changed"
    observed = march_explanation(installation, expected.subject)
    assert observed == expected.message, f"{case.name}: observed message {observed!r}"
    lines = installation.query(
        """select employee_id, payout_month, entry_type, change_reason, adjusted_month, period_start, amount
           from published.commission_ledger where opportunity_id = ? and entry_type <> 'payout' order by all""",
        [expected.subject],
    )
    if expected.rule == "booked_late":
        payees = {employee for employee, *_ in lines}
        assert {"E000005", "E000002", "E000001"} <= payees, f"the rep and both managers above are paid: {lines}"
        for _, month, entry_type, reason, _, period_start, amount in lines:
            assert (month, entry_type, reason, period_start) == (MAR, "adjustment", "booked_late", JAN), lines
            assert amount > 0, lines
    if expected.rule == "fx_rate_changed":
        restated = [line for line in lines if line[1] == MAR]
        booked = [(employee, kind, reason, adjusted) for employee, _, kind, reason, adjusted, *_ in restated]
        assert booked == [
            ("E000001", "prior_period_adjustment", "fx_rate_changed", JAN),
            ("E000002", "prior_period_adjustment", "fx_rate_changed", JAN),
        ], lines
        assert all(amount < 0 for *_, amount in restated), "a lower AUD rate pays less for the same credit"
