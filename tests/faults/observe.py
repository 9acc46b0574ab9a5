"""What a person sees when a fault case runs: the message the suite pins for each case, exactly.

* refused (`raises`): the error's text, as the CLI, the alert and the Dagster step failure print it;
* quarantined: the row in raw._quarantine as the publication gate `no_unresolved_quarantined_source_rows` lists
  it (entity, record key, rule, why, file and row);
* blocked: the gate's line in the blocked run's failure message;
* accepted at load: the loader's log line that says what it did with the input;
* accepted at publication: the explanation sentence of the first ledger line (by employee) booked in March for
  the case's opportunity.
"""

from __future__ import annotations

import logging

from orchestration.publication.gates import QUARANTINED_ROW_SQL

from .installation import MAR, Installation

LOADER_LOGGER = "ingestion.loader"


def quarantine_messages(installation: Installation, entity: str, rule: str) -> list[str]:
    return [
        message
        for (message,) in installation.query(
            f"select {QUARANTINED_ROW_SQL} from raw._quarantine as q where q.entity = ? and q.rule = ?"
            " order by q.source_file, q.source_row",
            [entity, rule],
        )
    ]


def loader_log_lines(records: list[logging.LogRecord]) -> list[str]:
    return [record.getMessage() for record in records if record.name == LOADER_LOGGER]


def failure_text(result) -> str:
    return "\n".join(
        str(event.event_specific_data.error) for event in result.all_events if event.event_type_value == "STEP_FAILURE"
    )


def gate_line(result, gate: str) -> str | None:
    """The blocked run's line for `gate` (`  - <gate>: FAILED (...) - rule: ...; sample keys: ...`), without its
    bullet."""
    bullet = f"- {gate}: FAILED"
    return next(
        (line.strip()[2:] for line in failure_text(result).splitlines() if line.strip().startswith(bullet)),
        None,
    )


def failed_checks(result) -> set[str]:
    return {
        event.event_specific_data.check_name
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION" and not event.event_specific_data.passed
    }


def march_explanation(installation: Installation, opportunity_id: str) -> str | None:
    rows = installation.query(
        """select explanation from published.commission_ledger
           where opportunity_id = ? and payout_month = ? and entry_type <> 'payout'
           order by employee_id, ledger_line_id limit 1""",
        [opportunity_id, MAR],
    )
    return rows[0][0] if rows else None
