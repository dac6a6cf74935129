"""What a database refusal was about, the same way on PostgreSQL and SQLite."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.exc import DBAPIError


class ViolationKind(StrEnum):
    UNIQUE = "unique"
    CHECK = "check"
    FOREIGN_KEY = "foreign_key"
    NOT_NULL = "not_null"
    TOO_LONG = "too_long"


@dataclass(frozen=True)
class Violation:
    kind: ViolationKind
    constraint: str | None = None
    columns: tuple[str, ...] = field(default_factory=tuple)


POSTGRES_STATES = {
    "23505": ViolationKind.UNIQUE,
    "23514": ViolationKind.CHECK,
    "23503": ViolationKind.FOREIGN_KEY,
    "23502": ViolationKind.NOT_NULL,
    "22001": ViolationKind.TOO_LONG,
}
SQLITE_MESSAGES = [
    (re.compile(r"UNIQUE constraint failed: (.+)"), ViolationKind.UNIQUE),
    (re.compile(r"CHECK constraint failed: (\w+)"), ViolationKind.CHECK),
    (re.compile(r"NOT NULL constraint failed: (.+)"), ViolationKind.NOT_NULL),
    (re.compile(r"FOREIGN KEY constraint failed()"), ViolationKind.FOREIGN_KEY),
]
POSTGRES_KEY_COLUMNS = re.compile(r"Key \(([^)]+)\)=")


def violation(error: DBAPIError) -> Violation | None:
    """The rule a failed statement broke, or None when it was not a constraint."""
    original = error.orig
    driver_error = getattr(original, "__cause__", None)
    state = getattr(driver_error, "sqlstate", None) or getattr(original, "pgcode", None)
    if state in POSTGRES_STATES:
        constraint = getattr(driver_error, "constraint_name", None)
        column = getattr(driver_error, "column_name", None)
        detail = getattr(driver_error, "detail", None) or ""
        keys = POSTGRES_KEY_COLUMNS.search(detail)
        columns = tuple(c.strip() for c in keys[1].split(",")) if keys else ()
        return Violation(
            POSTGRES_STATES[state], constraint, columns or ((column,) if column else ())
        )
    message = str(original)
    for pattern, kind in SQLITE_MESSAGES:
        found = pattern.search(message)
        if found is None:
            continue
        if kind is ViolationKind.CHECK:
            return Violation(kind, found[1])
        columns = tuple(part.split(".")[-1].strip() for part in found[1].split(",") if part)
        return Violation(kind, None, columns)
    return None
