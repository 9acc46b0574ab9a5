"""Errors raised by the raw-layer loader.

A file-level problem (the file as a whole cannot be trusted) raises `SourceContractError`; row-level problems
are quarantined instead (see `ingestion.loader`). The message always names the source, entity, file and rule,
plus the line or record when the reader reports one, so an on-call engineer can go straight to the bad file
without opening logs that might contain pay data. Messages never include row contents.
"""

from __future__ import annotations

from typing import Any


class SourceContractError(ValueError):
    """A landed file violates its source contract as a whole (unreadable, empty, wrong columns, ...).

    Attributes are kept separately from the message so orchestration code can route or group failures
    (e.g. alert per `rule`) without parsing text.
    """

    def __init__(
        self,
        *,
        source: str,
        entity: str,
        file: str,
        rule: str,
        detail: str,
        line: int | None = None,
    ) -> None:
        self.source = source
        self.entity = entity
        self.file = file
        self.rule = rule
        self.detail = detail
        self.line = line
        where = f" line {line}" if line is not None else ""
        super().__init__(f"{source}.{entity}: file '{file}'{where}: rule {rule}: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only __init__ breaks the default exception pickling; orchestrators that run loads in a
        # subprocess (Dagster's multiprocess executor) need to ship the error back intact.
        return (_rebuild, (type(self), self.__dict__.copy(), self.args))


class LandedFileChangedError(SourceContractError):
    """A file that was already loaded now has different content.

    Landed files are immutable: rewriting one in place would silently change history that payouts may already
    have been published from. The fix is to land a *new* file with the corrected rows.
    """


def _rebuild(cls: type[SourceContractError], state: dict[str, Any], args: tuple[Any, ...]) -> Any:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    err.args = args
    return err
