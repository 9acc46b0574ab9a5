"""The reliability report lists exactly the fault classes the suite runs (fast: no pipeline)."""

from __future__ import annotations

from .cases import CASES
from .render_report import END, REPORT, START, rendered_report


def test_reliability_report_lists_every_fault_class_the_suite_runs():
    current = REPORT.read_text(encoding="utf-8")
    assert START in current and END in current, "docs/reliability.md lost its fault-table markers"
    assert rendered_report(current) == current, (
        "docs/reliability.md is stale: run `python -m tests.faults.render_report`"
    )


def test_fault_suite_runs_every_class_with_each_outcome_kind_and_a_pinned_message():
    assert len(CASES) >= 50, "issue 15's target: at least 50 fault classes"
    assert {case.expected.kind for case in CASES} == {"raises", "quarantined", "blocked", "accepted"}
    unpinned = [case.name for case in CASES if not case.expected.message.strip() or case.expected.message == "?"]
    assert unpinned == [], "every case pins the exact message a person sees"
