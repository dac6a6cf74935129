"""The dashboard's figures as JSON: the same answers the pages draw.

Every route needs a signed-in staff member (bearer token or admin session) whose role has
`dashboard:view`. The range is `?days=7|30|90` (default 30) or `?from=&to=` (UTC days, both
ends included, YYYY-MM-DD from 1970 to 2999); money figures are for one `?currency=`
(default USD). Every parameter given is checked, even one that another overrides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from analytics import answers
from analytics.period import PRESETS, BadPeriodError, Period, period_from
from api.errors import ApiError
from api.security import require_staff
from core.database import Database
from models.base import utcnow

PERMISSION = ("dashboard", "view")
CURRENCY = re.compile(r"[A-Z]{3}")
DEFAULT_CURRENCY = "USD"
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
FIRST_DAY, LAST_DAY = date(1970, 1, 1), date(2999, 12, 31)
"""The days a range may name: the figures step whole periods and weeks either side of it,
which near the ends of `date`'s own range overflow."""


class BadQueryError(ValueError):
    """A query parameter the dashboard cannot use; the message says which and why."""


def _check_range_params(params: Mapping[str, str]) -> None:
    """Refuse what `period_from` would read leniently or choke on: `date.fromisoformat`
    also takes forms like 20261101, int() fails on digits such as '²', and `days` would
    go unread when `from`/`to` are given."""
    if "days" in params and params["days"] not in {str(days) for days in PRESETS}:
        raise BadQueryError(f"days must be one of {', '.join(map(str, PRESETS))}.")
    for name in ("from", "to"):
        if name not in params:
            continue
        day = _day(params[name])
        if day is None:
            raise BadQueryError("from and to must both be dates like 2026-11-01.")
        if not FIRST_DAY <= day <= LAST_DAY:
            raise BadQueryError(f"from and to must be between {FIRST_DAY} and {LAST_DAY}.")


def _day(text: str) -> date | None:
    if not DAY.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def read_query(params: Mapping[str, str]) -> tuple[Period, str]:
    """The period and currency a dashboard request asks for."""
    _check_range_params(params)
    try:
        period = period_from(params, utcnow().date())
    except BadPeriodError as error:
        raise BadQueryError(str(error)) from None
    currency = params.get("currency", DEFAULT_CURRENCY)
    if not CURRENCY.fullmatch(currency):
        raise BadQueryError("currency must be a three-letter code such as USD.")
    return period, currency


def _route(path: str, name: str) -> Route:
    question = answers.QUESTIONS[name]

    async def endpoint(request: Request) -> JSONResponse:
        await require_staff(request, PERMISSION)
        try:
            period, currency = read_query(request.query_params)
        except BadQueryError as error:
            raise ApiError(400, "bad_query", str(error)) from None
        database: Database = request.app.state.database
        async with database.session() as db:
            answer = await question(db, period, currency)
        return JSONResponse(answer, headers={"Cache-Control": "private, no-store"})

    return Route(path, endpoint, methods=["GET"], name=f"api:dashboard-{name}")


DASHBOARD = ("overview", "revenue", "funnel", "cohorts", "campaigns", "support", "merchants")
routes = [
    *(_route(f"/api/v1/admin/dashboard/{name}", name) for name in DASHBOARD),
    _route("/api/v1/admin/users/stats/overview", "users"),
]
