"""Billing (Stripe-like): customers, subscriptions and invoices derived from closed-won deals.

Billing is generated after the CRM because it depends on the *final* state of each deal: a customer exists
for every account that ended up with a won deal (created on the first won close date), every won new-business
or expansion deal starts a subscription on its close date, and a deal that was un-won never reaches billing.
The subscription is booked at the deal's final amount (after-the-fact CRM amount edits are corrections of the
CRM to match the signed contract, which is what billing invoices).

Churn is decided per customer: a churning customer cancels every subscription that started before its churn
date; a subscription won later (a win-back) stays active, which gives retention both churn and reactivation
movements. Invoices are issued per billing period while the subscription is active and then collected (paid),
voided or written off (uncollectible) as new versions; anything that would happen after the horizon does not
exist yet, so late invoices simply stay open.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal

from ingestion.demo.config import CompanyConfig
from ingestion.demo.crm import Account, WonDeal
from ingestion.demo.domain import money
from ingestion.demo.seeding import rng_for
from ingestion.demo.timeline import add_months, at
from ingestion.demo.writers import ExtractWriter

CHURN_RATE = 0.12
CONTRACTION_RATE = 0.05
YEARLY_RATE = 0.30
VOID_RATE = 0.01
UNCOLLECTIBLE_RATE = 0.03


def write_billing(
    config: CompanyConfig, accounts: Sequence[Account], won: Sequence[WonDeal], writer: ExtractWriter
) -> None:
    rng = rng_for(config.seed, "billing")
    end_ts = config.horizon_end_ts

    # Customers: one per account with a won deal, numbered in the order they became customers.
    first_win: dict[int, date] = {}
    for deal in won:
        if deal.account not in first_win or deal.close_date < first_win[deal.account]:
            first_win[deal.account] = deal.close_date
    customer_of: dict[int, str] = {}
    churn_on: dict[int, date] = {}
    for n, (first, account_index) in enumerate(sorted((d, a) for a, d in first_win.items())):
        account = accounts[account_index]
        customer_id = f"cus_{n + 1:07d}"
        customer_of[account_index] = customer_id
        created = at(first, 18)
        writer.add(
            "billing__customers",
            created,
            (customer_id, account.account_id, account.name, account.currency, created, created),
        )
        if rng.random() < CHURN_RATE:
            churn_on[account_index] = first + timedelta(days=rng.randint(90, 455))

    # Subscriptions and their invoices, in start order.
    subs = sorted(
        (d for d in won if d.opportunity_type in ("new", "expansion")),
        key=lambda d: (d.close_date, d.opportunity_id),
    )
    invoice_seq = 0
    for n, deal in enumerate(subs):
        subscription_id = f"sub_{n + 1:07d}"
        customer_id = customer_of[deal.account]
        yearly = rng.random() < YEARLY_RATE
        interval = "year" if yearly else "month"
        monthly = float(deal.amount) / deal.contract_term_months
        amount = money(monthly * 12 if yearly else monthly)
        start = deal.close_date

        churn = churn_on.get(deal.account)
        cancel = churn if churn is not None and churn > start and churn <= config.horizon_end else None
        contraction: tuple[date, Decimal] | None = None
        if rng.random() < CONTRACTION_RATE:
            day = start + timedelta(days=rng.randint(60, 365))
            if day <= config.horizon_end and (cancel is None or day < cancel):
                contraction = (day, money(float(amount) * (1 - rng.uniform(0.10, 0.40))))

        fixed = (subscription_id, customer_id, deal.opportunity_id, start, interval, deal.currency)
        created = at(start, 18, 5)
        _write_subscription(writer, fixed, "active", None, amount, created)
        current = amount
        if contraction is not None:
            current = contraction[1]
            _write_subscription(writer, fixed, "active", None, current, at(contraction[0], 12))
        if cancel is not None:
            _write_subscription(writer, fixed, "canceled", cancel, current, at(cancel, 12, 30))

        period = 0
        while True:
            invoice_date = add_months(start, period * (12 if yearly else 1))
            if invoice_date > config.horizon_end or (cancel is not None and invoice_date >= cancel):
                break
            period += 1
            invoice_seq += 1
            billed = contraction[1] if contraction and contraction[0] <= invoice_date else amount
            _write_invoice(
                writer,
                rng,
                end_ts,
                (f"in_{invoice_seq:08d}", customer_id, subscription_id, deal.opportunity_id),
                invoice_date,
                billed,
                deal.currency,
            )


def _write_subscription(
    writer: ExtractWriter,
    fixed: tuple[str, str, str, date, str, str],
    status: str,
    end: date | None,
    recurring: Decimal,
    lm: datetime,
) -> None:
    """One subscription version; `fixed` = (id, customer, opportunity, start, interval, currency)."""
    subscription_id, customer_id, opportunity_id, start, interval, currency = fixed
    writer.add(
        "billing__subscriptions",
        lm,
        (subscription_id, customer_id, opportunity_id, status, start, end, interval, recurring, currency, lm),
    )


def _write_invoice(
    writer: ExtractWriter,
    rng: random.Random,
    end_ts: datetime,
    ids: tuple[str, str, str, str],
    invoice_date: date,
    amount: Decimal,
    currency: str,
) -> None:
    """Open on the invoice date, then paid, voided or written off later (if that is still in the horizon)."""
    due = invoice_date + timedelta(days=30)
    opened = at(invoice_date, 18, 30)

    def row(status: str, paid_at: datetime | None, lm: datetime) -> tuple:
        return (*ids, invoice_date, due, amount, currency, status, paid_at, lm)

    writer.add("billing__invoices", opened, row("open", None, opened))
    u = rng.random()
    if u < VOID_RATE:
        ts, status = at(invoice_date + timedelta(days=rng.randint(1, 10)), 10), "void"
    elif u < VOID_RATE + UNCOLLECTIBLE_RATE:
        ts, status = at(invoice_date + timedelta(days=rng.randint(60, 90)), 3), "uncollectible"
    else:
        ts, status = opened + timedelta(seconds=rng.randint(3_600, 45 * 86_400)), "paid"
    if ts <= end_ts:
        writer.add("billing__invoices", ts, row(status, ts if status == "paid" else None, ts))
