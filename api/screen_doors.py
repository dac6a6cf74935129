"""What the management API's doors onto a screen share (api/flags.py, api/segments.py): the
body read as the screen's form fields, the screen's own save or delete called for the
caller (`AuditedWrites.save_for`, `delete_for`) with its refusals answered as JSON (422
with each field's message, 403, 404, 409), four eyes' 202, the ETag and `If-Match`, and
the answers the OpenAPI document names for all of them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_views.parts.row_actions import NotRunError
from admin_views.parts.writes import REASON
from admin_views.shared.form_errors import FieldErrorsError
from api.actions import described, not_run
from api.bodies import explain
from api.errors import ApiError
from api.operations import Answer
from api.schemas import errors
from api.schemas.actions import ActionAsked
from api.security import staff_acting
from auth.permissions import allows
from auth.sessions import Staff
from core.database import Database
from flags.definition import problems

NO_STORE = {"Cache-Control": "no-store"}
Body = TypeVar("Body", bound=BaseModel)
Done = TypeVar("Done")
Keyed = TypeVar("Keyed")


async def reader(request: Request, table: str, called: str) -> Staff:
    """The caller, who may view `table` (`called`, as staff name its rows): every door
    here needs that first, the screen's own rules the rest."""
    staff = await staff_acting(request)
    if not allows(staff.permissions, table, "view"):
        raise ApiError(403, "forbidden", f"Your role may not view {called}: it needs {table}:view.")
    return staff


async def fields(
    request: Request, model: type[Body], nullable: frozenset[str] = frozenset()
) -> Body:
    """The body as `model`: 400 when it is no JSON object, 422 naming each field whose
    type, length or name is wrong, or which is null and not `nullable`."""
    try:
        raw: Any = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "parse_error", "The request body is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    try:
        asked = model.model_validate(raw)
    except ValidationError as invalid:
        refuse(_first_faults(invalid))
    empty = sorted(n for n in asked.model_fields_set - nullable if getattr(asked, n) is None)
    if empty:
        refuse({name: f"'{name}' cannot be null: leave it out to keep it." for name in empty})
    # Checked as given first, with the form's messages: the form's rows can only hold rules
    # and variants of the right shape, so one of another shape is refused here.
    if found := problems(asked.model_dump(include=asked.model_fields_set)):
        refuse(found)
    return asked


def _first_faults(invalid: ValidationError) -> dict[str, str]:
    """Each field's first fault, said of the field. A field that may be left out is
    `X | None`, and pydantic says why each side of the union refused the value: the
    first is about the field's own type, the second ("should be None") about nothing."""
    faults: dict[str, str] = {}
    for error in invalid.errors():
        name = str(error["loc"][0]) if error["loc"] else "body"
        if name not in faults:
            faults[name] = explain(error | {"loc": (name,)})
    return faults


def given(asked: BaseModel) -> dict[str, Any]:
    """The fields sent, as Python values, the rest left out."""
    return {name: getattr(asked, name) for name in asked.model_fields_set}


async def through_screen(doing: Awaitable[Done]) -> Done:
    """The screen's save or delete, done; its refusal as the API answers it, nothing
    written."""
    try:
        return await doing
    except NotRunError as error:
        raise not_run(error) from None
    except FieldErrorsError as refused:
        refuse({("reason" if name == REASON else name): m for name, m in refused.errors.items()})


async def by_key(db: AsyncSession, request: Request, model: type[Keyed], noun: str) -> Keyed:
    """The row whose `key` the door's path names, or the API's 404 naming it."""
    key = str(request.path_params["key"])
    found = await db.scalar(sa.select(model).where(model.key == key))
    if found is None:
        raise ApiError(404, "not_found", f"There is no {noun} {key[:100]!r}.")
    return found


def refuse(fields: dict[str, str]) -> NoReturn:
    said = " ".join(f"{name}: {message}" for name, message in fields.items())
    raise ApiError(422, "invalid", f"Nothing was changed. {said}", fields=fields)


async def sent_for_approval(request: Request, approval_id: object) -> Response:
    asked = ActionAsked(approval_request=await described(request, approval_id))
    return JSONResponse(asked.model_dump(mode="json"), status_code=202, headers=NO_STORE)


def etag(*parts: Any) -> str:
    """A strong validator of a record read through the API: a digest of what moves with
    every change of it (its revisions)."""
    text = json.dumps(list(parts)).encode()
    return '"' + hashlib.blake2b(text, digest_size=16).hexdigest() + '"'


def still_as_read(request: Request, current: str, record: str) -> None:
    """412 unless `If-Match` is absent, `*`, or the `current` ETag of `record`."""
    held = request.headers.get("if-match")
    if held is not None and held.strip() not in ("*", current):
        raise ApiError(
            412,
            "precondition_failed",
            f"{record} changed since it was read (If-Match): read it again.",
        )


def answer(body: BaseModel, tag: str, status: int = 200) -> Response:
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers=NO_STORE | {"ETag": tag}
    )


def database(request: Request) -> Database:
    return request.app.state.database


def read_answers(called: str) -> dict[int, Answer]:
    """What a reading door answers besides its record: `called` is the rows' name."""
    return {
        401: errors.NOT_SIGNED_IN,
        403: Answer(f"The role may not view {called}.", errors.ApiErrorBody, codes=("forbidden",)),
        503: errors.DATABASE_UNAVAILABLE,
    }


def write_answers(called: str) -> dict[int, Answer]:
    """What a changing door answers besides its record."""
    return {
        400: errors.BAD_JSON_BODY,
        401: errors.NOT_SIGNED_IN,
        403: Answer(
            f"The role may not view {called} or make this change (or, for a session, no CSRF "
            "token was sent).",
            errors.ApiErrorBody,
            codes=("forbidden", "csrf_failed"),
        ),
        413: errors.PAYLOAD_TOO_LARGE,
        422: Answer(
            "A field is refused, with the form's own message in `fields` (the same as on the "
            "screen); nothing was changed.",
            errors.ApiErrorBody,
            codes=("invalid",),
            required=("fields",),
        ),
        503: errors.DATABASE_UNAVAILABLE,
    }


def changed_since(called: str) -> Answer:
    return Answer(
        f"If-Match: the {called} changed since it was read.",
        errors.ApiErrorBody,
        codes=("precondition_failed",),
    )


ASKED = Answer(
    "Four eyes: an approval request was made instead; nothing changed yet.",
    ActionAsked,
    headers=("Cache-Control",),
)
