"""Approval requests (four eyes) through the staff API: list, read, approve, reject, withdraw.

Each decision is the Approvals screen's own row action, run through the same choke point
(`RowActions.run_for`, then the screen's `act`), so the rules hold whatever the door: the
approver holds the approve permission and the change's own, is not the one who asked, the
request is pending and unexpired, and it runs exactly once. A staff member who may not
approve reads only the requests they asked, as on the screen.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_views.parts.row_actions import NotRunError
from admin_views.shared import four_eyes
from api.actions import REFUSED, WITH_STAFF, approval_body, described, not_run, view_for
from api.bodies import explain, read_body
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import errors
from api.schemas.approvals import (
    Approval,
    ApprovalBody,
    ApprovalList,
    ApprovalPath,
    ApprovalsQuery,
    Decided,
    Rejection,
)
from api.security import staff_acting
from core.database import Database
from models.approvals import ApprovalRequest

Endpoint = Callable[[Request], Awaitable[Response]]
NO_STORE = {"Cache-Control": "no-store"}
NOT_FOUND = "There is no such approval request, or it is not yours to see."


async def list_approvals(request: Request) -> Response:
    await staff_acting(request)
    try:
        query = ApprovalsQuery.model_validate(dict(request.query_params))
    except ValidationError as invalid:
        raise ApiError(400, "bad_query", explain(invalid.errors()[0])) from None
    stmt = (
        visible(request)
        .options(*WITH_STAFF)
        .order_by(ApprovalRequest.created_at.desc(), ApprovalRequest.id.desc())
        .limit(query.limit)
    )
    if query.status is not None:
        stmt = stmt.where(ApprovalRequest.status == query.status)
    async with _database(request).session() as db:
        async with db.begin():
            await four_eyes.expire_overdue(db)
        found = list((await db.execute(stmt)).scalars())
    listed = ApprovalList(approval_requests=[approval_body(request, a) for a in found])
    return JSONResponse(listed.model_dump(mode="json"), headers=NO_STORE)


async def read_approval(request: Request) -> Response:
    await staff_acting(request)
    body = await _visible_one(request)
    return JSONResponse(body.model_dump(mode="json"), headers=NO_STORE)


async def approve(request: Request) -> Response:
    return await _decide(request, "approve", Approval)


async def reject(request: Request) -> Response:
    return await _decide(request, "reject", Rejection)


async def withdraw(request: Request) -> Response:
    return await _decide(request, "withdraw", None)


async def _decide(request: Request, action: str, body: type[BaseModel] | None) -> Response:
    """The Approvals screen's action `action` on one request, for the caller, its form
    filled in from `body`."""
    staff = await staff_acting(request)
    values = await _form(request, body)
    view = view_for(request, four_eyes.TABLE)
    approval_id = str(request.path_params["id"])
    form = MultiDict([(name, str(value)) for name, value in values.items() if value is not None])
    try:
        outcome = await view.run_for(request, staff, action, [approval_id], form)
    except NotRunError as error:
        raise not_run(error) from None
    decided = Decided(
        approval_request=await described(request, request.path_params["id"]), made=outcome.made
    )
    return JSONResponse(decided.model_dump(mode="json"), headers=NO_STORE)


def visible(request: Request) -> sa.Select:
    """The requests the caller may see: the Approvals screen's own list query."""
    return view_for(request, four_eyes.TABLE).list_query(request)


async def _visible_one(request: Request) -> ApprovalBody:
    approval_id: uuid.UUID = request.path_params["id"]
    stmt = visible(request).where(ApprovalRequest.id == approval_id).options(*WITH_STAFF)
    async with _database(request).session() as db:
        approval = (await db.execute(stmt)).scalars().first()
    if approval is None:
        raise ApiError(404, "not_found", NOT_FOUND)
    return approval_body(request, approval)


async def _form(request: Request, model: type[BaseModel] | None) -> dict[str, object]:
    """The body's fields, read as `model`; its defaults when it has one for every field and
    the body is left out."""
    if model is None:
        return {}
    optional = not any(field.is_required() for field in model.model_fields.values())
    if optional and not (await request.body()).strip():
        return model().model_dump()
    return (await read_body(request, model)).model_dump()


def _database(request: Request) -> Database:
    return request.app.state.database


TAG = "Approvals"
LISTED = {401: errors.NOT_SIGNED_IN, 503: errors.DATABASE_UNAVAILABLE}
ONE = {
    404: Answer(
        "No such request, or one the caller may not see.",
        errors.ApiErrorBody,
        codes=("not_found",),
    )
}


def _decision(
    endpoint: Endpoint, summary: str, description: str, body: type[BaseModel] | None
) -> Operation:
    name = endpoint.__name__
    return Operation(
        method="POST",
        path=f"/api/v1/admin/approvals/{{id:uuid}}/{name}",
        name=f"api:approval-{name}",
        summary=summary,
        tag=TAG,
        responses={
            200: Answer(
                "Decided: the request as it stands now.", Decided, headers=("Cache-Control",)
            ),
            **({400: errors.BAD_JSON_BODY} if body else {}),
            **LISTED,
            **REFUSED,
            413: errors.PAYLOAD_TOO_LARGE,
        },
        security=STAFF,
        endpoint=endpoint,
        description=description + " Through the admin session, send the page's CSRF token in "
        "X-CSRF-Token.",
        path_params=ApprovalPath,
        body=body,
        body_required=body is Rejection,
    )


operations = [
    Operation(
        method="GET",
        path="/api/v1/admin/approvals",
        name="api:approvals",
        summary="Approval requests the caller may see",
        tag=TAG,
        responses={
            200: Answer("Newest first.", ApprovalList, headers=("Cache-Control",)),
            400: Answer(
                "A parameter out of range; the message says which.",
                errors.ApiErrorBody,
                codes=("bad_query",),
            ),
            **LISTED,
        },
        security=STAFF,
        endpoint=list_approvals,
        description="Every request for staff who may approve; only their own for the rest. "
        "Requests past their expiry read as expired.",
        query=ApprovalsQuery,
    ),
    Operation(
        method="GET",
        path="/api/v1/admin/approvals/{id:uuid}",
        name="api:approval",
        summary="One approval request",
        tag=TAG,
        responses={
            200: Answer("The request.", ApprovalBody, headers=("Cache-Control",)),
            **LISTED,
            **ONE,
        },
        security=STAFF,
        endpoint=read_approval,
        path_params=ApprovalPath,
    ),
    _decision(
        approve,
        "Approve a request: the change runs now, once",
        "Needs approval_requests:action:approve and the change's own permission, and not to "
        "have asked it. The change runs in the same transaction, by its rules of this "
        "moment; when they refuse it, the request is marked failed (409). An export waits "
        "for its download by the staff member who asked.",
        Approval,
    ),
    _decision(
        reject,
        "Reject a request, saying why",
        "The same permissions as approving; nothing changes.",
        Rejection,
    ),
    _decision(
        withdraw,
        "Withdraw a request one asked",
        "Only the staff member who asked, while it is pending; nothing changes.",
        None,
    ),
]
