"""Pages of figures for a date range, drawn from the same answers the JSON API serves
(`analytics.answers`), so a page and its API always agree.

Each page says when its figures were counted (`as_of`, now: the rollups add what happened
since their last refresh, except today's daily active users, counted at that refresh), that
days are UTC days, and which day or week of its charts is still running.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqladmin import expose
from starlette.requests import Request
from starlette.responses import Response

from admin_views.base import StaffPage
from admin_views.shared.formatting import money
from analytics import answers, cohorts, rollups
from analytics.asked import DEFAULT_CURRENCY, BadQueryError, read_query
from analytics.period import PRESETS, Period
from core.database import Database
from models.base import utcnow

DEFAULT_DAYS = 30


class InsightsPage(StaffPage):
    """A page of figures for one date range, behind `dashboard:view`."""

    resource = "dashboard"
    category = "Insights"
    category_icon = "fa-solid fa-chart-simple"
    leads_menu = True
    is_home: ClassVar[bool] = False
    """The page `/admin/` shows to whoever may see it."""
    template: ClassVar[str]
    shows: ClassVar[tuple[str, ...]]
    """The answers on the page, by name (`analytics.answers.QUESTIONS`)."""
    shows_money: ClassVar[bool] = True
    """Says which currency the amounts are in."""
    ACTIVE_USERS: ClassVar[frozenset[str]] = frozenset({"overview", "users"})
    """Answers with daily active users: today's count stays as of the last rollup refresh
    (a distinct count cannot be topped up), so their pages say when that was."""

    path: ClassVar[str]
    """Where the page is, under /admin; with `identity`, a page declares its route."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "path" in cls.__dict__:

            async def show(self: InsightsPage, request: Request) -> Response:
                return await self.render(request)

            cls.show = expose(cls.path, identity=cls.identity)(show)  # type: ignore[attr-defined]

    async def render(self, request: Request) -> Response:
        error = None
        as_of = utcnow()
        today = as_of.date()  # the analytics count UTC days
        try:
            period, currency = read_query(request.query_params)
        except BadQueryError as bad:
            error = str(bad)
            period = Period.ending(today, DEFAULT_DAYS)
            currency = DEFAULT_CURRENCY
        database: Database = request.app.state.database
        async with database.session() as db:
            with rollups.one_reading(db):
                data: dict[str, Any] = {
                    name: await answers.QUESTIONS[name](db, period, currency) for name in self.shows
                }
                covered = await rollups.coverage(db)
        partial = today if period.first <= today <= period.last else None
        context = {
            "title": self.name,
            "period": period,
            "currency": currency,
            "shows_money": self.shows_money,
            "presets": PRESETS,
            "preset": period.days if period.last == today else None,
            "range_error": error,
            "data": data,
            "as_of": as_of,
            "today": partial,
            "this_week": cohorts.monday(partial) if partial else None,
            "active_users_as_of": self._active_users_as_of(covered, period, partial),
        }
        return await self.templates.TemplateResponse(
            request, self.template, context, status_code=400 if error else 200
        )

    def _active_users_as_of(
        self, covered: rollups.Coverage | None, period: Period, today: date | None
    ) -> datetime | None:
        """When today's daily active users were counted, if the page shows them from the
        rollups' stored open day; None when they are live or not on the page."""
        if today is None or covered is None or not self.ACTIVE_USERS & set(self.shows):
            return None
        return covered.as_of if covered.open_day(period) == today else None


def figure(value: Any, unit: str = "count", currency: str | None = None) -> str:
    """An answer's value as staff read it: `12,345`, `1,234.50 USD`, `53.4%`; `-` for none."""
    if value is None:
        return "-"
    number = Decimal(str(value))
    if unit == "money":
        return money(number, currency)
    if unit == "ratio":
        return f"{number * 100:,.1f}%"
    if unit == "change":
        return f"{number * 100:+,.1f}%"
    return f"{number:,.1f}" if number != number.to_integral_value() else f"{number:,.0f}"


def heat(share: Any) -> str:
    """A cohort cell's background: the larger the share, the deeper the blue."""
    if share is None:
        return ""
    strength = min(Decimal(1), Decimal(str(share)))
    return f"background-color: rgba(32, 107, 196, {0.08 + float(strength) * 0.8:.3f})"


def duration(seconds: float | None) -> str:
    """`3 d 4 h`, `2 h 15 min`, `12 min`, `40 s`; `-` when there is none."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"
