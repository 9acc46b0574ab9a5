"""What a real pipeline run writes at INFO and above carries no pay amounts and no names or e-mail addresses.

Logs and the Dagster event log are read by more people than pay data is (operators, on-call engineers, a chat
channel the alert webhook posts to), so they get counts, file names, ids and keys only; the amounts a blocked
publication is about go to audit.check_results in the warehouse (docs/pay-data-protection.md).

The run: January is published, then February is refused by the payout-change gate (the bound is set to 0 %),
so the failure path - the step failure, its message, the asset-check results - is audited too. Everything is
collected: Python logging (caplog, every logger), whatever reached stdout/stderr of this process or of dbt's
(capfd), and the Dagster event log of both runs: messages at INFO or above, and every structured event
(materialisations, asset-check results, step failures) with its metadata.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

JAN, FEB = date(2025, 1, 1), date(2025, 2, 1)

pytestmark = pytest.mark.slow


def _printed_forms(amount: Decimal) -> set[str]:
    """How an amount would print: as Python and SQL write it, with thousands separators, and as a float."""
    return {str(amount), f"{amount:.2f}", f"{amount:,.2f}", repr(float(amount))}


def _event_log_text(instance, run_id: str) -> list[str]:
    """Log messages at INFO or above, and every structured Dagster event whatever its level: Dagster records
    most events (materialisations, asset-check results and their metadata) at DEBUG, yet the UI shows them to
    everyone who can open the run."""
    texts = []
    for entry in instance.all_logs(run_id):
        if entry.dagster_event is not None:
            texts.append(entry.dagster_event.message or "")
            texts.append(repr(entry.dagster_event.event_specific_data))  # metadata, errors, check results
        elif entry.level >= logging.INFO:
            texts.append(entry.user_message or "")
    return texts


def test_logs_and_event_log_carry_no_pay_amounts_names_or_emails(platform, caplog, capfd):
    from orchestration.definitions import build_definitions

    caplog.set_level(logging.INFO)  # every logger, root included
    published = platform.run("publish_month_job", JAN, JAN)
    assert published.success

    strict = replace(platform.settings, max_payout_change_ratio=0.0)
    platform.defs = build_definitions(strict)
    blocked = platform.run("publish_month_job", FEB, FEB)
    assert not blocked.success, "the payout-change gate must refuse February for the failure path to be audited"
    out, err = capfd.readouterr()

    texts = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO]
    texts += [out, err]
    for result in (published, blocked):
        texts += _event_log_text(platform.instance, result.run_id)
    text = "\n".join(texts)
    assert "payout_change_within_bound" in text, "the failure was captured (else this test proves nothing)"
    assert "published 1 month(s)" in text and "crm__opportunities" in text, "INFO logs were captured"
    assert "START sql" in text and "Finished dbt command" in text, "dbt's own output was captured"
    assert "sample_keys" in text, "the asset-check metadata was captured"

    # the amounts: every published January payout, every February preview payout, and the totals the gate
    # compared (which it records in the warehouse, and must not put in the failure message)
    payouts = platform.query("select net_payout_amount from published.monthly_payouts")
    payouts += platform.query("select net_payout_amount from marts.fct_monthly_payouts where payout_month = ?", [FEB])
    details = platform.query(
        "select sample_details from audit.check_results where check_name = 'payout_change_within_bound' and not passed"
    )
    assert details and details[0][0], "the blocked gate's amounts are kept in audit.check_results"
    gate_amounts = [Decimal(a) for d in details for a in re.findall(r"\d+\.\d{2}", " ".join(json.loads(d[0]).values()))]
    assert gate_amounts
    # amounts of three figures or more: shorter numbers (0.00, 12.50) also occur as durations and percentages
    amounts = {abs(a) for (a,) in payouts if abs(a) >= 100} | set(gate_amounts)
    assert len(amounts) > 10, "the company earns commission (else this test proves nothing)"
    leaked = sorted(form for a in amounts for form in _printed_forms(a) if form in text)
    assert leaked == [], f"pay amounts in logs or the event log: {leaked[:5]}"

    # personal data from HR and the CRM
    people = platform.query("select full_name from raw.hr__workers")
    people += platform.query("select full_name from raw.crm__users union all select email from raw.crm__users")
    personal = {value for (value,) in people if value}
    assert any("@" in value for value in personal) and len(personal) > 20
    leaked = sorted(value for value in personal if value in text)
    assert leaked == [], f"names or e-mail addresses in logs or the event log: {leaked[:5]}"
