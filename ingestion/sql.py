"""Tiny SQL text helpers for the loader.

The loader generates set-based SQL from the contracts (column names, allowed values, type names), so every
identifier and literal goes through one of these functions instead of ad-hoc f-strings. Values that come
from data never go into SQL text: they are read by DuckDB directly from files or bound as parameters.
"""

from __future__ import annotations

import re

_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_ ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$")


def ident(name: str) -> str:
    """Quote an identifier (column, table, schema) for DuckDB/ANSI SQL."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: str) -> str:
    """Quote a string literal (standard SQL: backslashes are not escapes, quotes are doubled)."""
    return "'" + value.replace("'", "''") + "'"


def sql_type(type_name: str) -> str:
    """Return a contract type name after checking it is a plain type name, e.g. `decimal(18,2)`.

    Types are spliced into DDL and casts: reject anything that is not a bare type name rather than trust it.
    """
    if not _TYPE_RE.match(type_name):
        raise ValueError(f"not a plain SQL type name: {type_name!r}")
    return type_name
