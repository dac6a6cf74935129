"""Row actions through the staff API: `POST /api/v1/admin/{table}/actions/{action}`.

The same choke point as the screens' action pages (`RowActions.run_for`, then `act`): the
role's `<table>:action:<action>` permission, the rows' states, the action's form, and four
eyes, which makes a guarded use an approval request (202) instead of a change.
"""

from __future__ import annotations

from sqlalchemy.orm import selectinload
from starlette.datastructures import MultiDict
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_views.base import StaffView
from admin_views.parts.row_actions import NotRunError, Refused
from admin_views.shared import four_eyes
from api.bodies import read_body
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import errors
from api.schemas.actions import ActionAsked, ActionDone, ActionPath, ActionRequest
from api.schemas.approvals import ApprovalBody
from api.security import staff_acting
from core.database import Database
from models.approvals import ApprovalRequest

STATUS = {
    Refused.FORBIDDEN: 403,
    Refused.NOT_FOUND: 404,
    Refused.INVALID: 422,
    Refused.CONFLICT: 409,
    Refused.ALREADY_DONE: 409,
}
"""How the API answers an action that ran nothing; the code is the refusal's name."""


WITH_STAFF = [selectinload(ApprovalRequest.maker), selectinload(ApprovalRequest.checker)]
"""What an approval request's answer names: who asked, who decided."""


def not_run(error: NotRunError) -> ApiError:
    return ApiError(STATUS[error.refused], str(error.refused), str(error))


def view_for(request: Request, table: str) -> StaffView:
    """The screen of `table`, whose rules the API keeps; 404 when there is none."""
    for view in request.app.state.admin.views:
        if isinstance(view, StaffView) and view.resource() == table:
            return view
    raise ApiError(404, "not_found", f"There is no table {table!r}.")


def form_values(params: dict[str, object]) -> MultiDict:
    """JSON values as a form would submit them: text, one entry per list item."""
    pairs = []
    for name, value in params.items():
        for item in value if isinstance(value, list) else [value]:
            if item is None:
                continue
            text = ("true" if item else "false") if isinstance(item, bool) else str(item)
            pairs.append((name, text))
    return MultiDict(pairs)


async def described(request: Request, approval_id: object) -> ApprovalBody:
    """An approval request as the API shows it, read now."""
    database: Database = request.app.state.database
    async with database.session() as db:
        approval = await db.get(ApprovalRequest, approval_id, options=WITH_STAFF)
    assert approval is not None, "described only after reading or making the request"
    return approval_body(request, approval)


def approval_body(request: Request, approval: ApprovalRequest) -> ApprovalBody:
    return ApprovalBody(
        id=approval.id,
        status=approval.status,
        table=approval.table_name,
        action=approval.action,
        action_label=approval.action_label,
        record_label=approval.record_label,
        rule=approval.rule,
        preview=approval.preview,
        reason=approval.reason,
        maker=approval.maker.email,
        checker=approval.checker.email if approval.checker else None,
        created_at=approval.created_at,
        expires_at=approval.expires_at,
        decided_at=approval.decided_at,
        decision_reason=approval.decision_reason,
        executed_at=approval.executed_at,
        outcome=approval.outcome,
        url=four_eyes.page_url(request, approval.id),
    )


async def run_action(request: Request) -> Response:
    staff = await staff_acting(request)
    body = await read_body(request, ActionRequest)
    view = view_for(request, request.path_params["table"])
    try:
        outcome = await view.run_for(
            request,
            staff,
            request.path_params["action"],
            body.ids,
            form_values(body.params),
            body.idempotency_key,
        )
    except NotRunError as error:
        raise not_run(error) from None
    headers = {"Cache-Control": "no-store"}
    if outcome.approval is not None:
        asked = ActionAsked(approval_request=await described(request, outcome.approval.id))
        return JSONResponse(asked.model_dump(mode="json"), status_code=202, headers=headers)
    done = ActionDone(done=True, made=outcome.made)
    return JSONResponse(done.model_dump(mode="json"), headers=headers)


REFUSED = {
    403: Answer(
        "The role may not take this action (or, for a session, no CSRF token was sent).",
        errors.ApiErrorBody,
        codes=("forbidden", "csrf_failed"),
    ),
    404: Answer(
        "No such table, action or row; the message says which.",
        errors.ApiErrorBody,
        codes=("not_found",),
    ),
    409: Answer(
        "A row's state or the action's own rules refuse it now, or this key's submission "
        "was done before; nothing was changed.",
        errors.ApiErrorBody,
        codes=("conflict", "already_done"),
    ),
    422: Answer(
        "The action's form refuses a parameter (or several rows for a one-row action); the "
        "message names each field.",
        errors.ApiErrorBody,
        codes=("invalid",),
    ),
}
"""What the action doors answer when the action ran nothing: nothing was written."""

operations = [
    Operation(
        method="POST",
        path="/api/v1/admin/{table}/actions/{action}",
        name="api:admin-action",
        summary="Take a row action, or ask a second person for it",
        tag="Actions",
        responses={
            200: Answer("Done, for every row.", ActionDone, headers=("Cache-Control",)),
            202: Answer(
                "Four eyes: an approval request was made instead; nothing changed yet.",
                ActionAsked,
                headers=("Cache-Control",),
            ),
            400: errors.BAD_JSON_BODY,
            401: errors.NOT_SIGNED_IN,
            **REFUSED,
            413: errors.PAYLOAD_TOO_LARGE,
            503: errors.DATABASE_UNAVAILABLE,
        },
        security=STAFF,
        endpoint=run_action,
        description="The same rules as the admin's action pages: the role needs "
        "`<table>:action:<action>`, every row must be in a state the action applies to, and "
        "`params` must pass the action's form. A guarded use (money above a threshold, more "
        "than 50 rows at once, enabling a staff account, a reviewed flag) needs a reason in "
        "`params` and makes an approval request instead. Through the admin session, send "
        "the page's CSRF token in X-CSRF-Token.",
        path_params=ActionPath,
        body=ActionRequest,
    )
]
