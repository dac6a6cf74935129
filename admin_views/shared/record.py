"""How one record reads on its page: fields grouped by kind, JSON as a readable structure.

A view may declare its own `detail_groups`; otherwise each field lands in a group by what it
holds, so a new table's page is organised without a line of configuration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape

from admin_views.shared.labels import humanize
from models.base import FixedPoint, UtcDateTime

DETAILS, STATUS, MONEY, DATES, DATA, RECORD = (
    "Details",
    "Status",
    "Money",
    "Dates",
    "Data",
    "Record",
)
ORDER = (DETAILS, STATUS, MONEY, DATES, DATA, RECORD)
RECORD_FIELDS = frozenset({"id", "created_at", "updated_at"})
STATUS_NAMES = ("status", "enabled", "is_active")
STATE_WORDS = {"enabled": ("enabled", "disabled"), "is_active": ("active", "disabled")}
"""How a yes/no state field reads as a badge."""
EMPTY = Markup('<span class="text-secondary">—</span>')


@dataclass(frozen=True)
class FieldGroup:
    title: str
    fields: list[str]


def _kind(model: type[Any], name: str) -> str:
    mapper = sa.inspect(model)
    if name in RECORD_FIELDS:
        return RECORD
    column = mapper.columns.get(name)
    if column is None:
        return DETAILS  # a relationship: the record it points to
    kind = column.type
    if isinstance(kind, sa.Enum | sa.Boolean):
        return STATUS
    if isinstance(kind, FixedPoint) or name == "currency":
        return MONEY
    if isinstance(kind, UtcDateTime):
        return DATES
    if isinstance(kind, sa.JSON) and not isinstance(kind, sa.ARRAY):
        return DATA
    return DETAILS


def field_groups(
    model: type[Any], names: list[str], declared: dict[str, list[Any]] | None
) -> list[FieldGroup]:
    """The detail page's sections, in reading order, none empty; every field in one."""
    if declared:
        placed = {
            title: [field if isinstance(field, str) else field.key for field in fields]
            for title, fields in declared.items()
        }
        rest = [name for name in names if all(name not in f for f in placed.values())]
        groups = [FieldGroup(t, [n for n in f if n in names]) for t, f in placed.items()]
        return [g for g in [*groups, FieldGroup(RECORD, rest)] if g.fields]
    by_kind: dict[str, list[str]] = {title: [] for title in ORDER}
    for name in names:
        by_kind[_kind(model, name)].append(name)
    return [FieldGroup(title, fields) for title, fields in by_kind.items() if fields]


def status_field(model: type[Any], declared: str | None) -> str | None:
    """The field whose value is the record's state, shown as a badge by its title."""
    if declared:
        return declared
    columns = sa.inspect(model).columns
    return next((name for name in STATUS_NAMES if name in columns), None)


def state_word(name: str, value: bool) -> str:
    yes, no = STATE_WORDS.get(name, ("yes", "no"))
    return yes if value else no


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def readable(value: Any) -> Markup:
    """A JSON value as staff read it: keys as labels, lists as items, never raw braces."""
    if is_empty(value):
        return EMPTY
    if isinstance(value, dict):
        rows = Markup("").join(
            Markup("<dt>{}</dt><dd>{}</dd>").format(humanize(str(key)), readable(item))
            for key, item in value.items()
        )
        return Markup('<dl class="staff-data">{}</dl>').format(rows)
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return Markup(" ").join(
                Markup('<span class="badge bg-secondary-lt">{}</span>').format(item)
                for item in value
            )
        items = Markup("").join(Markup("<li>{}</li>").format(readable(item)) for item in value)
        return Markup('<ol class="staff-data-list">{}</ol>').format(items)
    if isinstance(value, bool):
        return Markup("Yes") if value else Markup("No")
    return escape(value)
