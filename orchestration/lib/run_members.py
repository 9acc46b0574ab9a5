"""The processes a run starts that can write the warehouse (its dbt build) hold the run's writer guard too.

Kept apart from run_lock.py, and free of Dagster imports, because `spm-dbt` (orchestration/lib/dbt_launcher.py)
imports it before every dbt invocation: importing Dagster there would add seconds to each run, and the child
would spend them without the guard. How the guard works, and its races: orchestration/lib/run_lock.py.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MEMBERS_ENV = "SPM_RUN_LOCK_MEMBERS"
"""Environment variable naming the members file a run's child process joins (set for dbt by the run)."""
OWNER_PID_ENV = "SPM_RUN_LOCK_OWNER_PID"
"""Environment variable with the pid of the run process that starts a member; the member refuses to start if
that process is no longer its parent (the run died before the member took its flock)."""


def members_path_for(warehouse_path: str | Path) -> Path:
    """`<warehouse_path>.lock.members`: shared-locked by every child process of a run that can write."""
    return Path(f"{warehouse_path}.lock.members")


@contextmanager
def members_in_environment(warehouse_path: str | Path) -> Iterator[None]:
    """While a run starts a child process through `spm-dbt`: the environment that makes it join the run's guard
    (the members file and this process's pid), restored afterwards."""
    wanted = {MEMBERS_ENV: str(members_path_for(warehouse_path)), OWNER_PID_ENV: str(os.getpid())}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class RunGone(RuntimeError):
    """The run that started this process died before the process joined its guard."""


def join_run(environ: os._Environ | dict[str, str] = os.environ) -> int | None:
    """Take a shared flock on the run's members file, inheritable so that an exec keeps it; return the
    descriptor, or None when no run asked for it (a plain `dbt build` by hand). Raise `RunGone` if the run named
    in the environment is no longer this process's parent: it died, and nothing must be written for it."""
    members = environ.get(MEMBERS_ENV)
    if not members:
        return None
    Path(members).parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(members, os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_SH)  # waits only while a lock taker probes (it holds the exclusive flock briefly)
    owner = environ.get(OWNER_PID_ENV)
    if owner and os.getppid() != int(owner):
        os.close(fd)
        raise RunGone(f"the run (pid {owner}) that started this process is gone; not starting, nothing was written")
    os.set_inheritable(fd, True)
    return fd


def flock_holder_pids(path: Path) -> list[int]:
    """Pids holding a flock on `path`, from /proc/locks (Linux); [] where that cannot be read. For messages only."""
    try:
        inode = path.stat().st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    pids = []
    for line in lines:
        # "1: FLOCK  ADVISORY  READ 12345 fd:01:67890 0 EOF" (a blocked waiter has "->" after the number)
        fields = [field for field in line.split() if field != "->"]
        if len(fields) < 6 or fields[1] != "FLOCK":
            continue
        try:
            pid = int(fields[4])
        except ValueError:
            continue
        if fields[5].rsplit(":", 1)[-1] == str(inode):
            pids.append(pid)
    return sorted(set(pids))
