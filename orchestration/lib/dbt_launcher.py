"""`spm-dbt`: dbt as a member of the run that starts it (orchestration/lib/run_lock.py, run_members.py).

A run starts dbt through this launcher (DbtCliResource's `dbt_executable`). Before dbt runs, the launcher takes a
shared flock on the run's members file and checks that the run that started it is still its parent; then it
exec's dbt in this same process, so dbt holds the flock for as long as it lives. A later taker of the warehouse
lock finds the flock held and waits for this process instead of writing beside it, even when the run itself was
killed. Without the environment a run sets (`SPM_RUN_LOCK_MEMBERS`), it is plain dbt (manual `dbt build`
commands keep working). It imports nothing heavy: it runs before every dbt invocation.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from orchestration.lib.run_members import RunGone, join_run

RUN_GONE_EXIT_CODE = 75
"""EX_TEMPFAIL: the run that started this process died before it could join; nothing was done."""


def exec_as_member(command: Sequence[str]) -> NoReturn:
    """Join the run, then replace this process with `command` (which keeps the flock until it exits)."""
    try:
        join_run()
    except RunGone as gone:
        print(f"spm-dbt: {gone}", file=sys.stderr)
        raise SystemExit(RUN_GONE_EXIT_CODE) from None
    os.execv(command[0], list(command))


def main() -> NoReturn:
    """`spm-dbt ARGS...` runs `dbt ARGS...` (the dbt installed beside this interpreter) as a member of the run."""
    exec_as_member([str(Path(sys.executable).parent / "dbt"), *sys.argv[1:]])


if __name__ == "__main__":
    main()
