"""The dashboard's figures as JSON: the same answers the pages draw.

Every route needs a signed-in staff member (bearer token or admin session) whose role has
`dashboard:view`. The range is `?days=7|30|90` (default 30) or `?from=&to=` (UTC days, both
ends included, YYYY-MM-DD from 1970 to 2999); money figures are for one `?currency=`
(default USD). The parameters are `analytics.asked.DashboardQuery`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from analytics import answers, rollups
from analytics.asked import BadQueryError, DashboardQuery, read_query
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import errors
from api.schemas.dashboard import ANSWERS
from api.security import require_staff
from core.database import Database

PERMISSION = ("dashboard", "view")


def _endpoint(name: str) -> Callable[[Request], Awaitable[Response]]:
    question = answers.QUESTIONS[name]

    async def endpoint(request: Request) -> Response:
        await require_staff(request, PERMISSION)
        try:
            period, currency = read_query(request.query_params)
        except BadQueryError as error:
            raise ApiError(400, "bad_query", str(error)) from None
        database: Database = request.app.state.database
        async with database.session() as db:
            with rollups.one_reading(db):
                answer = await question(db, period, currency)
        return JSONResponse(answer, headers={"Cache-Control": "private, no-store"})

    return endpoint


def _operation(path: str, name: str) -> Operation:
    return Operation(
        method="GET",
        path=path,
        name=f"api:dashboard-{name}",
        summary=f"Dashboard: {name}",
        tag="Dashboard",
        responses={
            200: Answer("The figures for the range.", ANSWERS[name], headers=("Cache-Control",)),
            400: Answer(
                "A parameter the dashboard cannot use; the message says which.",
                errors.ApiErrorBody,
                codes=("bad_query",),
            ),
            401: errors.NOT_SIGNED_IN,
            403: Answer(
                "The role may not view the dashboard.", errors.ApiErrorBody, codes=("forbidden",)
            ),
            503: errors.DATABASE_UNAVAILABLE,
        },
        security=STAFF,
        endpoint=_endpoint(name),
        description="Needs the dashboard:view permission. The range is days, or from and to "
        "together; money is in one currency.",
        query=DashboardQuery,
    )


DASHBOARD = ("overview", "revenue", "funnel", "cohorts", "campaigns", "support", "merchants")
PATHS = {
    **{f"/api/v1/admin/dashboard/{name}": name for name in DASHBOARD},
    "/api/v1/admin/users/stats/overview": "users",
}
operations = [_operation(path, name) for path, name in PATHS.items()]
