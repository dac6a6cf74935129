"""Personal data: the columns that hold it, how it reads masked, and whether the request being
answered may see it.

A model declares a column personal once, `mapped_column(..., info=personal(Kind.EMAIL))`,
and a JSON column holding another table's values (the audit trail's before and after) says
which column names that table, `info=values_of("entity_type")`. Every door that shows a row
(lists, record pages, labels, search, lookups, exports, the API, the audit trail's words)
shows such values through `shown_in` / `shown`: staff whose role lacks `pii:view` see
`e•••@example.com`, `+1 ••• ••• 0238`, `••••-••-••`. The stored value is never changed, and
edit forms leave out what the staff member may not see, so a mask is never saved back.

Whether the current request may see it is a context variable, set around each staff request
by the session middleware (like the staff member's time zone). Code outside a staff request
(the command line, jobs, migrations) sees values as they are.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from functools import cache
from typing import Any

import phonenumbers
import sqlalchemy as sa

PERMISSION = ("pii", "view")
"""The permission that shows personal data: `pii:view`."""
DOT = "•"
_revealed: ContextVar[bool] = ContextVar("personal_data_revealed", default=True)


class Kind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"


def personal(kind: Kind) -> dict[str, Kind]:
    """A column's `info` that declares it personal."""
    return {"personal": kind}


def values_of(table_column: str) -> dict[str, str]:
    """A JSON column's `info`: it holds values of the table named in `table_column`."""
    return {"personal_values_of": table_column}


@cache
def columns_of(model: type[Any]) -> dict[str, Kind]:
    """The personal columns a model declares, by attribute name."""
    return {
        column.key: column.info["personal"]
        for column in sa.inspect(model).columns
        if "personal" in column.info
    }


@cache
def kind_of(model: type[Any], path: str) -> Kind | None:
    """The kind of a column named on `model`, or along related rows (`wallet.user.email`)."""
    *steps, name = path.split(".")
    for step in steps:
        relationship = sa.inspect(model).relationships.get(step)
        if relationship is None:
            return None
        model = relationship.mapper.class_
    return columns_of(model).get(name)


def mask(kind: Kind, value: Any) -> str:
    text = str(value)
    if kind is Kind.EMAIL:
        local, at, domain = text.partition("@")
        return f"{local[:1]}{DOT * 3}{at}{domain}" if at else DOT * 3
    if kind is Kind.PHONE:
        digits = "".join(c for c in text if c.isdigit())
        last = digits[-4:] if len(digits) > 4 else ""
        try:
            country = f"+{phonenumbers.parse(text).country_code} "
        except phonenumbers.NumberParseException:
            country = ""
        return f"{country}{DOT * 3} {DOT * 3} {last}".rstrip()
    return f"{DOT * 4}-{DOT * 2}-{DOT * 2}"


def revealed() -> bool:
    """Whether the request being answered may see personal data."""
    return _revealed.get()


@contextmanager
def showing(allowed: bool) -> Iterator[None]:
    """Personal data shown (or masked) while the block runs: one staff request."""
    token = _revealed.set(allowed)
    try:
        yield
    finally:
        _revealed.reset(token)


def label(obj: Any) -> str:
    """A row's label as anyone may read it, personal data masked: for labels kept and read
    later by others (an approval request's)."""
    with showing(False):
        return str(obj)


def allow(allowed: bool) -> None:
    """Decide for the rest of the request, once its caller is known (a bearer token); the
    enclosing `showing` restores the outer value when the request ends."""
    _revealed.set(allowed)


def shown(kind: Kind | None, value: Any) -> Any:
    """`value` as this request may see it: masked when it is personal and the role may not."""
    if kind is None or value is None or _revealed.get():
        return value
    return mask(kind, value)


def shown_column(model: type[Any], path: str, value: Any) -> Any:
    """A value of `model`'s column at `path`, read on its own (a query's scalar), as shown."""
    return shown(kind_of(model, path), value)


def shown_fields(model: type[Any] | None, values: dict[str, Any]) -> dict[str, Any]:
    """A row's values by column (an audit entry's before/after), personal ones as shown."""
    if _revealed.get() or model is None:
        return values
    kinds = columns_of(model)
    return {key: shown(kinds.get(key), value) for key, value in values.items()}


def hidden_in(obj: Any, path: str) -> bool:
    """Whether `path` of `obj` holds personal data this request may not see."""
    if _revealed.get():
        return False
    model = type(obj)
    column = sa.inspect(model).columns.get(path)
    values = column is not None and "personal_values_of" in column.info
    return values or kind_of(model, path) is not None


def shown_in(obj: Any, path: str, value: Any) -> Any:
    """`value`, read from `obj` at `path` (a column, or along related rows), as shown."""
    if _revealed.get() or value is None:
        return value
    model = type(obj)
    kind = kind_of(model, path)
    if kind is not None:
        return mask(kind, value)
    column = sa.inspect(model).columns.get(path)
    table_column = column.info.get("personal_values_of") if column is not None else None
    if table_column and isinstance(value, dict):
        return shown_fields(model_of_table(model, getattr(obj, table_column)), value)
    return value


def model_of_table(model: type[Any], table: str) -> type[Any] | None:
    """The class mapped to `table` in `model`'s registry."""
    return _tables(model.registry).get(table)


@cache
def _tables(registry: Any) -> dict[str, type[Any]]:
    return {mapper.local_table.name: mapper.class_ for mapper in registry.mappers}
