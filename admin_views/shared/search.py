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

Searchable columns on more than one table (a card's holder name and its customer's email)
are not ORed across a join: no one index answers such an `OR`, so PostgreSQL read every card
(10 s for a fragment of one customer's email at 1.3M cards). Instead the list's own foreign
key is looked up among the related rows that match, `user_id IN (SELECT id FROM users WHERE
email ILIKE ...)`, next to the own columns' conditions; on PostgreSQL the ids are gathered
first, `user_id = ANY(ARRAY(SELECT ...))`, so every branch of the `OR` is an index scan of
the list's own table (trigram, foreign key), combined as a bitmap. The planner cannot see how
many ids that gathers: it expects few rows, so a term common among customers is counted
exactly rather than estimated, and costs hundreds of ms where the join found a page at once.

Columns on one table, the list's own or a related one (a wallet's customer's email and name),
keep the join, which that table's indexes answer. So does a substring shorter than a trigram
(no trigram index serves it, and it matches most rows, so the order walk finds a page at once).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import InstrumentedAttribute, RelationshipProperty
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal


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
Condition = Callable[[Any], Any]
"""What a column must meet for its row to be found: equal to the term, or contain it."""

TRIGRAM = 3
"""Characters: a shorter substring cannot be looked up in a trigram index."""
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
    found = kind_of(term)
    if found is not None and exact.get(found[0]):
        kind, values = found
        fields: Sequence[Field] = exact[kind]
        indexed = True

        def condition(column: Any) -> Any:
            typed = [_as_stored(column, value) for value in values]
            return column.in_(typed) if len(typed) > 1 else column == typed[0]

    else:
        pattern = f"%{term}%"
        fields = searchable
        indexed = len(term) >= TRIGRAM

        def condition(column: Any) -> Any:
            return _text(column).ilike(pattern)

    if indexed and len({_table_of(field) for field in fields}) > 1:
        return stmt.where(_matching(model, fields, condition))
    joined: set[str] = set()
    conditions = []
    for field in fields:
        stmt, column = _resolve(stmt, model, field, joined)
        conditions.append(condition(column))
    return stmt.where(sa.or_(sa.false(), *conditions))


def _table_of(field: Field) -> str:
    """The relationship path to the table `field` lives on; "" for the model's own."""
    return field.rpartition(".")[0] if isinstance(field, str) else ""


def _matching(model: type[Any], fields: Sequence[Field], condition: Condition) -> Any:
    """`condition` on any of `fields`: on the model's own columns as is, on a related
    table's as the model's key among that table's matching rows, one lookup per table."""
    own: list[Any] = []
    related: dict[str, list[str]] = {}
    for field in fields:
        if _table_of(field):
            path, _, name = str(field).rpartition(".")
            related.setdefault(path, []).append(name)
        else:
            own.append(condition(getattr(model, field) if isinstance(field, str) else field))
    lookups = [_among(model, path, names, condition) for path, names in related.items()]
    return sa.or_(sa.false(), *own, *lookups)


def _among(model: type[Any], path: str, names: list[str], condition: Condition) -> Any:
    """The model's rows whose related row at `path` meets `condition` on one of `names`."""
    first, *rest = path.split(".")
    relationship: RelationshipProperty[Any] = getattr(model, first).property
    if relationship.secondary is not None or len(relationship.local_remote_pairs) != 1:
        raise ValueError(f"{model.__name__}.{first}: search through one foreign key only")
    ((local, remote),) = relationship.local_remote_pairs
    target = relationship.mapper.class_
    keys = sa.select(remote).select_from(target)
    for part in rest:
        hop = getattr(target, part)
        keys, target = keys.join(hop), hop.property.mapper.class_
    keys = keys.where(sa.or_(*(condition(getattr(target, name)) for name in names)))
    return AmongKeys(local, keys.correlate(None))


class AmongKeys(ColumnElement[bool]):
    """`column IN (SELECT ...)`; on PostgreSQL `column = ANY(ARRAY(SELECT ...))`, which the
    planner answers from an index on `column` (as one branch of a bitmap `OR`) instead of
    joining the subquery's rows to every row of the list's table."""

    inherit_cache = True
    type = sa.Boolean()
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("keys", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, keys: sa.Select) -> None:
        self.column = column
        self.keys = keys


@compiles(AmongKeys)
def _in(element: AmongKeys, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column.in_(element.keys), **kw)


@compiles(AmongKeys, "postgresql")
def _any_of_array(element: AmongKeys, compiler: SQLCompiler, **kw: Any) -> str:
    keys = sa.func.array(element.keys.scalar_subquery())
    return compiler.process(element.column == sa.any_(keys), **kw)


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
