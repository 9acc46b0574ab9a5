"""CRM (Salesforce-like): users, accounts, opportunities and opportunity splits.

Opportunities are generated month by month, in creation order, and each one is simulated to its end right
away: its close date and outcome are drawn at creation and its whole version history (stage progressions,
territory handovers, the closing version, after-the-fact edits) is emitted at once to the extract writer,
which files every version under the month of its last_modified. Only a compact record of the final
closed-won deals is kept for billing, so memory does not grow with the number of versions.

The pipeline does not start empty: creation starts `LEAD_IN_MONTHS` before the horizon (same rate per
territory, same draws), so closings are at steady state from the horizon's first day. A pre-horizon deal that
also closed before the horizon is history the platform never sees and is not emitted (it still makes its
account a live one, so the account's next deal is an expansion or renewal). A pre-horizon deal still open at
the horizon start arrives as one version stamped `<start>T00:00:00` carrying its state at that moment (the
way pre-horizon HR history is clamped), followed by its in-horizon versions as usual.

Ownership rules that downstream checks rely on:
- a deal's owner holds a territory (`Book`) on every day they own it; when a book is handed over (the AE
  is leaving or moving region) every open deal in it gets a reassignment version on the handover day, so
  the owner on the close date is always employed on that date;
- revenue splits go to AEs employed on the close date and sum to exactly 100.0000; overlay splits go to SEs
  employed on the close date; deals with revenue splits are never reassigned after the fact.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from ingestion.demo.config import CompanyConfig
from ingestion.demo.domain import (
    DEAL_SIZE_USD,
    REGIONS,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    deal_currency,
    from_usd,
    money,
    name_locale,
    percent,
)
from ingestion.demo.hr import Workforce
from ingestion.demo.seeding import faker_for, poisson, rng_for
from ingestion.demo.timeline import add_months, at, month_end
from ingestion.demo.writers import ExtractWriter

LEAD_IN_MONTHS = 4
"""Months of pipeline simulated before the horizon. Deals close at most 120 days (3.94 average months) after
creation, so every close inside the horizon has its full creation window."""
AVERAGE_MONTH_DAYS = 365.25 / 12
WIN_RATE = 0.35
LOSS_RATE = 0.40
"""The rest (~25 %) are still open at the horizon."""
REVENUE_SPLIT_RATE = 0.20
OVERLAY_SPLIT_RATE = 0.30
OVERLAY_DELETE_RATE = 0.01
AMOUNT_EDIT_RATE = 0.06
OWNER_EDIT_RATE = 0.02
UNWIN_RATE = 0.015
REVENUE_PATTERNS: tuple[tuple[int, ...], ...] = ((60, 40), (50, 50), (70, 30), (50, 25, 25))
MID_STAGES: tuple[str, ...] = ("Qualification", "Proposal", "Negotiation")
CLOSING = 3
"""Event priority of the closing version (same-timestamp tie-break, and where splits are created)."""
TYPE_LABELS = {"new": "New Business", "expansion": "Expansion", "renewal": "Renewal"}


@dataclass(slots=True)
class Account:
    account_id: str
    name: str
    segment: str
    region: str
    currency: str
    created_date: date
    book: int
    """Book that created the account (its first owner)."""


@dataclass(frozen=True, slots=True)
class WonDeal:
    """What billing needs to know about a deal that ended the horizon closed-won."""

    close_date: date
    opportunity_id: str
    account: int
    amount: Decimal
    currency: str
    opportunity_type: str
    contract_term_months: int


@dataclass(slots=True)
class _OppState:
    """Mutable current state of one opportunity while its versions are emitted."""

    owner: str
    stage: str
    amount: Decimal
    close_date: date
    is_closed: bool = False
    is_won: bool = False


class CrmGenerator:
    def __init__(self, config: CompanyConfig, workforce: Workforce, writer: ExtractWriter) -> None:
        self.config = config
        self.wf = workforce
        self.writer = writer
        self.accounts: list[Account] = []
        self.won: list[WonDeal] = []
        self._split_seq = 0
        self._opp_seq = 0

    # ---- users -----------------------------------------------------------------------------------------

    def write_users(self) -> None:
        """One CRM user per worker (deactivated on termination) plus a few admins who own nothing."""
        cfg = self.config
        for w in self.wf.workers:
            created = cfg.clamp_ts(at(w.hire_date, 9))
            self.writer.add("crm__users", created, (w.user_id, w.full_name, w.email, True, created))
            if w.termination_date is not None:
                off = at(w.termination_date, 18)
                self.writer.add("crm__users", off, (w.user_id, w.full_name, w.email, False, off))
        for user_id, full_name, email in self.wf.admins:
            ts = cfg.horizon_start_ts
            self.writer.add("crm__users", ts, (user_id, full_name, email, True, ts))

    # ---- accounts --------------------------------------------------------------------------------------

    def build_accounts(self) -> None:
        """~6 accounts per territory, then hand them over with their books, in handover order."""
        cfg, wf = self.config, self.wf
        rng = rng_for(cfg.seed, "crm.accounts")
        fake = faker_for(cfg.seed, "crm.accounts.names")
        drafts = []
        for b, book in enumerate(wf.books):
            for k in range(rng.randint(4, 8)):
                if book.start < cfg.horizon_start:
                    earliest = max(book.start, cfg.horizon_start - timedelta(days=3 * 365))
                    span = (cfg.horizon_start - timedelta(days=1) - earliest).days
                    created = earliest + timedelta(days=rng.randint(0, max(span, 0)))
                else:
                    created = book.start
                drafts.append((created, b, k))
        drafts.sort()
        for n, (created, b, _k) in enumerate(drafts):
            book = wf.books[b]
            currency = deal_currency(book.region, rng)
            account = Account(
                account_id=f"ACC{n + 1:07d}",
                name=fake[name_locale(book.region, currency, rng)].company(),
                segment=rng.choices(SEGMENTS, SEGMENT_WEIGHTS)[0],
                region=book.region,
                currency=currency,
                created_date=created,
                book=b,
            )
            self.accounts.append(account)
            book.accounts.append(n)
            book.acquired.append(created)
            self._write_account(account, wf.workers[book.owner].user_id, cfg.clamp_ts(at(created, 9, 30)))
        for b in sorted((b for b, bk in enumerate(wf.books) if bk.end is not None), key=lambda b: (wf.books[b].end, b)):
            book = wf.books[b]
            assert book.end is not None and book.successor is not None
            successor = wf.books[book.successor]
            new_owner = wf.workers[successor.owner].user_id
            for a in book.accounts:
                successor.accounts.append(a)
                successor.acquired.append(book.end)
                self._write_account(self.accounts[a], new_owner, at(book.end, 8))

    def _write_account(self, account: Account, owner_user: str, lm: datetime) -> None:
        self.writer.add(
            "crm__accounts",
            lm,
            (
                account.account_id,
                account.name,
                account.segment,
                account.region,
                owner_user,
                account.created_date,
                lm,
            ),
        )

    # ---- opportunities ---------------------------------------------------------------------------------

    def generate_opportunities(self) -> None:
        cfg, wf = self.config, self.wf
        rng = rng_for(cfg.seed, "crm.opportunities")
        live_account: list[bool] = [False] * len(self.accounts)
        """Has the account had a deal that was not lost? Then the next deal is expansion/renewal, not new."""
        lead_in = [add_months(cfg.horizon_start, -k) for k in range(LEAD_IN_MONTHS, 0, -1)]
        for month_first in lead_in + cfg.month_starts():
            month_last = min(month_end(month_first), cfg.horizon_end)
            days_in_month = (month_end(month_first) - month_first).days + 1
            drafts = []
            for b, book in enumerate(wf.books):
                first = max(month_first, book.start)
                last = month_last if book.end is None else min(month_last, book.end - timedelta(days=1))
                if last < first:
                    continue
                active_days = (last - first).days + 1
                for k in range(poisson(rng, cfg.deals_per_payee_per_month * active_days / days_in_month)):
                    created = first + timedelta(days=rng.randint(0, active_days - 1))
                    usable = bisect.bisect_right(book.acquired, created)
                    if usable == 0:
                        continue
                    account = book.accounts[rng.randrange(usable)]
                    drafts.append((created, wf.workers[book.owner].employee_id, k, b, account))
            drafts.sort()
            for created, _emp, _k, b, account in drafts:
                self._simulate_opportunity(rng, created, b, account, live_account)

    def _simulate_opportunity(
        self,
        rng: random.Random,
        created: date,
        book_index: int,
        account_index: int,
        live_account: list[bool],
    ) -> None:
        cfg, wf = self.config, self.wf
        account = self.accounts[account_index]
        horizon_end = cfg.horizon_end
        end_ts = cfg.horizon_end_ts

        live = live_account[account_index]
        opp_type = ("expansion" if rng.random() < 0.6 else "renewal") if live else "new"
        low, high = DEAL_SIZE_USD[account.segment]
        amount = money(from_usd(rng.triangular(low, high, low + 0.3 * (high - low)), account.currency))
        term = rng.choices((12, 24, 36), (0.6, 0.25, 0.15))[0]
        close = _close_after(created, rng.randint(10, 120))
        u = rng.random()
        outcome = "won" if u < WIN_RATE else "lost" if u < WIN_RATE + LOSS_RATE else "open"
        if outcome != "lost":
            live_account[account_index] = True
        if outcome != "open" and close < cfg.horizon_start:
            return  # created and closed before the horizon: never extracted, so it gets no id either
        self._opp_seq += 1
        opp_id = f"OPP{self._opp_seq:07d}"
        name = f"{account.name} - {TYPE_LABELS[opp_type]}"

        owner_of = self._owner_user
        state = _OppState(owner=owner_of(book_index), stage="Prospecting", amount=amount, close_date=close)
        events: list[tuple[datetime, int, Callable[[_OppState], None]]] = []

        # Stage progressions strictly between creation and the (first) expected close date.
        room = (close - created).days - 1
        stages = sorted(rng.sample(MID_STAGES, rng.choice((1, 2))), key=MID_STAGES.index)
        offsets = sorted(rng.sample(range(1, room + 1), min(len(stages), room))) if room > 0 else []
        for stage, offset in zip(stages, offsets, strict=False):
            ts = at(created + timedelta(days=offset), 14) + timedelta(minutes=rng.randint(0, 179))
            events.append((ts, 1, _set(stage=stage)))

        closes_in_horizon = outcome in ("won", "lost") and close <= horizon_end
        if outcome == "open" and close <= horizon_end:
            # The rep keeps pushing the expected close date instead of closing the deal.
            pushed = max(close + timedelta(days=rng.randint(30, 90)), horizon_end + timedelta(days=rng.randint(1, 60)))
            events.append((at(close, 16), 2, _set(close_date=pushed)))

        # Territory handovers while the deal is open (on or before the close day for closed deals).
        limit = close if closes_in_horizon else horizon_end
        book = wf.books[book_index]
        while book.end is not None and book.end <= limit:
            assert book.successor is not None
            successor = book.successor
            events.append((at(book.end, 8), 0, _set(owner=owner_of(successor))))
            book = wf.books[successor]

        edit: str | None = None
        if closes_in_horizon:
            won = outcome == "won"
            stage = "Closed Won" if won else "Closed Lost"
            events.append((at(close, 17), CLOSING, _set(stage=stage, is_closed=True, is_won=won)))
            if won:
                e = rng.random()
                if e < AMOUNT_EDIT_RATE:
                    factor = 1 + rng.choice((-1, 1)) * rng.uniform(0.05, 0.40)
                    new_amount = money(float(amount) * factor)
                    events.append((at(close + timedelta(days=rng.randint(3, 40)), 11), 4, _set(amount=new_amount)))
                    edit = "amount"
                elif e < AMOUNT_EDIT_RATE + OWNER_EDIT_RATE:
                    edit = "owner"
                elif e < AMOUNT_EDIT_RATE + OWNER_EDIT_RATE + UNWIN_RATE:
                    events.append(
                        (
                            at(close + timedelta(days=rng.randint(5, 30)), 11),
                            4,
                            _set(stage="Negotiation", is_closed=False, is_won=False),
                        )
                    )
                    edit = "unwon"

        # Replay versions in time order up to the horizon; remember the state when splits get created.
        # Versions before the horizon are folded into one version at its start (their latest state).
        events.sort(key=lambda ev: (ev[0], ev[1]))
        emitted: list[datetime] = []
        split_ts: datetime | None = None
        split_owner = state.owner
        start_ts = cfg.horizon_start_ts
        folding = at(created, 10) < start_ts
        if not folding:
            self._write_opp(opp_id, account, state, name, opp_type, term, created, at(created, 10))
            emitted.append(at(created, 10))
        for ts, prio, apply in events:
            if folding:
                if ts < start_ts:
                    assert prio != CLOSING  # deals closed before the horizon returned above
                    apply(state)
                    continue
                folding = False
                self._write_opp(opp_id, account, state, name, opp_type, term, created, start_ts)
                emitted.append(start_ts)
            ts = max(ts, emitted[-1] + timedelta(minutes=1))
            if ts > end_ts:
                break
            apply(state)
            self._write_opp(opp_id, account, state, name, opp_type, term, created, ts)
            emitted.append(ts)
            if prio == CLOSING:
                split_ts, split_owner = ts, state.owner
        if folding:  # every version was before the horizon
            self._write_opp(opp_id, account, state, name, opp_type, term, created, start_ts)
            emitted.append(start_ts)
        if outcome == "lost":
            return
        if split_ts is None:  # still open (or closing after the horizon): splits as of the last version
            split_ts, split_owner = emitted[-1], state.owner
        # Owner edits after the close are decided now but only apply to deals without revenue splits.
        has_revenue_split = self._write_splits(rng, opp_id, account, state.close_date, split_owner, split_ts)
        if edit == "owner" and not has_revenue_split and closes_in_horizon:
            ts = at(close + timedelta(days=rng.randint(2, 30)), 11)
            new_owner = self._other_ae(rng, account.region, close, exclude={split_owner})
            if new_owner is not None and ts > emitted[-1] and ts <= end_ts:
                state.owner = new_owner
                self._write_opp(opp_id, account, state, name, opp_type, term, created, ts)
        if outcome == "won" and state.is_won and state.is_closed:
            self.won.append(
                WonDeal(
                    close_date=close,
                    opportunity_id=opp_id,
                    account=account_index,
                    amount=state.amount,
                    currency=account.currency,
                    opportunity_type=opp_type,
                    contract_term_months=term,
                )
            )

    def _owner_user(self, book_index: int) -> str:
        return self.wf.workers[self.wf.books[book_index].owner].user_id

    def _write_opp(
        self,
        opp_id: str,
        account: Account,
        state: _OppState,
        name: str,
        opp_type: str,
        term: int,
        created: date,
        ts: datetime,
    ) -> None:
        self.writer.add(
            "crm__opportunities",
            ts,
            (
                opp_id,
                account.account_id,
                state.owner,
                name,
                opp_type,
                state.stage,
                state.amount,
                account.currency,
                created,
                state.close_date,
                state.is_closed,
                state.is_won,
                term,
                ts,
            ),
        )

    # ---- splits ----------------------------------------------------------------------------------------

    def _write_splits(
        self, rng: random.Random, opp_id: str, account: Account, close: date, owner: str, ts: datetime
    ) -> bool:
        """Revenue and overlay splits for one deal; returns whether revenue splits were written."""
        rows: list[tuple[str, str, Decimal]] = []
        if rng.random() < REVENUE_SPLIT_RATE:
            pattern = rng.choice(REVENUE_PATTERNS)
            others: list[str] = []
            for _ in pattern[1:]:
                other = self._other_ae(rng, account.region, close, exclude={owner, *others})
                if other is None:
                    break
                others.append(other)
            if len(others) == len(pattern) - 1:
                assert sum(pattern) == 100
                for user, share in zip([owner, *others], pattern, strict=True):
                    rows.append((user, "revenue", percent(share)))
        has_revenue = bool(rows)
        if rng.random() < OVERLAY_SPLIT_RATE:
            se = self._se_on(rng, account.region, close)
            if se is not None:
                rows.append((se, "overlay", percent(rng.choice((100, 50)))))
        for user, split_type, share in rows:
            self._split_seq += 1
            split_id = f"S{self._split_seq:07d}"
            self._write_split(split_id, opp_id, user, split_type, share, False, ts)
            if split_type == "overlay" and rng.random() < OVERLAY_DELETE_RATE:
                deleted = ts + timedelta(days=rng.randint(1, 20), hours=1)
                if deleted <= self.config.horizon_end_ts:
                    self._write_split(split_id, opp_id, user, split_type, share, True, deleted)
        return has_revenue

    def _write_split(
        self,
        split_id: str,
        opp_id: str,
        user: str,
        split_type: str,
        share: Decimal,
        deleted: bool,
        ts: datetime,
    ) -> None:
        self.writer.add("crm__opportunity_splits", ts, (split_id, opp_id, user, split_type, share, deleted, ts))

    # ---- people employed on a day ----------------------------------------------------------------------

    def _other_ae(self, rng: random.Random, region: str, day: date, exclude: set[str]) -> str | None:
        """An AE holding a territory on `day` (so employed as AE that day), preferring the deal's region."""
        wf = self.wf
        for pool in (wf.by_region_books[region], [b for r in REGIONS for b in wf.by_region_books[r]]):
            found = _probe(
                pool,
                rng,
                lambda b: wf.books[b].holds(day) and self._owner_user(b) not in exclude,
            )
            if found is not None:
                return self._owner_user(found)
        return None

    def _se_on(self, rng: random.Random, region: str, day: date) -> str | None:
        wf = self.wf
        for pool in (wf.ses_by_region[region], [w for r in REGIONS for w in wf.ses_by_region[r]]):
            found = _probe(pool, rng, lambda w: wf.is_se_on(w, day))
            if found is not None:
                return wf.workers[found].user_id
        return None


def _close_after(created: date, lag_days: int) -> date:
    """`lag_days` after `created`, counted on a month clock (a month is a month, whatever its length).

    Sales run on a monthly cadence: a rep creates as many deals in February as in March, and closes as many
    too. Adding plain days would put closings in proportion to calendar days, so every February would close
    ~10 % less than January and March ~11 % more, a seasonality nobody intended. Instead the creation day
    becomes a position within its month, the lag is added in average months, and the result is mapped back to
    a day of the month it lands in (10-120 days become ~0.3-3.9 months: 9-121 calendar days).
    """
    first = created.replace(day=1)
    position = (created.day - 0.5) / month_end(first).day + lag_days / AVERAGE_MONTH_DAYS
    months = int(position)
    month_first = add_months(first, months)
    return month_first + timedelta(days=int((position - months) * month_end(month_first).day))


def _probe(pool: list[int], rng: random.Random, ok: Callable[[int], bool]) -> int | None:
    """Random member of `pool` passing `ok`: a few random probes first, so the common case is O(1)."""
    if not pool:
        return None
    for _ in range(16):
        candidate = pool[rng.randrange(len(pool))]
        if ok(candidate):
            return candidate
    eligible = [x for x in pool if ok(x)]
    return rng.choice(eligible) if eligible else None


def _set(**changes: object) -> Callable[[_OppState], None]:
    def apply(state: _OppState) -> None:
        for name, value in changes.items():
            setattr(state, name, value)

    return apply
