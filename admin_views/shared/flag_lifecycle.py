"""A flag's lifecycle on the Feature flags screen: the stale and archived badges, the list's
Stale and Archived filters (answered by the database), and archiving and unarchiving (the
screen's row actions; flags are archived, never deleted).

A flag is stale when past its type's lifetime, settled fully on or off in production for 30
days, or not evaluated by any door for 30 days (`FeatureFlag.stale_because`); when each flag
shown was last evaluated is read once per page, for the list's rows together."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup, escape
from sqladmin import ModelView
from sqladmin.pagination import Pagination
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin_views.shared.formatting import badge
from flags.usage import last_evaluated_of
from models.base import utcnow
from models.flags import FeatureFlag

ARCHIVE_CONFIRM = (
    "Archive {record}? No app is served it from now on; it stays here, with its history, "
    "and can be unarchived."
)
UNARCHIVE_CONFIRM = "Unarchive {record}? Apps are served it again, in the state it has now."


class LastEvaluated(ModelView):
    """For the flags' screen: when each flag shown was last evaluated, read with the page
    (the list's rows in one query, the flag's page in one) for `type_and_age`."""

    async def list(self, request: Request) -> Pagination:
        pagination = await super().list(request)
        await _read_last_evaluated(self, request, [flag.key for flag in pagination.rows])
        return pagination

    async def get_object_for_details(self, request: Request) -> Any:
        flag = await super().get_object_for_details(request)
        if flag is not None:
            await _read_last_evaluated(self, request, [flag.key])
        return flag


async def _read_last_evaluated(view: ModelView, request: Request, keys: list[str]) -> None:
    """Adds `keys` to the request's `last_evaluated` (None for never), reading only those
    not read yet: SQLAdmin loads a flag's page's row twice."""
    if not hasattr(request.state, "last_evaluated"):
        request.state.last_evaluated = {}
    known: dict[str, datetime | None] = request.state.last_evaluated
    asked = [key for key in keys if key not in known]
    if not asked:
        return
    async with view.session_maker() as db:
        found = await last_evaluated_of(db, asked)
    known.update({key: found.get(key) for key in asked})


def type_and_age(flag: FeatureFlag, _name: str, request: Request) -> Markup:
    """The flag's type, and whether it is archived or stale, saying why (on a line of its
    own, so a narrow cell never squeezes the badges); when it was last evaluated is the
    page's (`LastEvaluated`)."""
    shown = badge(flag.flag_type)
    if flag.archived_at is not None:
        shown += Markup(' <span class="badge bg-secondary-lt">archived</span>')
    why = flag.stale_because(utcnow(), request.state.last_evaluated[flag.key])
    if not why:
        return shown
    said = escape(why)
    return (
        Markup('<span class="d-flex flex-wrap align-items-center gap-1">')
        + shown
        + Markup(' <span class="badge bg-red-lt" title="')
        + said
        + Markup('">stale</span><small class="w-100 text-secondary" data-stale-because>')
        + said
        + Markup("</small></span>")
    )


class StaleFilter:
    """Flags past their type's lifetime, settled fully on or off in production for 30 days,
    or not evaluated for 30 days (`FeatureFlag.stale_clause`), asked of the database."""

    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"
    parameter_name = "stale"
    title = "Stale"

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        return [("__all", "All"), ("yes", "Stale"), ("no", "Not stale")]

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        value = request.query_params.get(self.parameter_name)
        stale = FeatureFlag.stale_clause(utcnow())
        if value == "yes":
            return query.where(stale)
        if value == "no":
            return query.where(sa.not_(stale))
        return query


class ArchivedFilter:
    """Archived flags are left out of the list unless asked for."""

    has_operator = False
    template = "sqladmin/filters/lookup_filter.html"
    parameter_name = "archived"
    title = "Archived"
    CHOICES = {"no": "Not archived", "yes": "Archived", "all": "All"}

    async def lookups(
        self, request: Request, model: Any, run_query: Callable[..., Any]
    ) -> list[tuple[str, str]]:
        return list(self.CHOICES.items())

    def apply(self, query: sa.Select, request: Request) -> sa.Select:
        value = request.query_params.get(self.parameter_name) or "no"
        if value not in self.CHOICES:
            raise HTTPException(400, f"{self.title}: {value!r} is not one of the choices.")
        if value == "all":
            return query
        archived = FeatureFlag.archived_at.is_not(None)
        return query.where(archived if value == "yes" else sa.not_(archived))
