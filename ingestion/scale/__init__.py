"""Scale data generator: a company of any size as landed source extracts, written set-based by DuckDB.

    python -m ingestion.scale --payees 10000 --credit-lines-per-month 10000000 --months 13 --out DIR --seed 7

The demo generator (`ingestion/demo/`) simulates a company row by row in Python (~37k rows/s): right for a
believable demo, far too slow for the SPEC §5 mid-market (10,000 payees, 10 million credit lines a month). This
package writes the same contracts in the same layout from DuckDB SQL: every record is a pure function of the
seed and its own coordinates (`u(stream, a, b)`, a hash), so a month, or one day, is generated on its own with
`range()` and written with `COPY ... TO`, month by month in bounded memory (two months at a time, one cursor
each). Equal arguments give byte-identical files (with the DuckDB version pinned in requirements.lock: the draws
use DuckDB's `hash`). 10,000 payees x 10M credit lines a month x 13 months = 151M rows (24 GB) in ~4.7 minutes
on 2 cores (540k rows/s, peak RSS 5.7 GB); 1,000 payees: 15M rows in under a minute.

Layout (exactly the demo's): `<out>/<source>/<entity>/<entity>_<YYYY-MM>.<ext>`, one extract per entity per
month holding the versions whose `last_modified` (quotas: `updated_at`; FX: `rate_date`) falls in that month,
in the contract's format (CSV, JSONL, Parquet), columns in contract order, rows sorted by version key.
`land_day()` / `--day` writes "a day's new data" the same way, named `<entity>_<YYYY-MM-DD>.<ext>`. The project's
loader loads the files with zero quarantined rows and the demo plans (`plans/`) apply unchanged.

Company shape (consistent with the demo's roles and plans; constants in `config.py` and `company.py`):

- **Org chart.** Directors > managers (8 per director) > teams of 8 reps: seats 0-5 account executives (AE),
  6-7 sales engineers (SE). Contiguous teams share a region (NA 42 %, EMEA 30 %, APAC 16 %, LATAM 12 %); pay
  currency by region as in the demo (CAD/USD, GBP/EUR, AUD, USD). The chart is solved so that seats plus
  replacement hires is exactly `--payees` workers; 10,000 payees over 13 months = 123 directors, 984
  managers, 7,870 rep seats (5,904 AE, 1,966 SE) and 1,023 replacement hires (12 % of rep seats a year).
- **HR.** Every worker has a CRM user. Leaders are stable; a rep seat that turns over has its incumbent
  terminated on day T and a successor hired on T (the successor owns the seat's deals and accounts from T on:
  `hire_date <= day < termination_date`, as in the demo). 4 % of incumbent reps move to the sister team of the
  same director mid-horizon (a second effective-dated HR row); 3 % of workers take a leave (half unpaid).
  Pre-horizon history is stamped at the horizon start, so it arrives in the first month's extract.
- **Quotas** per the plan period types read from `plans/`: a monthly row for every worker employed in a month
  (reps 24-40k / 18-30k USD a month with ±4 % noise, managers 90 % of their AEs' quotas, directors 90 % of
  their managers'), plus quarter / year rows for roles whose plans measure quarters or years. The sheet for a
  month is published five days before it starts, so the last month's extract carries the open month's quota;
  2 % of rows are corrected ten days later.
- **FX**: a daily rate for AUD, CAD, EUR, GBP and USD (= 1) from one month before the horizon, weekends
  repeating Friday's fixing.
- **Deals.** `won_deals_per_month` closed-won deals a month, owned by AEs (the seat's holder on the close
  date), spread uniformly over AE seats and days, plus `--lost-per-won` (default 0.5) closed-lost deals. Each
  deal lands as its creation version (stage Prospecting, in the month it was created, 10-120 days before the
  close) and its closing version; the deal size is scaled so the average AE sits at ~85 % of quota (with
  ~1,000 credit lines per payee a month the business is transactional: a mean deal of ~56 USD at 1k and 10k,
  ~480 won deals per AE a month). New-logo deals (~1.5 per AE a month) create their account; the others pick
  an account of the AE's book (won deals per AE a month / 6 accounts, 6-80, moved to the successor on a
  turnover).
- **Credit lines.** Each closed-won deal credits its owner, the owner's manager and director (the roll-up);
  5 % are split 60/40, 50/50 or 70/30 with another AE of the team (both reps and both roll-ups are credited);
  30 % carry an overlay split for an SE of the team (100 % or 50 %). Later versions: 3 % amount edits (3-40
  days after the close), 1 % reassignments to another AE of the team (never for revenue-split deals), 1.5 %
  un-won (5-30 days after), so the engine's adjustment path runs. Expected rows of `int_payee_credits` per
  won deal = (3 + 3 x 5 % + 30 %) x (1 + edits landing in a later month - un-wins within the close month) =
  3.516; the generator solves deals per month from the requested credit lines with it, and the benchmark
  reports the measured figure.
- **Billing.** Every account of the books is a customer with one subscription from before the horizon
  (monthly or, 30 %, yearly; 5 % of accounts expand or contract in a month; 8 % cancel once in the horizon,
  which is a churn that the AE plan claws back); a won new-logo deal creates its customer and a monthly
  subscription. **Invoices: one per deal with an SE overlay split** (30 % of won deals; not un-won ones),
  dated 0-3 days after the close for the full final amount, then paid within 45 days (96.5 %), written off
  60-90 days later (2.5 %) or voided (1 %). Why only those: the pay-on-invoice SE plan (se_overlay v2) releases
  commission as its deals' invoices are paid and uncollectible invoices drive clawbacks, while the engine drops
  invoices that are not linked to a deal, so per-subscription invoices would only add load time, not work.
  Invoicing every deal would triple the JSONL volume for no additional path through the engine.

Known simplifications: leaders never turn over; a churned account's later deals go to the next account of the
book (without restarting a subscription); a new-logo account gets one deal in the horizon; stage progressions
between creation and close are not generated (the demo generator covers that path).
"""

from ingestion.scale.config import ScaleConfig
from ingestion.scale.generator import ScaleReport, ScaleSession, generate, land_day

__all__ = ["ScaleConfig", "ScaleReport", "ScaleSession", "generate", "land_day"]
