"""Why a run failed, in the words of the code that refused: one line of text per failed step.

Dagster wraps an exception raised in an asset in a step-execution error whose own message only says which op
failed ("Error occurred while executing op raw__crm__opportunities"); the source, file, line and rule of a refused
file, or the gates and keys of a blocked publication, are in the innermost cause. The CLI's final summary and
both alert paths (the CLI's and the daemon's run-failure sensor) read failures through this module, so a person
sees the same sentence wherever they look. No Dagster import: it reads the serialized error objects Dagster hands
out (`message`, `cause`, `cls_name`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

MAX_MESSAGE_CHARS = 4000
"""Per failed step, at most this much text (a blocked publication lists every failing check with sample keys)."""

_CLASS_PREFIX = re.compile(r"^(?:[A-Za-z_][\w]*\.)*([A-Za-z_]\w*): ")
"""`ingestion.errors.SourceContractError: ...` -> `...` (the class path says nothing an operator can act on)."""


class ErrorInfo(Protocol):
    message: str
    cause: ErrorInfo | None
    cls_name: str | None


@dataclass(frozen=True)
class StepFailure:
    step: str
    message: str


def root_message(error: ErrorInfo) -> str:
    """The innermost cause's message without its exception class path, trimmed to `MAX_MESSAGE_CHARS`."""
    while error.cause is not None:
        error = error.cause
    text = error.message.strip()
    text = _CLASS_PREFIX.sub("", text, count=1)
    return text[:MAX_MESSAGE_CHARS]


def step_failures(events: Iterable[Any]) -> list[StepFailure]:
    """One `StepFailure` per STEP_FAILURE event, in event order, each step once."""
    failures: dict[str, StepFailure] = {}
    for event in events:
        if getattr(event, "event_type_value", None) != "STEP_FAILURE" or event.step_key in failures:
            continue
        data = event.event_specific_data
        error = getattr(data, "error", None)
        user_failure = getattr(data, "user_failure_data", None)
        if user_failure is not None and user_failure.description:
            message = user_failure.description.strip()[:MAX_MESSAGE_CHARS]
        elif error is not None:
            message = root_message(error)
        else:
            message = event.message or "step failed without an error message"
        failures[event.step_key] = StepFailure(step=event.step_key, message=message)
    return list(failures.values())


def describe(failures: Iterable[StepFailure]) -> str:
    """The failures as a person reads them: each step once, its message indented below it."""
    return "\n".join(f"step {f.step} failed:\n  " + f.message.replace("\n", "\n  ") for f in failures)
