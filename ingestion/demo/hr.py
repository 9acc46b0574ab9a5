"""The workforce: who is employed when, in which role, region and currency, reporting to whom.

HR is simulated first because everything else hangs off it: deals may only be owned by, split to and rolled up
through people employed on the close date, quotas exist for employed months, and territories (`Book`s) change
hands when an account executive leaves or moves. The simulation has three stages:

1. *Plan*: draw every worker's role, region, hire and termination dates and the dates of their mid-horizon
   changes (manager change, SE->AE promotion, region move). All dates are known before anything else runs, so
   later stages can ask "is X still employed on day D?" without simulating the future twice.
2. *Replay*: apply hires, changes and terminations in date order, choosing managers among the people employed
   on that day. Processing in date order is what keeps the hierarchy valid: a terminated manager's reports are
   moved to someone employed at that moment, and roles are layered (AE/SE -> manager -> director -> none), so
   the hierarchy is acyclic by construction.
3. *Territories*: each contiguous stint of a worker as AE in one region is a `Book` of accounts. A book ends a
   few days before the AE's termination (or on a region move) and is handed to a successor who still holds
   their own book on that day, preferring the same manager, then the same region.

Effective-dated rows follow Workday's shape: a new row per change (effective_to = day before the next row),
the superseded row re-exported with its new effective_to, and on termination every row re-exported with the
termination date. Versions are timestamped on their effective date at 09:00; pre-horizon history is clamped
to the start of the horizon so it lands in the first monthly extract.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from ingestion.demo.config import CompanyConfig
from ingestion.demo.domain import (
    COMPANY_DOMAIN,
    REGION_WEIGHTS,
    REGIONS,
    ROLE_SHARES,
    TARGET_INCENTIVE_USD,
    Region,
    Role,
    from_usd,
    name_locale,
    pay_currency,
    round_to_hundreds,
)
from ingestion.demo.seeding import ascii_slug, faker_for, rng_for
from ingestion.demo.timeline import at
from ingestion.demo.writers import ExtractWriter

YEAR = 365
MANAGER_ROLES: dict[Role, Role | None] = {
    "AE": "SALES_MANAGER",
    "SE": "SALES_MANAGER",
    "SALES_MANAGER": "SALES_DIRECTOR",
    "SALES_DIRECTOR": None,
}
"""Who each role reports to. Strictly layered, which is what makes the hierarchy acyclic."""

TERMINATION_RATE: dict[Role, float] = {"AE": 0.15, "SE": 0.14, "SALES_MANAGER": 0.10, "SALES_DIRECTOR": 0.05}
"""Slightly above the ~12 % target: anchors never leave and late hires have no time to."""
MANAGER_CHANGE_RATE = 0.10
PROMOTION_RATE = 0.08
"""Share of SEs promoted to AE during the horizon ("a few")."""
REGION_MOVE_RATE = 0.03
HIRED_IN_HORIZON_RATE = 0.32
"""~30 % of all payees once the (always pre-horizon) anchors are counted."""
LEAVE_RATE = 0.06
MIN_TENURE_DAYS = 30
"""Nobody is terminated within a month of being hired: keeps every stint long enough to own something."""
QUIET_DAYS_BEFORE_TERMINATION = 10
"""Planned changes happen at least this long before a termination, leaving room for the territory handover."""


@dataclass(slots=True)
class HrRow:
    """One effective-dated HR row (the attributes that can change over time)."""

    effective_from: date
    role: Role
    manager: int | None
    """Index of the manager in `Workforce.workers` (None for directors)."""
    region: Region
    currency: str
    target: Decimal
    effective_to: date | None = None


@dataclass(slots=True)
class Book:
    """An AE's tenure over a territory: the accounts and open deals they own from `start` until `end`."""

    owner: int
    region: Region
    start: date
    end: date | None = None
    """Handover day: the successor owns everything from this day on (None: kept beyond the horizon)."""
    successor: int | None = None
    """Index of the book that takes over on `end`."""
    accounts: list[int] = field(default_factory=list)
    acquired: list[date] = field(default_factory=list)
    """Parallel to `accounts`: the day each account joined this book (sorted, for bisecting)."""

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)


@dataclass(slots=True)
class Worker:
    index: int
    role0: Role
    region0: Region
    currency0: str
    hire_date: date
    termination_date: date | None
    anchor: bool
    """Anchors (the first director, manager and AE of each region) are hired long before the horizon and never
    terminated or moved, so there is always somebody employed to report to or hand a territory over to."""
    quota_base_usd: dict[str, float]
    planned: list[tuple[date, int, str]] = field(default_factory=list)
    employee_id: str = ""
    user_id: str = ""
    full_name: str = ""
    email: str = ""
    rows: list[HrRow] = field(default_factory=list)
    row_starts: list[date] = field(default_factory=list)
    versions: dict[tuple[date, datetime], tuple] = field(default_factory=dict)
    books: list[int] = field(default_factory=list)

    def employed_on(self, day: date) -> bool:
        """Hired and not yet terminated (the termination day itself no longer counts as active)."""
        return self.hire_date <= day and (self.termination_date is None or day < self.termination_date)

    def employed_between(self, first: date, last: date) -> bool:
        """Employed on at least one day of [first, last] (termination day inclusive, for quota months)."""
        return self.hire_date <= last and (self.termination_date is None or self.termination_date >= first)

    def row_on(self, day: date) -> HrRow:
        """The row effective on `day` (the first row for days before the hire date)."""
        i = bisect.bisect_right(self.row_starts, day) - 1
        return self.rows[max(i, 0)]


@dataclass(slots=True)
class Leave:
    leave_id: str
    worker: int
    leave_type: str
    is_paid: bool
    start_date: date
    end_date: date
    last_modified: datetime


@dataclass
class Workforce:
    workers: list[Worker]
    books: list[Book]
    leaves: list[Leave]
    admins: list[tuple[str, str, str]]
    """Non-sales CRM users (user_id, full_name, email): admins and ops people who own nothing."""
    by_region_books: dict[Region, list[int]]
    ses_by_region: dict[Region, list[int]]

    def book_on(self, worker: int, day: date) -> Book | None:
        for b in self.workers[worker].books:
            book = self.books[b]
            if book.holds(day):
                return book
        return None

    def is_ae_on(self, worker: int, day: date) -> bool:
        w = self.workers[worker]
        return w.employed_on(day) and w.row_on(day).role == "AE"

    def is_se_on(self, worker: int, day: date) -> bool:
        w = self.workers[worker]
        return w.employed_on(day) and w.row_on(day).role == "SE"


# ---------------------------------------------------------------------------------------------------------
# 1. plan
# ---------------------------------------------------------------------------------------------------------


def _role_counts(payees: int) -> list[Role]:
    directors = max(1, round(payees * ROLE_SHARES["SALES_DIRECTOR"]))
    managers = max(1, round(payees * ROLE_SHARES["SALES_MANAGER"]))
    ses = round(payees * ROLE_SHARES["SE"])
    aes = payees - directors - managers - ses
    if aes < 1:  # unreachable with payees >= 5, kept as a guard for future share changes
        raise ValueError(f"payees={payees} leaves no room for account executives")
    return ["SALES_DIRECTOR"] * directors + ["SALES_MANAGER"] * managers + ["SE"] * ses + ["AE"] * aes


def _uniform_day(rng: random.Random, first: date, last: date) -> date | None:
    if last < first:
        return None
    return first + timedelta(days=rng.randint(0, (last - first).days))


def _plan(config: CompanyConfig, rng: random.Random) -> list[Worker]:
    start, end = config.horizon_start, config.horizon_end
    roles = _role_counts(config.payees)
    seen_regions: dict[Role, set[Region]] = {role: set() for role in MANAGER_ROLES}
    role_seen: dict[Role, int] = {role: 0 for role in MANAGER_ROLES}
    skeletons: list[Worker] = []
    for i, role in enumerate(roles):
        same_role_before = role_seen[role]
        role_seen[role] += 1
        if role in ("SALES_DIRECTOR", "SALES_MANAGER") and same_role_before < len(REGIONS):
            region = REGIONS[same_role_before]  # every region gets leadership before any region gets two
        else:
            region = rng.choices(REGIONS, REGION_WEIGHTS)[0]
        anchor = role != "SE" and region not in seen_regions[role]
        seen_regions[role].add(region)
        currency = pay_currency(region, rng)
        if anchor:
            years_back = {"SALES_DIRECTOR": 10, "SALES_MANAGER": 9, "AE": 6, "SE": 6}[role]
            hire = start - timedelta(days=years_back * YEAR + rng.randint(0, 60))
        elif rng.random() < HIRED_IN_HORIZON_RATE:
            hire = start + timedelta(days=rng.randint(0, config.horizon_days() - 1))
        else:
            low, high = {
                "SALES_DIRECTOR": (7 * YEAR, 10 * YEAR),
                "SALES_MANAGER": (YEAR, 7 * YEAR),
                "AE": (15, 6 * YEAR),
                "SE": (15, 6 * YEAR),
            }[role]
            hire = start - timedelta(days=rng.randint(low, high))
        termination = None
        if not anchor and rng.random() < TERMINATION_RATE[role]:
            earliest = max(hire + timedelta(days=MIN_TENURE_DAYS), start + timedelta(days=14))
            termination = _uniform_day(rng, earliest, end)
        # Monthly quotas sized so the average rep lands near 75-80 % attainment on the simulated deal flow (a
        # typical distribution: roughly half the reps at or above quota in a given month).
        quota_base = {"AE": rng.uniform(24_000, 40_000), "SE": rng.uniform(18_000, 30_000)}
        worker = Worker(
            index=i,
            role0=role,
            region0=region,
            currency0=currency,
            hire_date=hire,
            termination_date=termination,
            anchor=anchor,
            quota_base_usd=quota_base,
        )
        if not anchor:
            _plan_changes(config, rng, worker)
        skeletons.append(worker)
    # Employee ids follow hire order, like a real HRIS numbering its hires.
    skeletons.sort(key=lambda w: (w.hire_date, w.index))
    for new_index, w in enumerate(skeletons):
        w.index = new_index
        w.employee_id = f"E{new_index + 1:06d}"
        w.user_id = f"U{new_index + 1:06d}"
    return skeletons


def _plan_changes(config: CompanyConfig, rng: random.Random, w: Worker) -> None:
    """Mid-horizon changes, dated strictly inside the worker's stint and well before any termination."""
    first = max(w.hire_date, config.horizon_start) + timedelta(days=1)
    last = (w.termination_date or config.horizon_end + timedelta(days=1)) - timedelta(
        days=QUIET_DAYS_BEFORE_TERMINATION
    )
    if w.role0 != "SALES_DIRECTOR" and rng.random() < MANAGER_CHANGE_RATE:
        day = _uniform_day(rng, first, last)
        if day:
            w.planned.append((day, 3, "manager_change"))
    if w.role0 == "SE" and rng.random() < PROMOTION_RATE:
        day = _uniform_day(rng, first, last)
        if day:
            w.planned.append((day, 1, "promotion"))
    if w.role0 in ("AE", "SE") and rng.random() < REGION_MOVE_RATE:
        day = _uniform_day(rng, first, last)
        if day:
            w.planned.append((day, 2, "region_move"))


def _target(rng: random.Random, role: Role, currency: str) -> Decimal:
    low, high = TARGET_INCENTIVE_USD[role]
    return round_to_hundreds(from_usd(rng.uniform(low, high), currency))


def _name_people(config: CompanyConfig, workers: list[Worker], rng: random.Random) -> list[tuple[str, str, str]]:
    fake = faker_for(config.seed, "hr.names")
    taken: set[str] = set()

    def person(locale: str) -> tuple[str, str]:
        first, last = fake[locale].first_name(), fake[locale].last_name()
        local = f"{ascii_slug(first)}.{ascii_slug(last)}".strip(".") or "user"
        email, n = f"{local}@{COMPANY_DOMAIN}", 1
        while email in taken:
            n += 1
            email = f"{local}{n}@{COMPANY_DOMAIN}"
        taken.add(email)
        return f"{first} {last}", email

    for w in workers:
        w.full_name, w.email = person(name_locale(w.region0, w.currency0, rng))
    admins = []
    for k in range(max(1, round(config.payees * 0.02))):
        full_name, email = person("en_US")
        admins.append((f"U{len(workers) + k + 1:06d}", full_name, email))
    return admins


# ---------------------------------------------------------------------------------------------------------
# 2. replay
# ---------------------------------------------------------------------------------------------------------


class _Replay:
    """Applies hires, changes and terminations in date order, keeping the reporting lines valid."""

    def __init__(self, config: CompanyConfig, workers: list[Worker], rng: random.Random) -> None:
        self.config = config
        self.workers = workers
        self.rng = rng
        self.active: dict[Role, dict[Region, list[int]]] = {
            role: {region: [] for region in REGIONS} for role in MANAGER_ROLES
        }
        self.reports: dict[int, set[int]] = {}

    def lm(self, day: date) -> datetime:
        return self.config.clamp_ts(at(day, 9))

    def run(self) -> None:
        events: list[tuple[date, int, int, str]] = []
        for w in self.workers:
            events.append((w.hire_date, 0, w.index, "hire"))
            events.extend((day, prio, w.index, kind) for day, prio, kind in w.planned)
            if w.termination_date:
                events.append((w.termination_date, 4, w.index, "termination"))
        events.sort()
        for day, _prio, index, kind in events:
            getattr(self, f"_on_{kind}")(self.workers[index], day)
        for w in self.workers:
            w.row_starts = [r.effective_from for r in w.rows]
            if w.termination_date:
                for r in w.rows:
                    self._record(w, r, at(w.termination_date, 9), terminated=True)

    # -- choosing a manager -----------------------------------------------------------------------------

    def _pick_manager(
        self, role: Role, region: Region, day: date, exclude: int | None = None, optional: bool = False
    ) -> int | None:
        boss_role = MANAGER_ROLES[role]
        if boss_role is None:
            return None

        def candidates(pool: list[int]) -> list[int]:
            return [
                i
                for i in pool
                if i != exclude and (self.workers[i].termination_date is None or self.workers[i].termination_date > day)
            ]

        local = candidates(self.active[boss_role][region])
        if not local and optional:
            return None  # an optional change (reorg) never crosses regions; it just does not happen
        if not local:
            local = candidates([i for r in REGIONS for i in self.active[boss_role][r]])
        if not local:
            raise RuntimeError(f"no {boss_role} employed on {day} (anchors should make this impossible)")
        # "Power of three choices": the least loaded of three random candidates. Keeps spans of control
        # even (a new manager fills up first) without scanning everyone.
        probes = self.rng.sample(local, min(3, len(local)))
        return min(probes, key=lambda i: (len(self.reports.get(i, ())), i))

    # -- rows and versions ------------------------------------------------------------------------------

    def _record(self, w: Worker, row: HrRow, lm: datetime, terminated: bool = False) -> None:
        w.versions[(row.effective_from, lm)] = (
            row.role,
            row.manager,
            row.region,
            row.currency,
            row.target,
            row.effective_to,
            terminated,
        )

    def _change(self, w: Worker, day: date, **changes: object) -> None:
        """Open a new effective row on `day` (or amend the row that already starts that day)."""
        current = w.rows[-1]
        if current.manager is not None and "manager" in changes:
            self.reports[current.manager].discard(w.index)
        if current.effective_from == day:
            for name, value in changes.items():
                setattr(current, name, value)
            row = current
        else:
            current.effective_to = day - timedelta(days=1)
            self._record(w, current, self.lm(day))
            row = HrRow(
                effective_from=day,
                role=current.role,
                manager=current.manager,
                region=current.region,
                currency=current.currency,
                target=current.target,
            )
            for name, value in changes.items():
                setattr(row, name, value)
            w.rows.append(row)
        if row.manager is not None:
            self.reports.setdefault(row.manager, set()).add(w.index)
        self._record(w, row, self.lm(day))

    # -- events -----------------------------------------------------------------------------------------

    def _on_hire(self, w: Worker, day: date) -> None:
        manager = self._pick_manager(w.role0, w.region0, day)
        row = HrRow(
            effective_from=day,
            role=w.role0,
            manager=manager,
            region=w.region0,
            currency=w.currency0,
            target=_target(self.rng, w.role0, w.currency0),
        )
        w.rows.append(row)
        if manager is not None:
            self.reports.setdefault(manager, set()).add(w.index)
        self._record(w, row, self.lm(day))
        self.active[w.role0][w.region0].append(w.index)

    def _on_promotion(self, w: Worker, day: date) -> None:
        current = w.rows[-1]
        self.active[current.role][current.region].remove(w.index)
        self.active["AE"][current.region].append(w.index)
        self._change(w, day, role="AE", target=_target(self.rng, "AE", current.currency))

    def _on_region_move(self, w: Worker, day: date) -> None:
        current = w.rows[-1]
        region = self.rng.choice([r for r in REGIONS if r != current.region])
        currency = pay_currency(region, self.rng)
        manager = self._pick_manager(current.role, region, day)
        self.active[current.role][current.region].remove(w.index)
        self.active[current.role][region].append(w.index)
        self._change(
            w,
            day,
            region=region,
            currency=currency,
            manager=manager,
            target=_target(self.rng, current.role, currency),
        )

    def _on_manager_change(self, w: Worker, day: date) -> None:
        current = w.rows[-1]
        if MANAGER_ROLES[current.role] is None:
            return
        manager = self._pick_manager(current.role, current.region, day, exclude=current.manager, optional=True)
        if manager is not None and manager != current.manager:
            self._change(w, day, manager=manager)

    def _on_termination(self, w: Worker, day: date) -> None:
        current = w.rows[-1]
        self.active[current.role][current.region].remove(w.index)
        for report in sorted(self.reports.get(w.index, ())):
            r = self.workers[report]
            if r.termination_date is not None and r.termination_date <= day:
                continue  # leaving the same day: nothing to move
            row = r.rows[-1]
            new_manager = self._pick_manager(row.role, row.region, day, exclude=w.index)
            self._change(r, day, manager=new_manager)


# ---------------------------------------------------------------------------------------------------------
# 3. territories
# ---------------------------------------------------------------------------------------------------------


def _build_books(config: CompanyConfig, workers: list[Worker], rng: random.Random) -> list[Book]:
    """Cut every worker's AE stints into per-region books and date their handovers."""
    books: list[Book] = []
    for w in workers:
        current: Book | None = None
        for row in w.rows:
            if current is not None and (row.role != "AE" or row.region != current.region):
                current.end = row.effective_from  # region move: handed over the day the move takes effect
                current = None
            if row.role == "AE" and current is None:
                current = Book(owner=w.index, region=row.region, start=row.effective_from)
                w.books.append(len(books))
                books.append(current)
        if current is not None and w.termination_date is not None:
            # Sales ops reassigns the territory a few days before the rep's last day.
            handover = w.termination_date - timedelta(days=rng.randint(1, 7))
            current.end = max(handover, current.start + timedelta(days=1), config.horizon_start)
            if current.end >= w.termination_date:
                current.end = w.termination_date - timedelta(days=1)
    return books


def _assign_successors(workforce: Workforce, rng: random.Random) -> None:
    """Give each ending book to a book still held after the handover: same manager, same region, anyone."""
    workers, books = workforce.workers, workforce.books
    ending = sorted((b for b in range(len(books)) if books[b].end is not None), key=lambda b: (books[b].end, b))
    reports_of: dict[int, list[int]] = {}
    for w in workers:
        for manager in sorted({r.manager for r in w.rows if r.manager is not None}):
            reports_of.setdefault(manager, []).append(w.index)

    def holds_after(b: int, day: date, exclude_owner: int) -> bool:
        book = books[b]
        return book.owner != exclude_owner and book.holds(day) and (book.end is None or book.end > day)

    for b in ending:
        book = books[b]
        day = book.end
        assert day is not None
        owner = workers[book.owner]
        manager = owner.row_on(day - timedelta(days=1)).manager
        choice: int | None = None
        if manager is not None:
            peers = []
            for peer in reports_of.get(manager, []):
                if workers[peer].row_on(day).manager != manager:
                    continue
                peers.extend(
                    p for p in workers[peer].books if books[p].region == book.region and holds_after(p, day, book.owner)
                )
            if peers:
                choice = rng.choice(sorted(peers))
        if choice is None:
            choice = _sample_book(
                workforce.by_region_books[book.region],
                rng,
                lambda x, day=day, owner=book.owner: holds_after(x, day, owner),
            )
        if choice is None:
            everyone = [x for r in REGIONS for x in workforce.by_region_books[r]]
            choice = _sample_book(everyone, rng, lambda x, day=day, owner=book.owner: holds_after(x, day, owner))
        if choice is None:
            raise RuntimeError(f"no account executive to take over {owner.employee_id}'s territory on {day}")
        book.successor = choice


def _sample_book(pool: list[int], rng: random.Random, ok) -> int | None:
    """A random member of `pool` passing `ok`: a few random probes, then a full scan (keeps it ~O(1))."""
    if not pool:
        return None
    for _ in range(24):
        candidate = pool[rng.randrange(len(pool))]
        if ok(candidate):
            return candidate
    eligible = [x for x in pool if ok(x)]
    return rng.choice(eligible) if eligible else None


# ---------------------------------------------------------------------------------------------------------
# leaves
# ---------------------------------------------------------------------------------------------------------


def _plan_leaves(config: CompanyConfig, workers: list[Worker], rng: random.Random) -> list[Leave]:
    drafts = []
    # A fixed share (at least one) rather than a coin flip per worker, so even a tiny demo company has a
    # leave for the quota proration to show.
    chosen = rng.sample(range(len(workers)), max(1, round(LEAVE_RATE * len(workers))))
    for w in (workers[i] for i in sorted(chosen)):
        weeks = rng.randint(1, 8)
        length = weeks * 7 - rng.randint(0, 3)
        first = max(w.hire_date, config.horizon_start)
        last_day = min(
            w.termination_date - timedelta(days=1) if w.termination_date else config.horizon_end,
            config.horizon_end,
        )
        start = _uniform_day(rng, first, last_day - timedelta(days=length - 1))
        if start is None:
            continue
        u = rng.random()
        kind, paid = ("unpaid", False) if u < 0.5 else ("parental", True) if u < 0.78 else ("sick", True)
        notice = 0 if kind == "sick" else rng.randint(1, 21)
        lm = max(at(start - timedelta(days=notice), 11), at(w.hire_date, 11), config.horizon_start_ts)
        drafts.append((start, w.employee_id, w.index, kind, paid, start + timedelta(days=length - 1), lm))
    drafts.sort()
    return [
        Leave(f"L{i + 1:06d}", index, kind, paid, start, end, lm)
        for i, (start, _emp, index, kind, paid, end, lm) in enumerate(drafts)
    ]


# ---------------------------------------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------------------------------------


def build_workforce(config: CompanyConfig) -> Workforce:
    workers = _plan(config, rng_for(config.seed, "hr.plan"))
    admins = _name_people(config, workers, rng_for(config.seed, "hr.names"))
    _Replay(config, workers, rng_for(config.seed, "hr.replay")).run()
    books = _build_books(config, workers, rng_for(config.seed, "hr.books"))
    by_region: dict[Region, list[int]] = {r: [] for r in REGIONS}
    for b, book in enumerate(books):
        by_region[book.region].append(b)
    ses: dict[Region, list[int]] = {r: [] for r in REGIONS}
    for w in workers:
        for region in sorted({row.region for row in w.rows if row.role == "SE"}):
            ses[region].append(w.index)
    workforce = Workforce(
        workers=workers,
        books=books,
        leaves=_plan_leaves(config, workers, rng_for(config.seed, "hr.leaves")),
        admins=admins,
        by_region_books=by_region,
        ses_by_region=ses,
    )
    _assign_successors(workforce, rng_for(config.seed, "hr.successors"))
    return workforce


def iter_worker_versions(workforce: Workforce) -> Iterator[tuple[datetime, tuple]]:
    """(last_modified, row) for every version of every HR row, in contract column order."""
    workers = workforce.workers
    for w in workers:
        for (effective_from, lm), (role, manager, region, currency, target, eff_to, terminated) in sorted(
            w.versions.items()
        ):
            yield (
                lm,
                (
                    w.employee_id,
                    w.user_id,
                    w.full_name,
                    role,
                    None if manager is None else workers[manager].employee_id,
                    region,
                    currency,
                    w.hire_date,
                    w.termination_date if terminated else None,
                    target,
                    effective_from,
                    eff_to,
                    lm,
                ),
            )


def write_hr(workforce: Workforce, writer: ExtractWriter) -> None:
    for lm, row in iter_worker_versions(workforce):
        writer.add("hr__workers", lm, row)
    for leave in workforce.leaves:
        writer.add(
            "hr__leaves",
            leave.last_modified,
            (
                leave.leave_id,
                workforce.workers[leave.worker].employee_id,
                leave.leave_type,
                leave.is_paid,
                leave.start_date,
                leave.end_date,
                leave.last_modified,
            ),
        )
