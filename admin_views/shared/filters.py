"""List filters: choices, yes/no, a date range, and a drill-down on a foreign key.

Each has SQLAdmin's filter shape (`title`, `parameter_name`, `template`, `lookups`) and
applies itself to the list query with `apply(query, request)`, so one filter may read several
query parameters (a range reads `<name>_from` and `<name>_to`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from sqlalchemy.orm import InstrumentedAttribute, selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin_views.shared.labels import humanize
from models.base import UtcDateTime

ALL = "__all"
PAGING = ("page", "after", "before")
"""Where the list was: a new filter starts it again at its first page."""


@dataclass(frozen=True)
class ChoiceLink:
    label: Any
    url: str
    """The list with this choice made, or, for the choice in use, with it cleared."""
    chosen: bool


def choice_links(
    request: Request, parameter: str, lookups: list[tuple[str, Any]]
) -> list[ChoiceLink]:
    """A filter's choices as links, each the list's address with that choice made: what
    Starlette's `include_query_params` answers, worked out once for the whole filter (a
    list page offers dozens of choices, and parsing its query for each was a tenth of it)."""
    kept = [
        (key, value)
        for key, value in request.query_params.multi_items()
        if key not in PAGING and key != parameter
    ]
    base = str(request.url.replace(query=""))
    prefix = urlencode(kept)
    cleared = f"{base}?{prefix}" if prefix else base
    joiner = f"{base}?{prefix}&" if prefix else f"{base}?"
    chosen = request.query_params.get(parameter)
    return [
        ChoiceLink(label, cleared, True)
        if chosen == value
        else ChoiceLink(label, joiner + urlencode([(parameter, value)]), False)
        for value, label in lookups
    ]


class ChoiceFilter:
    """One of a column's allowed values (its CHECK'd enumeration, or given)."""

    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"

    def __init__(
        self,
        column: InstrumentedAttribute[Any],
        values: list[str] | None = None,
        title: str | None = None,
    ) -> None:
        self.column = column
        self.parameter_name = column.key
        self.title = title or humanize(column.key)
        enum_values = getattr(column.type, "enums", None)
        self.values = values or list(enum_values or [])

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        return [(ALL, "All")] + [(value, value.replace("_", " ")) for value in self.values]

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        value = request.query_params.get(self.parameter_name)
        if not value or value == ALL:
            return query
        if value not in self.values:
            raise HTTPException(400, f"{self.title}: {value!r} is not one of the choices.")
        return query.where(self.column == value)


class YesNoFilter:
    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"

    def __init__(
        self,
        column: Any,
        title: str | None = None,
        parameter_name: str | None = None,
        *,
        yes: str = "Yes",
        no: str = "No",
    ) -> None:
        """`column` is a boolean column or any boolean SQL expression."""
        self.column = column
        self.parameter_name = parameter_name or column.key
        self.title = title or humanize(self.parameter_name)
        self.labels = (yes, no)

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        return [(ALL, "All"), ("yes", self.labels[0]), ("no", self.labels[1])]

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        value = request.query_params.get(self.parameter_name)
        if value == "yes":
            return query.where(self.column)
        if value == "no":
            return query.where(sa.not_(self.column))
        return query


class DateRangeFilter:
    """Rows whose timestamp falls between two days, both included (UTC days)."""

    has_operator = False
    template = "staff/filters/date_range.html"

    def __init__(self, column: InstrumentedAttribute[Any], title: str | None = None) -> None:
        self.column = column
        self.parameter_name = column.key
        self.title = title or humanize(column.key)
        self.start_parameter = f"{column.key}_from"
        self.end_parameter = f"{column.key}_to"

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        return []

    def _day(self, request: Request, name: str) -> date | None:
        raw = request.query_params.get(name, "").strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            raise HTTPException(400, f"{self.title}: {raw!r} is not a date (YYYY-MM-DD).") from None

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        start = self._day(request, self.start_parameter)
        end = self._day(request, self.end_parameter)
        if start and end and end < start:
            raise HTTPException(400, f"{self.title}: the range ends before it starts.")
        is_date = isinstance(self.column.type, sa.Date)
        if start:
            lower = start if is_date else datetime.combine(start, time(), UTC)
            query = query.where(self.column >= lower)
        if end:
            after = end + timedelta(days=1)
            upper = after if is_date else datetime.combine(after, time(), UTC)
            query = query.where(self.column < upper)
        return query


class RelatedFilter:
    """Rows that belong to one related row, e.g. a merchant's transactions.

    Big related tables offer no list of choices (they may hold millions): detail pages link
    here with the id. A small one (staff, roles, campaigns) lists its rows by `label`.
    """

    has_operator = False

    def __init__(
        self,
        column: InstrumentedAttribute[Any],
        title: str | None = None,
        *,
        label: InstrumentedAttribute[Any] | None = None,
    ) -> None:
        self.column = column
        self.parameter_name = column.key
        self.title = title or humanize(column.key)
        self.label = label
        self.template = (
            "sqladmin/filters/lookup_filter.html"
            if label is not None
            else "staff/filters/related.html"
        )

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        if self.label is None:
            return []
        target = self.label.class_
        rows = await run_query(sa.select(target.id, self.label).order_by(self.label))
        return [(ALL, "All")] + [(str(key), str(text)) for key, text in rows]

    async def chosen(self, request: Request, run_query: Callable[..., Any]) -> str | None:
        """The label of the row the list is narrowed to ("Erica Murphy · erica@…"), or
        None when it is not narrowed or the row is gone."""
        value = request.query_params.get(self.parameter_name)
        if not value or value == ALL:
            return None
        local = self.column.property.columns[0]
        relations = sa.inspect(self.column.class_).relationships
        relation = next(rel for rel in relations if local in rel.local_columns)
        target = relation.mapper.class_
        query = sa.select(target).where(target.id == self._id(value))
        for name in getattr(target, "label_loads", ()):
            query = query.options(selectinload(getattr(target, name)))
        found = await run_query(query)
        return str(found[0][0]) if found else None

    def _id(self, value: str) -> Any:
        try:
            return self.column.type.python_type(value)
        except (ValueError, TypeError):
            raise HTTPException(400, f"{self.title}: {value!r} is not an id.") from None

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        value = request.query_params.get(self.parameter_name)
        if not value or value == ALL:
            return query
        return query.where(self.column == self._id(value))


class DistinctValuesFilter:
    """The values a short-list column actually holds (metrics, audit actions)."""

    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"

    def __init__(
        self,
        column: InstrumentedAttribute[Any],
        title: str | None = None,
        label: Callable[[str], str] = str,
    ) -> None:
        self.column = column
        self.parameter_name = column.key
        self.title = title or humanize(column.key)
        self.label = label
        """How a stored value reads in the panel ("action:adjust_balance" as "Adjust balance")."""

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        rows = await run_query(sa.select(self.column).distinct().order_by(self.column).limit(200))
        named = sorted((self.label(str(value)), str(value)) for (value,) in rows)
        return [(ALL, "All")] + [(value, label) for label, value in named]

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        value = request.query_params.get(self.parameter_name)
        if not value or value == ALL:
            return query
        return query.where(self.column == value)


def from_columns(model: type[Any]) -> list[Any]:
    """The filters a screen gets when it declares none: a choice for each enumeration, yes/no
    for each flag, a date range for each timestamp."""
    found: list[Any] = []
    for column in sa.inspect(model).columns:
        if column.info.get("secret"):
            continue
        attribute = getattr(model, column.key)
        if isinstance(column.type, sa.Enum):
            found.append(ChoiceFilter(attribute))
        elif isinstance(column.type, sa.Boolean):
            found.append(YesNoFilter(attribute))
        elif isinstance(column.type, UtcDateTime):
            found.append(DateRangeFilter(attribute))
    return found
