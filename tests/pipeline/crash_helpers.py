"""Helpers shared by the tests that run the pipeline in another process and kill it (SIGKILL) or watch it."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest


def wait_for(
    condition: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    procs: Sequence[subprocess.Popen] = (),
    diagnostics: Callable[[], str] = str,
) -> None:
    """Poll `condition` until true; fail after `timeout` seconds, or at once if one of `procs` died."""
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args} exited with {proc.returncode} while waiting for {what}\n{diagnostics()}")
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnostics()}")
        time.sleep(0.1)


def stop(procs: Sequence[subprocess.Popen]) -> None:
    """Kill whichever of our subprocesses is still running (cleanup path only)."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


def serving_state(serving_path: Path) -> tuple[bytes, list[str]]:
    """The serving file's bytes, and every file next to it (a reader could be pointed at any of them)."""
    return serving_path.read_bytes(), sorted(p.name for p in serving_path.parent.iterdir())
