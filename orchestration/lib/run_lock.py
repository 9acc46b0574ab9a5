"""One writing run at a time: an exclusive lock next to the DuckDB warehouse file.

`dagster.yaml` already limits runs tagged `spm/warehouse=writer` to one at a time, but only for runs that go
through the run queue (the daemon, the UI). `spm publish`, the tests and `dagster job execute` run in-process and
bypass the queue; two of those over the same month would interleave their writes, and DuckDB's own file lock
only protects one statement's connection, not a run of many steps plus a dbt subprocess. So every run that
writes the warehouse also takes `<warehouse_path>.lock` and fails fast, naming the holder, if another run has it.

The lock is `fcntl.flock(LOCK_EX | LOCK_NB)` on that file:
  * the kernel releases it when the holding process exits, however it exits (SIGKILL, OOM kill, crash), so a
    dead run never leaves a stale lock and there is nothing to clean up by hand;
  * the file's content (JSON: run id, job, months, pid, host, acquired at) only describes the current or last
    holder, for the error message; whether the lock is held is decided by flock alone, and the next holder
    overwrites the content;
  * the descriptor is opened close-on-exec: the run's child processes do not inherit the *run* lock;
  * flock is per host: it guards runs on the machine that holds the warehouse file (the embedded default),
    not runs on other machines writing through a network file system.

Every process of a run that writes holds the guard too, not only the run's own process. The dbt build is a
child process (dagster-dbt starts it with `close_fds`, so it cannot inherit the run's lock), and a run killed
by the OOM killer or a supervisor leaves it writing: the kernel frees the run's flock at once, and without
more another writer (`spm reopen`, the next run) got in beside the orphaned dbt. So:
  * dbt is started through `spm-dbt` (orchestration/lib/dbt_launcher.py), which takes a *shared* flock on
    `<warehouse_path>.lock.members` and then exec's dbt in the same process: the flock belongs to the open file
    description, which the exec keeps, so dbt holds it until it exits, however it exits;
  * every taker of the run lock then tries an *exclusive* flock on the members file: while a member of an
    earlier run lives, that fails, and the taker gives the run lock back and raises `WarehouseBusy` naming the
    member's pid (from /proc/locks). It holds the exclusive flock only for that probe;
  * the races: a member takes its shared flock *before* it checks that the run that started it is still its
    parent (`SPM_RUN_LOCK_OWNER_PID`). If the run died first, the member was re-parented and exits without
    writing; if the run dies after the check, the member already holds the flock, and the next taker's probe
    sees it. A probe that comes between the run's death and the member's flock finds no member, but then the
    member's check finds its parent gone.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

import dagster as dg
from pydantic import PrivateAttr

from orchestration.lib.run_members import flock_holder_pids, members_path_for
from orchestration.runs import RANGE_END_TAG, RANGE_START_TAG

MAX_EARLIER_RUN_IDS = 20
"""Bound on the run ids a lock file carries forward (only non-run holders in a row make it grow)."""

PARTITION_TAG = "dagster/partition"
"""Tag of a single-partition run (a partition *range* run carries RANGE_START_TAG / RANGE_END_TAG instead)."""


def partition_range_from_tags(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """The (first, last) partition key a run covers, from its tags, or None for an unpartitioned run."""
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return tags[RANGE_START_TAG], tags[RANGE_END_TAG]
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG], tags[PARTITION_TAG]
    return None


def lock_path_for(warehouse_path: str | Path) -> Path:
    """`<warehouse_path>.lock`: next to the warehouse, so every process agreeing on the warehouse agrees on it."""
    return Path(f"{warehouse_path}.lock")


class MemberStillRunning(RuntimeError):
    """A child process of an earlier run (its dbt build) still holds the members file: it may still write."""

    def __init__(self, members_path: Path, pids: list[int]) -> None:
        self.members_path = members_path
        self.pids = pids
        who = f"pid {', '.join(map(str, pids))}" if pids else "a process"
        super().__init__(
            f"{who} started by an earlier run (its dbt build) is still running and may write the warehouse: the "
            f"run that started it is gone, so it is not waited for. Wait until it ends, or stop it, then launch "
            f"again. Members file: {members_path}"
        )


def _no_member_alive(members_path: Path) -> None:
    """Raise `MemberStillRunning` if any process holds a shared flock on the members file; else return at once."""
    members_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(members_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise MemberStillRunning(members_path, flock_holder_pids(members_path)) from None
    finally:
        os.close(fd)  # releases the probe's exclusive flock, if taken


@dataclass(frozen=True)
class LockHolder:
    """Who holds (or last held) the lock, as written into the lock file."""

    run_id: str | None
    job_name: str | None
    partition_range: tuple[str, str] | None
    pid: int
    hostname: str
    acquired_at: str
    """ISO 8601, UTC."""
    earlier_run_ids: tuple[str, ...] = ()
    """Runs that held the lock before this holder and whose Dagster pool slots no run has released since
    (`release_pool_slots_of_earlier_run`): carried forward by holders that are not Dagster runs (`spm reopen`),
    so a run killed before them still gets its slots released by the next run."""

    def describe(self) -> str:
        if self.partition_range is None:
            months = "no partition"
        elif self.partition_range[0] == self.partition_range[1]:
            months = f"month {self.partition_range[0]}"
        else:
            months = f"months {self.partition_range[0]} to {self.partition_range[1]}"
        return (
            f"run {self.run_id or '(none)'} of job {self.job_name or '(none)'} for {months}, "
            f"pid {self.pid} on {self.hostname}, since {self.acquired_at}"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LockHolder | None:
        """None if the content is empty or not a holder (a holder is writing it right now, or it was edited)."""
        try:
            data = json.loads(text)
            partition_range = data.get("partition_range")
            return cls(
                run_id=data.get("run_id"),
                job_name=data.get("job_name"),
                partition_range=tuple(partition_range) if partition_range else None,
                pid=int(data["pid"]),
                hostname=str(data["hostname"]),
                acquired_at=str(data["acquired_at"]),
                earlier_run_ids=tuple(str(r) for r in data.get("earlier_run_ids") or ()),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


class WarehouseBusy(RuntimeError):
    """Another run holds the warehouse lock, or a process of an earlier run still runs."""

    def __init__(self, lock_path: Path, holder: LockHolder | None, *, member: MemberStillRunning | None = None) -> None:
        self.lock_path = lock_path
        self.holder = holder
        self.member = member
        if member is not None:
            super().__init__(f"The warehouse is in use: {member}")
            return
        who = holder.describe() if holder else "a holder whose details are not readable yet (it is just starting)"
        super().__init__(
            f"The warehouse is in use by another run: {who}. Two runs writing the warehouse (for example two runs "
            f"of the same month) cannot overlap; wait for that run to finish or cancel it, then launch this one "
            f"again. Lock file: {lock_path}"
        )


@dataclass
class _Held:
    fd: int
    holder: LockHolder
    count: int


# Locks this process holds, keyed by (pid, lock path). flock conflicts between two descriptors of the same
# process too, so without this a resource initialised twice in one run would fail against itself. The pid in
# the key makes a forked child ignore its parent's entries (it inherits the parent's descriptor, and an unlock
# from the child would release the parent's lock, so the child must never touch it).
_HELD: dict[tuple[int, str], _Held] = {}
_HELD_GUARD = threading.Lock()


class WarehouseRunLock:
    """Exclusive, non-blocking lock on `<warehouse_path>.lock` for one run.

    Re-entrant for the same run id within one process (a second `acquire` only counts; the lock is released
    by the last `release`); any other acquirer, in this process or another, gets `WarehouseBusy`.
    """

    def __init__(
        self,
        warehouse_path: str | Path,
        *,
        run_id: str | None = None,
        job_name: str | None = None,
        partition_range: tuple[str, str] | None = None,
    ) -> None:
        self.lock_path = lock_path_for(warehouse_path)
        self.members_path = members_path_for(warehouse_path)
        self.run_id = run_id
        self.job_name = job_name
        self.partition_range = partition_range
        self._key: tuple[int, str] | None = None

    @property
    def held(self) -> bool:
        return self._key is not None

    def acquire(self) -> LockHolder:
        """Take the lock or raise `WarehouseBusy` at once (never waits). Returns the holder details written."""
        if self._key is not None:
            raise RuntimeError(f"this WarehouseRunLock already holds {self.lock_path}")
        key = (os.getpid(), str(self.lock_path.resolve()))
        with _HELD_GUARD:
            held = _HELD.get(key)
            if held is not None:
                if self.run_id is None or held.holder.run_id != self.run_id:
                    raise WarehouseBusy(self.lock_path, held.holder)
                held.count += 1
                self._key = key
                return held.holder
            self.lock_path.parent.mkdir(parents=True, exist_ok=True)
            # no O_TRUNC: opening must not erase the holder's details that a refused acquirer reads
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = LockHolder.from_json(os.pread(fd, 64 * 1024, 0).decode("utf-8", errors="replace"))
                os.close(fd)
                raise WarehouseBusy(self.lock_path, holder) from None
            except BaseException:
                os.close(fd)
                raise
            # the last holder released the flock, but a child process of a killed run may still be writing
            try:
                _no_member_alive(self.members_path)
            except MemberStillRunning as member:
                os.close(fd)  # gives the run lock back
                raise WarehouseBusy(self.lock_path, None, member=member) from None
            # the last holder released the flock (it finished, or died): its run, and the runs it carried, are
            # handed to this holder, whose run releases their pool slots (RunLockResource)
            previous = LockHolder.from_json(os.pread(fd, 64 * 1024, 0).decode("utf-8", errors="replace"))
            earlier = (*previous.earlier_run_ids, previous.run_id) if previous and previous.run_id else ()
            earlier = tuple(dict.fromkeys(r for r in earlier if r != self.run_id))[-MAX_EARLIER_RUN_IDS:]
            holder = LockHolder(
                run_id=self.run_id,
                job_name=self.job_name,
                partition_range=self.partition_range,
                pid=os.getpid(),
                hostname=socket.gethostname(),
                acquired_at=datetime.now(UTC).isoformat(timespec="seconds"),
                earlier_run_ids=earlier,
            )
            try:
                os.ftruncate(fd, 0)
                os.pwrite(fd, holder.to_json().encode(), 0)
            except BaseException:
                os.close(fd)  # closing the only descriptor releases the flock
                raise
            _HELD[key] = _Held(fd=fd, holder=holder, count=1)
            self._key = key
            return holder

    def forget_earlier_runs(self) -> None:
        """Once their pool slots are released: stop carrying the earlier run ids in the lock file."""
        with _HELD_GUARD:
            held = _HELD.get(self._key) if self._key else None
            if held is None or not held.holder.earlier_run_ids:
                return
            held.holder = replace(held.holder, earlier_run_ids=())
            os.ftruncate(held.fd, 0)
            os.pwrite(held.fd, held.holder.to_json().encode(), 0)

    def release(self) -> None:
        """Give the lock back (a no-op if this object does not hold it). The file stays, with the last holder."""
        key, self._key = self._key, None
        if key is None:
            return
        with _HELD_GUARD:
            held = _HELD[key]
            held.count -= 1
            if held.count == 0:
                del _HELD[key]
                fcntl.flock(held.fd, fcntl.LOCK_UN)
                os.close(held.fd)

    def __enter__(self) -> WarehouseRunLock:
        self.acquire()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


class RunLockResource(dg.ConfigurableResource):
    """Holds the warehouse lock from resource set-up to teardown; every asset that writes the warehouse
    requires it, so a run that writes takes the lock before its first writing step.

    Our jobs use the in-process executor, which initialises resources once per run: the lock spans the whole
    run (ingestion, dbt, publication), and a second run over the warehouse fails at start instead of
    interleaving. With the multiprocess executor resources are initialised per step process, so the lock
    would be per step (still one writer at a time, but two runs could alternate steps).
    """

    path: str
    """Path of the DuckDB warehouse file (the lock is `<path>.lock`)."""

    _lock: WarehouseRunLock | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        run = context.run
        self._lock = WarehouseRunLock(
            self.path,
            run_id=run.run_id if run else None,
            job_name=run.job_name if run else None,
            partition_range=partition_range_from_tags(run.tags) if run else None,
        )
        holder = self._lock.acquire()
        if context.log:
            context.log.info(f"warehouse lock {self._lock.lock_path} taken for the run")
        if context.instance is not None and holder.earlier_run_ids:
            for run_id in holder.earlier_run_ids:
                release_pool_slots_of_earlier_run(context.instance, run_id)
            self._lock.forget_earlier_runs()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def release_pool_slots_of_earlier_run(instance: dg.DagsterInstance, run_id: str) -> None:
    """Give back any `duckdb_writer` pool slot `run_id`, an earlier holder of the warehouse lock, still claims.

    Why: the flock dies with its process, but Dagster's pool slots do not. A run killed during a step (SIGKILL,
    OOM kill, a crashed host process) leaves that step's slot claimed in the instance's storage, and with
    dagster.yaml's pool limit of 1 every later run then waits for it forever, silently: a stale lock after all
    (found by tests/pipeline/test_crash_safety.py). Only the daemon's run monitoring frees such slots, and
    runs of `spm publish` and the tests do not go through the daemon.

    Safe: this run now holds the flock, so the earlier holder's process released it (it finished its steps and
    tore down its resources, or it died) and runs no more steps; and every step that claims a writer slot
    belongs to a run that takes this lock first (the in-process executor initialises resources before the
    first step claims its slot). For a run that finished cleanly, or a run id this instance does not know, it
    is a no-op. The dead run's status is left as it is ("started"): telling a dead process from one that has
    just released the lock and is recording its end would need more than the lock file says.
    """
    storage = instance.event_log_storage
    if storage.supports_global_concurrency_limits:
        storage.free_concurrency_slots_for_run(run_id)
