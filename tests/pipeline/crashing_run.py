"""A real `publish_month_job` run that stops for good at one chosen point, for tests/pipeline/test_crash_safety.py.

    python crashing_run.py DATA_DIR FIRST_MONTH LAST_MONTH ORDER_FILE

Starts at once, imports everything and builds the definitions bound to DATA_DIR, then waits for ORDER_FILE
(JSON: `kill_point`, `marker`, optional `steps`) before touching the warehouse, the lock or the Dagster
instance: the test starts the next run of its chain while the current one is still running, so the ~10 s of
process start-up overlap (they are most of what a kill point costs).

Runs like `spm publish` does: in this process, on the Dagster instance of the repository's dagster.yaml (its
storage under SPM_DAGSTER_STORAGE_DIR, which the test points at a temporary folder). With a list of `steps` it
runs only those steps of the job (as Dagster's "re-execute from failure" does after a crash: the steps that had
not succeeded), otherwise all of them. When the run reaches its kill point it writes `marker` (JSON: where it
stopped and what it had written) and hangs, so the test can SIGKILL it exactly there: no `finally`, no
rollback, no resource teardown runs.

KILL_POINT is one of
  * `none`: no kill point; the run completes and the process exits 0 if it succeeded, 1 otherwise;
  * `after-step:<step key>`: once the STEP_SUCCESS event of that step is stored in the instance, before any
    later step starts (the hook wraps the instance's event handler, which every event of the run goes through);
  * `mid-load`: inside a loader's transaction, once the raw rows of the first new landed file are inserted and
    before its row in `raw._loaded_files` (the worst moment: rows without their file log);
  * `checks-recorded`: in the publication step, after every blocking check was evaluated and recorded and
    before the publish transaction begins;
  * `publish-transaction`: inside the publish transaction, once the first month's rows are written;
  * `publish-committed`: after the publish transaction committed, before the serving file is refreshed;
  * `serving-swap`: once the new serving file is fully written beside the old one, before the atomic rename.
"""

import dataclasses
import json
import os
import pathlib
import sys
import time
from datetime import date
from typing import Any

HANG_SECONDS = 3600
succeeded: list[str] = []
"""Steps of the run that succeeded so far, in order (the test resumes the chain from the others)."""

data_dir, first_month, last_month, order_file = sys.argv[1:5]
kill_point, marker = "none", ""


def stop_here(details: dict[str, Any]) -> None:
    """Say where the run stopped (atomically: the test reads the marker as soon as it exists), then hang."""
    part = f"{marker}.part"
    with open(part, "w") as f:
        json.dump({"kill_point": kill_point, "steps_succeeded": succeeded, **details}, f, default=str)
    os.replace(part, marker)
    time.sleep(HANG_SECONDS)
    raise SystemExit(f"{kill_point}: not killed within {HANG_SECONDS} s")


import dagster as dg  # noqa: E402  (after the argument parsing: a usage error fails before the slow imports)
import duckdb  # noqa: E402

from ingestion import loader  # noqa: E402
from orchestration.definitions import build_definitions  # noqa: E402
from orchestration.defs import publication as publication_defs  # noqa: E402
from orchestration.publication import publish  # noqa: E402
from orchestration.runs import publication_run_config, run_job_for_months  # noqa: E402
from orchestration.settings import Settings  # noqa: E402


def install_kill_point() -> None:
    """Wrap the function the kill point is in (step boundaries are caught in `main`, on the instance)."""
    if kill_point == "mid-load":
        original_load_file = loader._load_file
        original_insert_violations_sql = loader._insert_violations_sql
        loading: dict[str, Any] = {}

        def load_file_remembering_connection(conn, contract, plans, landed, *args, **kwargs):
            loading.update(conn=conn, contract=contract, file=landed.relative_path)
            return original_load_file(conn, contract, plans, landed, *args, **kwargs)

        def insert_violations_sql_after_raw_rows(contract, staged):
            # _load_file builds this statement right after inserting the file's raw rows, before its file log row
            conn = loading["conn"]
            table = f"raw.{contract.name}"
            (raw_rows,) = conn.execute(
                f"select count(*) from {table} where _source_file = ?", [loading["file"]]
            ).fetchone()
            (logged,) = conn.execute(
                "select count(*) from raw._loaded_files where entity = ? and source_file = ?",
                [contract.name, loading["file"]],
            ).fetchone()
            if raw_rows:
                stop_here(
                    {
                        "entity": contract.name,
                        "file": loading["file"],
                        "raw_rows_written": raw_rows,
                        "file_log_rows": logged,
                    }
                )
            return original_insert_violations_sql(contract, staged)

        loader._load_file = load_file_remembering_connection
        loader._insert_violations_sql = insert_violations_sql_after_raw_rows

    elif kill_point == "checks-recorded":
        original_record_checks = publish._record_checks

        def record_checks_then_stop(conn, run_id, ctx, results):
            original_record_checks(conn, run_id, ctx, results)
            stop_here(
                {
                    "months": [m.isoformat() for m in ctx.months],
                    "checks": len(results),
                    "passed": sum(r.passed for r in results),
                }
            )

        publish._record_checks = record_checks_then_stop

    elif kill_point == "publish-transaction":
        original_write_month = publish._write_month

        def write_month_then_stop(conn, month, **kwargs):
            original_write_month(conn, month, **kwargs)
            (rows,) = conn.execute(
                "select count(*) from published.monthly_payouts where payout_month = ?", [month]
            ).fetchone()
            stop_here({"month": month.isoformat(), "payout_rows_written": rows})

        publish._write_month = write_month_then_stop

    elif kill_point == "publish-committed":
        # the publication asset calls refresh_serving_database by this module's name once publish_months returned
        def stop_before_serving_refresh(conn, serving_path):
            (publications,) = conn.execute("select count(*) from audit.publications").fetchone()
            stop_here({"publications_committed": publications, "serving_path": str(serving_path)})

        publication_defs.refresh_serving_database = stop_before_serving_refresh

    elif kill_point == "serving-swap":
        original_replace = pathlib.Path.replace
        serving_dir = str(Settings.for_data_dir(pathlib.Path(data_dir)).serving_path.parent)

        def replace_but_stop_before_the_serving_swap(self, target):
            if str(self.parent) == serving_dir and self.name.endswith(".tmp"):
                with duckdb.connect(str(self), read_only=True) as copy:
                    (rows,) = copy.execute("select count(*) from published.monthly_payouts").fetchone()
                stop_here({"new_serving_copy": self.name, "payout_rows_in_copy": rows})
            return original_replace(self, target)

        pathlib.Path.replace = replace_but_stop_before_the_serving_swap

    elif kill_point != "none" and not kill_point.startswith("after-step:"):
        raise SystemExit(f"unknown kill point {kill_point!r}")


def assets_of_steps(defs: dg.Definitions, steps: list[str]) -> list[dg.AssetKey]:
    """The asset keys the given steps (nodes) of the job materialise."""
    job = defs.resolve_job_def("publish_month_job")
    unknown = set(steps) - {node.name for node in job.nodes_in_topological_order}
    if unknown:
        raise SystemExit(f"not steps of publish_month_job: {sorted(unknown)}")
    return [
        key
        for assets in defs.assets or []
        if isinstance(assets, dg.AssetsDefinition) and assets.node_def.name in steps
        for key in assets.keys
    ]


def wait_for_order() -> list[str] | None:
    """Wait for the test's order; set the kill point and marker from it; return the steps to run."""
    global kill_point, marker
    path = pathlib.Path(order_file)
    while not path.exists():
        time.sleep(0.05)
    order = json.loads(path.read_text())
    kill_point, marker = order["kill_point"], order["marker"]
    return order.get("steps")


def main() -> int:
    settings = Settings.for_data_dir(pathlib.Path(data_dir))
    # as the `platform` test fixture: the small company's first months move more than the default bound allows
    settings = dataclasses.replace(settings, max_payout_change_ratio=1000.0)
    defs = build_definitions(settings)
    only_steps = wait_for_order()
    install_kill_point()
    step = kill_point.removeprefix("after-step:") if kill_point.startswith("after-step:") else None
    with dg.DagsterInstance.get() as instance:
        handle_new_event = instance.handle_new_event

        def handle_then_note_step_success(event, **kwargs):
            handle_new_event(event, **kwargs)  # stored first: the instance records the step as succeeded
            dagster_event = event.dagster_event
            if dagster_event is not None and dagster_event.event_type_value == "STEP_SUCCESS":
                succeeded.append(dagster_event.step_key)
                if dagster_event.step_key == step:
                    stop_here({"run_id": event.run_id})

        instance.handle_new_event = handle_then_note_step_success
        result = run_job_for_months(
            defs,
            "publish_month_job",
            date.fromisoformat(first_month),
            date.fromisoformat(last_month),
            instance=instance,
            run_config=publication_run_config(),
            log_level="WARNING",
            asset_selection=None if only_steps is None else assets_of_steps(defs, only_steps),
        )
    print(json.dumps({"run_id": result.run_id, "success": result.success}), flush=True)
    return 0 if result.success else 1


sys.exit(main())
