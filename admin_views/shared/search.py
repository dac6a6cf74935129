"""The list search: an exact match when the term looks like an identifier, else a substring.

Staff mostly paste something that names one row: an email address, a UUID, a phone number,
a transaction or ticket reference. A view declares which of its columns hold each kind
(`StaffView.search_exact`); a term of that kind is then compared for equality on those
columns only, which a unique or btree index answers at once. Any other term, or a kind the
view does not declare, is looked for as a substring (`ILIKE '%term%'`) over every searchable
column, which trigram indexes answer on PostgreSQL (`migrations/versions/0004`); SQLite has
no such index and scans, with the same results.

Email columns are stored in lower case (a CHECK on each table), so an email term is lowered
and compared with plain equality, which keeps the column's unique index usable.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute


class Exact(StrEnum):
    """The kinds of term that name one row, for `StaffView.search_exact`."""

    EMAIL = "email"
    """A whole address, `name@domain.tld`; `@example.com` alone is still a substring."""
    UUID = "uuid"
    """A row id, with or without dashes."""
    PHONE = "phone"
    """`+` and 7 to 15 digits, or 7 to 15 digits; spaces, dashes, dots, parentheses ignored."""
    REFERENCE = "reference"
    """A whole transaction or ticket reference: `TXN-20261127-8F3K2Q9Z`, `TCK-7KQ2M9XD`."""
    LAST_FOUR = "last_four"
    """Four digits, as a card's last four; a view that does not declare the kind looks for
    them as a substring, since they may as well be part of a name or a year."""


Field = str | InstrumentedAttribute[Any]
"""A searchable column: a model attribute, or a dotted path through relationships."""

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_PHONE = re.compile(r"\+?[\d\s().-]+")
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
_FOUR_DIGITS = re.compile(r"\d{4}")
_REFERENCE = re.compile(r"TXN-\d{8}-[A-Z0-9]{8,}|TCK-[A-Z0-9]{8}", re.IGNORECASE)
"""The forms `WalletTransaction.reference` and `SupportTicket.reference` take; a part of
one (`TXN-20261127`) is not a reference but a substring to look for."""


def kind_of(term: str) -> tuple[Exact, list[Any]] | None:
    """What `term` looks like, and the values a matching column may hold; None for text."""
    term = term.strip()
    if _REFERENCE.fullmatch(term):
        return Exact.REFERENCE, sorted({term, term.upper()})
    if _FOUR_DIGITS.fullmatch(term):
        return Exact.LAST_FOUR, [term]
    if _EMAIL.fullmatch(term):
        return Exact.EMAIL, [term.lower()]
    if _PHONE.fullmatch(term):
        digits = _PHONE_PUNCTUATION.sub("", term)
        bare = digits.removeprefix("+")
        if bare.isdigit() and 7 <= len(bare) <= 15:
            return Exact.PHONE, [digits] if digits.startswith("+") else [bare, f"+{bare}"]
    try:
        return Exact.UUID, [uuid.UUID(term)]
    except ValueError:
        return None


def search(
    stmt: sa.Select,
    model: type[Any],
    term: str,
    searchable: Sequence[Field],
    exact: Mapping[Exact, Sequence[Field]],
) -> sa.Select:
    """`stmt` narrowed to the rows `term` finds (see the module's docstring)."""
    joined: set[str] = set()
    found = kind_of(term)
    if found is not None and exact.get(found[0]):
        kind, values = found
        conditions = []
        for field in exact[kind]:
            stmt, column = _resolve(stmt, model, field, joined)
            typed = [_as_stored(column, value) for value in values]
            conditions.append(column.in_(typed) if len(typed) > 1 else column == typed[0])
        return stmt.where(sa.or_(*conditions))
    pattern = f"%{term}%"
    conditions = []
    for field in searchable:
        stmt, column = _resolve(stmt, model, field, joined)
        conditions.append(_text(column).ilike(pattern))
    return stmt.where(sa.or_(sa.false(), *conditions))


def _as_stored(column: Any, value: Any) -> Any:
    """A UUID as text for a text column (an audit entry's entity id), as is for a UUID one."""
    if isinstance(value, uuid.UUID) and not isinstance(column.type, sa.Uuid):
        return str(value)
    return value


def _text(column: Any) -> Any:
    """Text columns as they are, so a trigram index on the column serves the ILIKE."""
    if isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum):
        return column
    return sa.cast(column, sa.String)


def _resolve(stmt: sa.Select, model: type[Any], field: Field, joined: set[str]) -> tuple[Any, Any]:
    """The column `field` names, joining each relationship of a dotted path once."""
    if not isinstance(field, str):
        return stmt, field
    *path, name = field.split(".")
    current = ""
    for part in path:
        relationship = getattr(model, part)
        current = f"{current}.{part}" if current else part
        if current not in joined:
            stmt = stmt.join(relationship)
            joined.add(current)
        model = relationship.mapper.class_
    return stmt, getattr(model, name)
