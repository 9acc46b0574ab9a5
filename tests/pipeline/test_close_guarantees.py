"""Month-close guarantees that only show under concurrency or a crash, proven on the real pipeline.

1. BI readers (other processes, reading the serving file) never block, fail or see a partial month while a
   publication runs.
2. A publication killed half-way (SIGKILL inside the write transaction) leaves the published data, the audit
   trail of publications and the serving file exactly as they were, and a plain rerun completes it.

Each test runs the real pipeline (ingestion -> dbt -> gated publication) two or three times, ~1.5-2 min per test
on a 2-core box: marked slow.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import pytest

from tests.pipeline.crash_helpers import serving_state, stop, wait_for

pytestmark = pytest.mark.slow

JAN, FEB, MAR = date(2025, 1, 1), date(2025, 2, 1), date(2025, 3, 1)
REPO_ROOT = Path(__file__).resolve().parents[2]
BI_READER = Path(__file__).with_name("bi_reader.py")

READERS = 3
MIN_ITERATIONS = 20  # each reader loops every ~0.25 s through a run of 40 s or more: over 150 in practice
MAX_ITERATION_SECONDS = 10.0  # generous on purpose: CI is a loaded 2-core box (see the test's docstring)


def test_bi_readers_never_block_fail_or_see_a_partial_month_while_a_publication_runs(platform, tmp_path):
    """Guarantee 1: concurrent BI readers never block, fail, or see a partial month during a publication.

    Method: January is published, then three reader *processes* (BI tools are separate processes) loop on the
    serving file - each iteration a fresh read-only connection - while February-March are published in this
    process. On every iteration each reader checks every month it sees against that month's publication
    manifest in `audit.publications`: row count, ledger line count, ledger balancing to zero, no rows of another
    publication. A half-written month, or a serving file caught mid-copy, would break one of these. The readers
    start before the run and stop after it, so they observe the state before (January only), the state after
    (January-March) and - if the swap were not atomic - anything in between; February without March would be
    a partial publication too, so the only states allowed are exactly those two.

    "Never blocks" is structural: readers never open the warehouse (asserted from the files each reader had
    open), and the serving file is replaced by an atomic rename, so no writer ever holds a lock a reader needs.
    The latency bound below only catches a gross regression (e.g. readers waiting for the run to finish).
    """
    assert platform.run("publish_month_job", JAN, JAN).success
    serving_path = platform.settings.serving_path
    assert serving_path.exists()

    stop_file = tmp_path / "stop-readers"
    ready_files = [tmp_path / f"reader-{i}.ready" for i in range(READERS)]
    report_files = [tmp_path / f"reader-{i}.json" for i in range(READERS)]
    readers = []
    try:
        for i in range(READERS):
            args = [str(serving_path), str(stop_file), str(ready_files[i]), str(report_files[i])]
            with (tmp_path / f"reader-{i}.stderr").open("w") as stderr:
                readers.append(
                    subprocess.Popen([sys.executable, str(BI_READER), *args], stdout=subprocess.DEVNULL, stderr=stderr)
                )
        wait_for(
            lambda: all(f.exists() for f in ready_files), timeout=120, what="the readers' first read", procs=readers
        )

        run_started = time.time()
        result = platform.run("publish_month_job", FEB, MAR)
        assert result.success

        stop_file.touch()  # after the serving swap: each reader's last iteration sees the final state
        for proc in readers:
            proc.wait(timeout=120)
    finally:
        stop_file.touch()
        stop(readers)

    for i, proc in enumerate(readers):
        assert proc.returncode == 0, (tmp_path / f"reader-{i}.stderr").read_text()[-3000:]
    reports = [json.loads(path.read_text()) for path in report_files]
    before, after = JAN.isoformat(), ",".join(m.isoformat() for m in (JAN, FEB, MAR))

    for report in reports:
        assert report["error_count"] == 0, report["errors"]
        assert report["inconsistency_count"] == 0, report["inconsistencies"]
        assert not report["timed_out"]
        assert report["iterations"] > MIN_ITERATIONS, report["iterations"]
        assert set(report["states"]) <= {before, after}, f"a reader saw a partial publication: {report['states']}"
        assert report["max_latency_seconds"] < MAX_ITERATION_SECONDS, report["max_latency_seconds"]
        # Readers only ever had the serving file open: never the warehouse, its WAL, or a half-built .tmp copy.
        assert report["files_opened"] == [os.path.realpath(serving_path)], report["files_opened"]
        assert os.path.realpath(platform.warehouse_path) not in report["files_opened"]

    # The readers really overlapped the publication: they read the old state while the run was under way,
    # and the new one once it had finished.
    saw_before = [r["states"][before] for r in reports if before in r["states"]]
    saw_after = [r["states"][after] for r in reports if after in r["states"]]
    assert saw_before, "no reader saw the state before the publication"
    assert saw_after, "no reader saw the state after the publication"
    assert max(s["last_seen"] for s in saw_before) > run_started, "the old state was read during the run"
    old_state_reads = sum(s["iterations"] for s in saw_before)
    assert old_state_reads > READERS * MIN_ITERATIONS, f"only {old_state_reads} reads of the old state"


# Runs in a subprocess that is SIGKILLed: publishes February, but stops for good right after the first month's
# rows were written inside publish_months' open transaction (and says how many it wrote, to prove it).
KILLED_PUBLISHER = """
import json, os, sys, time
from datetime import date

import duckdb

from orchestration.publication import publish
from orchestration.publication.gates import GateContext

warehouse, marker = sys.argv[1], sys.argv[2]
original_write_month = publish._write_month


def write_month_then_hang(conn, month, **kwargs):
    original_write_month(conn, month, **kwargs)
    written = conn.execute(
        "select (select count(*) from published.monthly_payouts where payout_month = $1),"
        " (select count(*) from published.commission_ledger where payout_month = $1)",
        [month],
    ).fetchone()
    with open(marker + ".part", "w") as f:
        json.dump({"month": month.isoformat(), "payout_rows": written[0], "ledger_lines": written[1]}, f)
    os.replace(marker + ".part", marker)
    time.sleep(3600)


publish._write_month = write_month_then_hang
conn = duckdb.connect(warehouse)
publish.publish_months(
    conn,
    GateContext(months=(date(2025, 2, 1),), max_payout_change_ratio=1000.0),
    run_id="killed-run",
    run_great_expectations=False,
)
print("publish_months returned: the process was not killed inside the transaction", flush=True)
"""


def _warehouse_publication_state(platform) -> dict[str, object]:
    """Every table of `published.*` and `audit.publications`: columns and all rows."""
    tables = [
        f"published.{name}"
        for (name,) in platform.query(
            "select table_name from information_schema.tables where table_schema = 'published' order by 1"
        )
    ] + ["audit.publications"]
    state = {}
    for table in tables:
        state[f"{table} columns"] = platform.query(f"select column_name, column_type from (describe {table})")
        state[table] = platform.query(f"select * from {table} order by all")
    return state


def _month_rows(platform, relation: str, columns: list[str], key: str) -> list[tuple]:
    return platform.query(f"select {', '.join(columns)} from {relation} where payout_month = ? order by {key}", [FEB])


def test_publication_killed_inside_its_transaction_leaves_the_previous_state_and_a_rerun_completes(platform, tmp_path):
    """Guarantee 2: a publish killed mid-way leaves the previous state, and rerunning it completes it.

    Method: with January published and February's preview built, a separate process runs the real
    `publish_months` for February with `_write_month` wrapped so that, once February's rows are written inside
    the open transaction (the wrapper counts them there), it signals and hangs; the test then SIGKILLs it - no
    rollback, no cleanup code runs, as in a crash or an OOM kill. Reopening the warehouse must show
    `published.*` and `audit.publications` exactly as before (February absent) and the serving file must be
    byte-identical with no new file beside it. A normal rerun must then publish February once, with exactly
    the preview's rows.
    """
    assert platform.run("publish_month_job", JAN, JAN).success
    assert platform.run("nightly_preview_job", FEB, FEB).success

    mart_columns = {
        table: [name for (name,) in platform.query(f"select column_name from (describe {source})")]
        for table, source in (
            ("monthly_payouts", "marts.fct_monthly_payouts"),
            ("commission_ledger", "marts.fct_commission_ledger"),
        )
    }
    preview = {
        "monthly_payouts": _month_rows(
            platform, "marts.fct_monthly_payouts", mart_columns["monthly_payouts"], "payout_id"
        ),
        "commission_ledger": _month_rows(
            platform, "marts.fct_commission_ledger", mart_columns["commission_ledger"], "ledger_line_id"
        ),
    }
    assert preview["monthly_payouts"] and preview["commission_ledger"], "February's preview is built"

    before = _warehouse_publication_state(platform)
    assert platform.query("select distinct payout_month from published.monthly_payouts") == [(JAN,)]
    serving_path = platform.settings.serving_path
    serving_before = serving_state(serving_path)

    script, marker = tmp_path / "killed_publisher.py", tmp_path / "february-rows-written.json"
    script.write_text(KILLED_PUBLISHER)
    stderr_path = tmp_path / "killed_publisher.stderr"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    with stderr_path.open("w") as stderr:
        publisher = subprocess.Popen(
            [sys.executable, str(script), str(platform.warehouse_path), str(marker)],
            cwd=REPO_ROOT,
            env=env,
            stdout=stderr,
            stderr=stderr,
        )
    try:
        wait_for(
            marker.exists,
            timeout=180,
            what="February's rows to be written inside the transaction",
            procs=[publisher],
            diagnostics=lambda: stderr_path.read_text()[-3000:],
        )
        os.kill(publisher.pid, signal.SIGKILL)
        publisher.wait(timeout=60)
    finally:
        stop([publisher])
    assert publisher.returncode == -signal.SIGKILL
    written = json.loads(marker.read_text())
    assert written == {
        "month": FEB.isoformat(),
        "payout_rows": len(preview["monthly_payouts"]),
        "ledger_lines": len(preview["commission_ledger"]),
    }, "the process must be killed with all of February written inside its open transaction"

    assert _warehouse_publication_state(platform) == before, "a killed publication must change nothing published"
    assert platform.query("select count(*) from published.monthly_payouts where payout_month = ?", [FEB]) == [(0,)]
    # The kill came before the serving refresh: the file BI reads is untouched and no half-built copy lies beside
    # it (the readers of the other test also show they only ever open the serving file itself).
    assert serving_state(serving_path) == serving_before

    rerun = platform.run("publish_month_job", FEB, FEB)
    assert rerun.success
    assert platform.query("select run_id from audit.publications where payout_month = ?", [FEB]) == [(rerun.run_id,)], (
        "February is published exactly once, by the rerun"
    )
    for table, key in (("monthly_payouts", "payout_id"), ("commission_ledger", "ledger_line_id")):
        published = _month_rows(platform, f"published.{table}", mart_columns[table], key)
        assert published == preview[table], f"published.{table} for February differs from the preview"
    for table in ("published.monthly_payouts", "published.commission_ledger"):
        january = platform.query(f"select * from {table} where payout_month = ? order by all", [JAN])
        assert january == before[table], f"{table}: January is closed and stays untouched"
    with duckdb.connect(str(serving_path), read_only=True) as serving:
        served = serving.execute(
            "select count(*) from published.monthly_payouts where payout_month = ?", [FEB]
        ).fetchone()[0]
    assert served == len(preview["monthly_payouts"]), "the rerun refreshed the serving file"
