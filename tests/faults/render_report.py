"""Regenerate the fault-class table in docs/reliability.md from `cases.CASES`:
`python -m tests.faults.render_report` (from the repo root; a test fails when the table is stale).

The table is the report of record: every row is a case the fault suite runs and asserts, so a class cannot be
listed without being tested, or tested without being listed.
"""

from __future__ import annotations

from pathlib import Path

from .cases import CASES, FaultCase

REPORT = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
START, END = "<!-- fault-table:start -->", "<!-- fault-table:end -->"

STAGES = {
    "load": "loader (`load_all`)",
    "plans": "plan loader (`load_plans`)",
    "publish": "`publish_month_job` for March",
}
KINDS = {
    "raises": "refused (file or plan)",
    "quarantined": "row quarantined",
    "blocked": "publication blocked",
    "accepted": "accepted",
}


def _row(number: int, case: FaultCase) -> str:
    rule = case.expected.rule
    cells = [str(number), f"`{case.name}`", case.fault, case.outcome, KINDS[case.expected.kind], f"`{rule}`"]
    cells.append(STAGES[case.stage])
    cells.append(_code(case.expected.message))
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def _code(text: str) -> str:
    """The message as inline code, on one line (a YAML parser error spans several), backticks kept readable."""
    one_line = " ".join(text.split())
    return f"``{one_line}``" if "`" in one_line else f"`{one_line}`"


def render_table() -> str:
    by_kind = {kind: sum(1 for case in CASES if case.expected.kind == kind) for kind in KINDS}
    lines = [
        START,
        f"**{len(CASES)} fault classes tried; published rows changed: 0** (every case asserts it). Outcomes: "
        + ", ".join(f"{count} {KINDS[kind]}" for kind, count in by_kind.items())
        + ".",
        "",
        "| # | class | what arrives | what the platform does | outcome | rule / gate | caught by | what the user sees "
        "(exact, pinned by the test) |",
        "|---:|---|---|---|---|---|---|---|",
        *(_row(number, case) for number, case in enumerate(CASES, start=1)),
        END,
    ]
    return "\n".join(lines)


def rendered_report(current: str) -> str:
    head, _, rest = current.partition(START)
    _, _, tail = rest.partition(END)
    return head + render_table() + tail


def main() -> None:
    REPORT.write_text(rendered_report(REPORT.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {REPORT}")


if __name__ == "__main__":
    main()
