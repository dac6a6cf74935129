"""The dashboard's figures as JSON: the same answers the pages draw.

Every route needs a signed-in staff member (bearer token or admin session) whose role has
`dashboard:view`. The range is `?days=7|30|90` (default 30) or `?from=&to=` (UTC days, both
ends included); money figures are for one `?currency=` (default USD).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from analytics import answers
from analytics.period import BadPeriodError, Period, period_from
from api.errors import ApiError
from api.security import require_staff
from core.database import Database
from models.base import utcnow

PERMISSION = ("dashboard", "view")
CURRENCY = re.compile(r"[A-Z]{3}")
DEFAULT_CURRENCY = "USD"


class BadQueryError(ValueError):
    """A query parameter the dashboard cannot use; the message says which and why."""


def read_query(params: Mapping[str, str]) -> tuple[Period, str]:
    """The period and currency a dashboard request asks for."""
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
