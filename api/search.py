"""The search box as JSON: `GET /api/v1/admin/search?q=`, for a bearer token or the session.

The same answer as the admin's search box (admin_views/shared/find_anything.py), with the
same permissions: a table the role may not view is never searched.
"""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_views.shared.find_anything import BOUND_S, BadTermError, find_anything
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import errors
from api.schemas.search import SearchAnswer, SearchQuery
from api.security import require_staff


async def search(request: Request) -> Response:
    staff = await require_staff(request)
    try:
        findings = await find_anything(
            request, request.app.state.admin.views, staff, request.query_params.get("q")
        )
    except BadTermError as error:
        raise ApiError(400, "bad_query", str(error)) from None
    return JSONResponse(asdict(findings), headers={"Cache-Control": "private, no-store"})


operations = [
    Operation(
        method="GET",
        path="/api/v1/admin/search",
        name="api:admin-search",
        summary="Search every table the role may view",
        tag="Search",
        responses={
            200: Answer(
                "Hits grouped by table, best first.", SearchAnswer, headers=("Cache-Control",)
            ),
            400: Answer(
                "Empty, too long, a control character, or no letter or digit; the message "
                "says which.",
                errors.ApiErrorBody,
                codes=("bad_query",),
            ),
            401: errors.NOT_SIGNED_IN,
            503: errors.DATABASE_UNAVAILABLE,
        },
        security=STAFF,
        endpoint=search,
        description="Each table is searched only for roles with its view permission; a table "
        f"slower than {BOUND_S} s is reported as still searching.",
        query=SearchQuery,
    )
]
