"""The warehouse run lock: one writing run at a time, across processes, and never stale after a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from orchestration.lib.run_lock import RunLockResource, WarehouseBusy, WarehouseRunLock, lock_path_for

REPO_ROOT = Path(__file__).resolve().parent.parent

HOLD_SNIPPET = textwrap.dedent(
    """
    import sys, time
    from orchestration.lib.run_lock import WarehouseRunLock
    lock = WarehouseRunLock(sys.argv[1], run_id="run-held-elsewhere", job_name="publish_month_job",
                            partition_range=("2025-01-01", "2025-03-01"))
    lock.acquire()
    print("held", flush=True)
    time.sleep(120)
    """
)

TRY_SNIPPET = textwrap.dedent(
    """
    import sys
    from orchestration.lib.run_lock import WarehouseBusy, WarehouseRunLock
    try:
        with WarehouseRunLock(sys.argv[1], run_id="second-run"):
            print("acquired")
    except WarehouseBusy as exc:
        print(f"busy: {exc}")
    """
)


def _python(snippet: str, *args: str) -> list[str]:
    return [sys.executable, "-c", snippet, *args]


@pytest.fixture
def holder_process(tmp_path: Path):
    """A separate process holding the lock of `tmp_path/warehouse.duckdb` until killed."""
    warehouse = tmp_path / "warehouse.duckdb"
    proc = subprocess.Popen(_python(HOLD_SNIPPET, str(warehouse)), cwd=REPO_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "held"
        yield warehouse, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_second_process_is_refused_naming_the_holder(holder_process):
    warehouse, proc = holder_process

    # this process is a second process too: refused at once (non-blocking), with the holder's details
    with pytest.raises(WarehouseBusy) as refused:
        WarehouseRunLock(warehouse, run_id="this-run").acquire()
    message = str(refused.value)
    assert "run-held-elsewhere" in message
    assert "publish_month_job" in message
    assert "2025-01-01 to 2025-03-01" in message
    assert f"pid {proc.pid}" in message
    assert "cannot overlap" in message
    assert refused.value.holder.run_id == "run-held-elsewhere"

    other = subprocess.run(
        _python(TRY_SNIPPET, str(warehouse)), cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert other.stdout.startswith("busy:"), other.stdout + other.stderr
    assert "run-held-elsewhere" in other.stdout

    content = json.loads(lock_path_for(warehouse).read_text())
    assert content["run_id"] == "run-held-elsewhere"
    assert content["pid"] == proc.pid
    assert {"job_name", "partition_range", "hostname", "acquired_at"} <= content.keys()


def test_lock_is_free_after_the_holder_is_killed(holder_process):
    warehouse, proc = holder_process
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert lock_path_for(warehouse).exists(), "the dead holder's file is left behind, content and all"

    with WarehouseRunLock(warehouse, run_id="after-the-crash") as lock:
        assert lock.held
        assert json.loads(lock_path_for(warehouse).read_text())["run_id"] == "after-the-crash"


def test_acquire_release_reacquire_in_one_process(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    first = WarehouseRunLock(warehouse, run_id="run-1")
    first.acquire()
    with pytest.raises(WarehouseBusy, match="run-1"):
        WarehouseRunLock(warehouse, run_id="run-2").acquire()
    first.release()
    first.release()  # idempotent

    with WarehouseRunLock(warehouse, run_id="run-2"):
        pass
    first.acquire()
    first.release()

    # and free for another process once released
    other = subprocess.run(
        _python(TRY_SNIPPET, str(warehouse)), cwd=REPO_ROOT, capture_output=True, text=True, timeout=60
    )
    assert other.stdout.strip() == "acquired", other.stdout + other.stderr


def test_same_run_is_reentrant_within_a_process(tmp_path: Path):
    """A resource initialised twice for one run must not fail against itself; the last release frees it."""
    warehouse = tmp_path / "warehouse.duckdb"
    outer, inner = WarehouseRunLock(warehouse, run_id="run-1"), WarehouseRunLock(warehouse, run_id="run-1")
    outer.acquire()
    inner.acquire()
    outer.release()
    with pytest.raises(WarehouseBusy):
        WarehouseRunLock(warehouse, run_id="run-2").acquire()
    inner.release()
    with WarehouseRunLock(warehouse, run_id="run-2"):
        pass


def test_resource_holds_the_lock_for_the_run_and_releases_it(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"
    seen: dict[str, object] = {}

    @dg.op
    def writes(run_lock: RunLockResource) -> None:
        seen["holder"] = json.loads(lock_path_for(warehouse).read_text())
        with pytest.raises(WarehouseBusy):
            WarehouseRunLock(warehouse, run_id="another-run").acquire()

    @dg.job(
        tags={"dagster/asset_partition_range_start": "2025-01-01", "dagster/asset_partition_range_end": "2025-02-01"}
    )
    def writer_job() -> None:
        writes()

    result = writer_job.execute_in_process(resources={"run_lock": RunLockResource(path=str(warehouse))})
    assert result.success
    assert seen["holder"]["run_id"] == result.run_id
    assert seen["holder"]["job_name"] == "writer_job"
    assert seen["holder"]["partition_range"] == ["2025-01-01", "2025-02-01"]
    with WarehouseRunLock(warehouse, run_id="next-run"):
        pass  # released at teardown


def test_ingestion_assets_require_the_lock():
    from orchestration.defs.ingestion import compensation_plans, ingestion_assets

    for assets_def in [*ingestion_assets, compensation_plans]:
        assert "run_lock" in assets_def.required_resource_keys, assets_def.node_def.name


def test_every_asset_that_writes_the_warehouse_requires_the_lock(dbt_manifest):
    """Every asset in the single-slot writer pool holds the run lock. Needs the parsed manifest (shared with
    test_definitions in a full run)."""
    from orchestration.definitions import defs
    from orchestration.defs.ingestion import WRITER_POOL

    assets = defs.resolve_asset_graph().assets_defs
    writers = [a for a in assets if a.is_executable and a.op.pool == WRITER_POOL]
    assert len(writers) >= 4
    for assets_def in writers:
        assert "run_lock" in assets_def.required_resource_keys, assets_def.node_def.name


def test_run_started_while_the_lock_is_held_fails_naming_the_holder(tmp_path: Path):
    warehouse = tmp_path / "warehouse.duckdb"

    @dg.op
    def writes(run_lock: RunLockResource) -> None:
        raise AssertionError("must not run while another run holds the warehouse")

    @dg.job
    def writer_job() -> None:
        writes()

    with WarehouseRunLock(warehouse, run_id="the-running-close"):
        result = writer_job.execute_in_process(
            resources={"run_lock": RunLockResource(path=str(warehouse))}, raise_on_error=False
        )
    assert not result.success
    cause = result.get_run_failure_event().event_specific_data.error.cause
    assert cause.cls_name == "WarehouseBusy"
    assert "the-running-close" in cause.message and "cannot overlap" in cause.message


def test_a_run_releases_the_pool_slot_of_a_killed_earlier_holder_even_after_a_reopen(tmp_path: Path):
    """A run killed during a step leaves its `duckdb_writer` pool slot claimed in the Dagster instance (the
    flock dies with the process, the slot does not); with the pool limit of 1 every later run would wait for it
    forever. The next run that takes the lock releases it, even when a non-run holder (`spm reopen`) took the
    lock in between; tests/pipeline/test_crash_safety.py shows the hang it prevents on the real job."""
    warehouse = tmp_path / "warehouse.duckdb"
    killed = WarehouseRunLock(warehouse, run_id="killed-run", job_name="publish_month_job")
    killed.acquire()
    killed.release()  # the content still names it, as after a SIGKILL
    with WarehouseRunLock(warehouse, run_id="reopen-2025-01", job_name="spm reopen") as reopen:
        assert reopen.held
    assert json.loads(lock_path_for(warehouse).read_text())["earlier_run_ids"] == ["killed-run"]

    @dg.op
    def writes(run_lock: RunLockResource) -> None:
        pass

    @dg.job
    def writer_job():
        writes()

    with dg.instance_for_test() as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("duckdb_writer", 1)
        assert storage.claim_concurrency_slot("duckdb_writer", "killed-run", "raw__crm__users").is_claimed
        result = writer_job.execute_in_process(
            instance=instance, resources={"run_lock": RunLockResource(path=str(warehouse))}
        )
        assert result.success
        info = storage.get_concurrency_info("duckdb_writer")
        assert info.claimed_slots == [] and info.pending_steps == [], info
    holder = json.loads(lock_path_for(warehouse).read_text())
    assert holder["run_id"] == result.run_id
    assert holder["earlier_run_ids"] == [], "the released runs are not carried any further"


# ------------------------------------------------------------- every process of a run holds the guard (issue 15)

RUN_WITH_A_MEMBER = textwrap.dedent(
    """
    import subprocess, sys, time
    from orchestration.lib.run_lock import WarehouseRunLock
    from orchestration.lib.run_members import members_in_environment
    warehouse, work = sys.argv[1], sys.argv[2]
    lock = WarehouseRunLock(warehouse, run_id="run-killed-during-dbt", job_name="publish_month_job")
    lock.acquire()
    # the run's child, started as dagster-dbt starts dbt: through the launcher, with the run's environment
    member = (
        "import os, pathlib, sys, time; work = pathlib.Path(sys.argv[1]);"
        "(work / 'member.pid').write_text(str(os.getpid()));"
        "[time.sleep(0.05) for _ in iter(lambda: (work / 'finish').exists(), True)]"
    )
    launcher = (
        "import sys; from orchestration.lib.dbt_launcher import exec_as_member;"
        "exec_as_member([sys.executable, '-c', sys.argv[1], sys.argv[2]])"
    )
    with members_in_environment(warehouse):
        subprocess.Popen([sys.executable, "-c", launcher, member, work], close_fds=True)
    print("running", flush=True)
    time.sleep(300)
    """
)


def _wait_for(predicate, what: str, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie (exited, not yet reaped by its new parent) no longer writes
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_a_run_killed_during_its_dbt_step_keeps_every_other_writer_out_until_the_child_stops(tmp_path: Path):
    """SIGKILL the run's process while its dbt child runs (as the OOM killer would): the kernel frees the run
    lock at once, but no other writer (`spm reopen`, the next run) gets in while the child lives, and the
    refusal names the child; once it has stopped, the next writer gets in."""
    warehouse = tmp_path / "warehouse.duckdb"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    run = subprocess.Popen(
        [sys.executable, "-c", RUN_WITH_A_MEMBER, str(warehouse), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert run.stdout.readline().strip() == "running"
        _wait_for(lambda: (tmp_path / "member.pid").exists(), "the run's child to start")
        member_pid = int((tmp_path / "member.pid").read_text())

        run.send_signal(signal.SIGKILL)
        run.wait(timeout=30)

        assert _alive(member_pid), "the child outlives its killed run (the case this guards)"
        with pytest.raises(WarehouseBusy) as refused:
            WarehouseRunLock(warehouse, run_id="reopen-2025-02", job_name="spm reopen").acquire()
        assert f"pid {member_pid} started by an earlier run (its dbt build) is still running" in str(refused.value)

        (tmp_path / "finish").touch()
        _wait_for(lambda: not _alive(member_pid), "the child to stop")
        lock = WarehouseRunLock(warehouse, run_id="reopen-2025-02", job_name="spm reopen")
        lock.acquire()
        lock.release()
    finally:
        (tmp_path / "finish").touch()
        run.kill()


def test_a_child_whose_run_is_already_gone_does_not_start(tmp_path: Path):
    """The race the other way round: the run dies before its child joins. The child sees it was re-parented
    (its parent is not the run named in its environment) and exits without running its command."""
    from orchestration.lib.dbt_launcher import RUN_GONE_EXIT_CODE
    from orchestration.lib.run_members import MEMBERS_ENV, OWNER_PID_ENV, members_path_for

    warehouse = tmp_path / "warehouse.duckdb"
    marker = tmp_path / "ran"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        MEMBERS_ENV: str(members_path_for(warehouse)),
        OWNER_PID_ENV: "1",  # not this child's parent: the run that started it is gone
    }
    launcher = (
        "import sys; from orchestration.lib.dbt_launcher import exec_as_member;"
        "exec_as_member([sys.executable, '-c', 'import sys; open(sys.argv[1], \"w\")', sys.argv[1]])"
    )

    child = subprocess.run(
        [sys.executable, "-c", launcher, str(marker)], env=env, capture_output=True, text=True, check=False
    )

    assert child.returncode == RUN_GONE_EXIT_CODE, child.stderr
    assert "the run (pid 1) that started this process is gone; not starting, nothing was written" in child.stderr
    assert not marker.exists()
    lock = WarehouseRunLock(warehouse, run_id="next-run")
    lock.acquire()  # the refused child holds nothing
    lock.release()


def test_the_dbt_resource_starts_dbt_through_the_member_launcher(dbt_manifest, tmp_path: Path):
    from orchestration.definitions import build_definitions
    from orchestration.settings import Settings

    defs = build_definitions(Settings.for_data_dir(tmp_path / "data"))
    dbt = defs.resources["dbt"]
    assert Path(dbt.dbt_executable).name == "spm-dbt"
    assert Path(dbt.dbt_executable).exists(), "installed by the project (pyproject [project.scripts])"
