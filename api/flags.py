"""Feature flags for automation (a mobile team's CI, scripts): `/api/v1/admin/flags`.

List and read flags with every environment's state, create one, and change a state with
`PATCH` — through the screens' own save (`AuditedWrites.save_for`): the Feature flags
form (production, with the flag's own fields) or an environment's state form, filled in with
the body's fields and submitted as a staff member would. So the role's permissions, the
form's, the screen's and the database's rules and messages, four eyes (202 with the approval
request; turning a flag off never waits) and the audit entry are the screens' own.

A flag's ETag is a digest of every state's revision; a change sent with `If-Match` goes
ahead only while the flag is still as read (412 otherwise).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any, NoReturn, TypeVar

import sqlalchemy as sa
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_views.base import StaffView
from admin_views.parts.row_actions import NotRunError
from admin_views.parts.writes import REASON
from admin_views.shared.flag_copy import environments
from admin_views.shared.form_errors import FieldErrorsError
from api.actions import described, not_run, view_for
from api.bodies import explain
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import errors
from api.schemas.actions import ActionAsked
from api.schemas.flags import (
    NULLABLE,
    FlagBody,
    FlagCreate,
    FlagList,
    FlagPatch,
    FlagPath,
    FlagsQuery,
    IfMatch,
    StateBody,
)
from api.security import staff_acting
from auth.permissions import allows
from auth.sessions import Staff
from core.database import Database
from flags.definition import problems
from flags.environments import by_environment, state_of
from models.base import utcnow
from models.flags import (
    PRODUCTION,
    FeatureFlag,
    FlagEnvironment,
    FlagEnvironmentState,
    FlagState,
)

FLAGS = FeatureFlag.__tablename__
STATES = FlagEnvironmentState.__tablename__
NO_STORE = {"Cache-Control": "no-store"}
FLAG_FIELDS = frozenset({"name", "description", "flag_type", "requires_review"})
"""Fields of the flag itself, shared by its environments: set with production's state."""
Body = TypeVar("Body", bound=BaseModel)


async def list_flags(request: Request) -> Response:
    await _reader(request)
    try:
        query = FlagsQuery.model_validate(dict(request.query_params))
    except ValidationError as invalid:
        raise ApiError(400, "bad_query", explain(invalid.errors()[0])) from None
    stmt = sa.select(FeatureFlag).order_by(FeatureFlag.key).limit(query.limit + 1)
    if query.after is not None:
        stmt = stmt.where(FeatureFlag.key > query.after)
    if query.flag_type is not None:
        stmt = stmt.where(FeatureFlag.flag_type == query.flag_type)
    archived = FeatureFlag.archived_at.is_not(None)
    stmt = stmt.where(archived if query.archived else sa.not_(archived))
    if query.stale is not None:
        stale = FeatureFlag.stale_clause(utcnow())
        stmt = stmt.where(stale if query.stale else sa.not_(stale))
    async with _database(request).session() as db:
        if query.enabled is not None:
            stmt = await _enabled_in(db, stmt, query.environment, query.enabled)
        found = list(await db.scalars(stmt))
        listed = await bodies(db, request, found[: query.limit])
    more = len(found) > query.limit
    page = FlagList(flags=listed, next_after=listed[-1].key if more else None)
    return JSONResponse(
        page.model_dump(mode="json", exclude=None if more else {"next_after"}), headers=NO_STORE
    )


async def _enabled_in(db: AsyncSession, stmt: sa.Select, key: str, enabled: bool) -> sa.Select:
    if key == PRODUCTION:
        return stmt.where(FeatureFlag.enabled == enabled)
    environment = await db.scalar(sa.select(FlagEnvironment).where(FlagEnvironment.key == key))
    if environment is None:
        raise ApiError(400, "bad_query", f"There is no environment {key!r}.")
    return stmt.join(
        FlagEnvironmentState,
        (FlagEnvironmentState.flag_id == FeatureFlag.id)
        & (FlagEnvironmentState.environment_id == environment.id),
    ).where(FlagEnvironmentState.enabled == enabled)


async def read_flag(request: Request) -> Response:
    await _reader(request)
    async with _database(request).session() as db:
        flag = await _flag(db, request)
        [body] = await bodies(db, request, [flag])
    return _flag_answer(body)


async def create_flag(request: Request) -> Response:
    staff = await _reader(request)
    asked = await _fields(request, FlagCreate)
    values = _given(asked)
    reason = values.pop("reason", "")
    view = view_for(request, FLAGS)
    saved = await _saved(view.save_for(request, staff, None, values, reason))
    if saved.approval is not None:
        return await _sent_for_approval(request, saved.approval.id)
    async with _database(request).session() as db:
        flag = await db.get(FeatureFlag, saved.obj.id)
        [body] = await bodies(db, request, [flag])
    return _flag_answer(body, 201)


async def change_flag(request: Request) -> Response:
    staff = await _reader(request)
    asked = await _fields(request, FlagPatch)
    values = _given(asked)
    values.pop("environment", None)
    reason = values.pop("reason", "")
    async with _database(request).session() as db:
        flag = await _flag(db, request)
        held = request.headers.get("if-match")
        if held is not None:
            [current] = await bodies(db, request, [flag])
            if held.strip() not in ("*", etag(current)):
                raise ApiError(
                    412,
                    "precondition_failed",
                    f"{flag.key} changed since it was read (If-Match): read it again.",
                )
        view, pk = await _state_screen(db, request, flag, asked.environment, values)
    saved = await _saved(view.save_for(request, staff, pk, values, reason))
    if saved.approval is not None:
        return await _sent_for_approval(request, saved.approval.id)
    async with _database(request).session() as db:
        flag = await _flag(db, request)
        [body] = await bodies(db, request, [flag])
    return _flag_answer(body)


async def _state_screen(
    db: AsyncSession, request: Request, flag: FeatureFlag, key: str, values: dict[str, Any]
) -> tuple[StaffView, str]:
    """The screen whose form holds `flag`'s state in environment `key`, and the row's id:
    the flag's own form for production, the state's form for any other."""
    if key == PRODUCTION:
        return view_for(request, FLAGS), str(flag.id)
    environment = await db.scalar(sa.select(FlagEnvironment).where(FlagEnvironment.key == key))
    if environment is None:
        _refuse({"environment": f"There is no environment {key!r}."})
    shared = sorted(FLAG_FIELDS & set(values))
    if shared:
        _refuse(
            {
                name: f"The flag's {name} is shared by every environment: change it with "
                "production's state (leave environment out)."
                for name in shared
            }
        )
    state = await db.scalar(
        sa.select(FlagEnvironmentState).where(
            FlagEnvironmentState.flag_id == flag.id,
            FlagEnvironmentState.environment_id == environment.id,
        )
    )
    if state is None:
        raise ApiError(409, "conflict", f"{flag.key} has no state in {environment.name} yet.")
    return view_for(request, STATES), str(state.id)


async def _saved(saving: Any) -> Any:
    """The save's outcome; its refusal as the API answers it, nothing written."""
    try:
        return await saving
    except NotRunError as error:
        raise not_run(error) from None
    except FieldErrorsError as refused:
        fields = {("reason" if name == REASON else name): m for name, m in refused.errors.items()}
        _refuse(fields)


def _refuse(fields: dict[str, str]) -> NoReturn:
    said = " ".join(f"{name}: {message}" for name, message in fields.items())
    raise ApiError(422, "invalid", f"Nothing was changed. {said}", fields=fields)


async def _sent_for_approval(request: Request, approval_id: object) -> Response:
    asked = ActionAsked(approval_request=await described(request, approval_id))
    return JSONResponse(asked.model_dump(mode="json"), status_code=202, headers=NO_STORE)


async def _reader(request: Request) -> Staff:
    """The caller, who may read flags (every environment's state is on the same grid)."""
    staff = await staff_acting(request)
    if not allows(staff.permissions, FLAGS, "view"):
        raise ApiError(
            403, "forbidden", f"Your role may not view feature flags: it needs {FLAGS}:view."
        )
    return staff


async def _flag(db: AsyncSession, request: Request) -> FeatureFlag:
    key = str(request.path_params["key"])
    flag = await db.scalar(sa.select(FeatureFlag).where(FeatureFlag.key == key))
    if flag is None:
        raise ApiError(404, "not_found", f"There is no flag {key[:100]!r}.")
    return flag


async def _fields(request: Request, model: type[Body]) -> Body:
    """The body as `model`: 400 when it is no JSON object, 422 naming each field whose
    type, length or name is wrong."""
    try:
        raw: Any = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "parse_error", "The request body is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    try:
        asked = model.model_validate(raw)
    except ValidationError as invalid:
        _refuse({str(e["loc"][0]) if e["loc"] else "body": explain(e) for e in invalid.errors()})
    empty = sorted(n for n in asked.model_fields_set - NULLABLE if getattr(asked, n) is None)
    if empty:
        _refuse({name: f"'{name}' cannot be null: leave it out to keep it." for name in empty})
    # Checked as given first, with the form's messages: the form's rows can only hold rules
    # and variants of the right shape, so one of another shape is refused here.
    if found := problems(asked.model_dump(include=asked.model_fields_set)):
        _refuse(found)
    return asked


def _given(asked: BaseModel) -> dict[str, Any]:
    """The fields sent, as Python values, the rest left out."""
    return {name: getattr(asked, name) for name in asked.model_fields_set}


async def bodies(
    db: AsyncSession, request: Request, flags: Sequence[FeatureFlag]
) -> list[FlagBody]:
    """Each flag with its state in every environment, in two queries."""
    found = list(flags)
    if not found:
        return []
    places = await environments(db)
    stored = by_environment(
        await db.scalars(
            sa.select(FlagEnvironmentState).where(
                FlagEnvironmentState.flag_id.in_([flag.id for flag in found])
            )
        )
    )
    now = utcnow()
    return [
        FlagBody(
            key=flag.key,
            name=flag.name,
            description=flag.description,
            flag_type=flag.flag_type,
            requires_review=flag.requires_review,
            archived_at=flag.archived_at,
            stale_because=flag.stale_because(now),
            created_at=flag.created_at,
            updated_at=flag.updated_at,
            environments={
                environment.key: _state(state)
                for environment in places
                if (state := state_of(flag, environment, stored.get(flag.id, {}))) is not None
            },
            url=str(request.url_for("admin:details", identity="feature-flags", pk=str(flag.id))),
        )
        for flag in found
    ]


def _state(state: FlagState) -> StateBody:
    return StateBody(
        enabled=state.enabled,
        rollout_percentage=f"{state.rollout_percentage:.2f}",
        platforms=list(state.platforms or ()),
        min_app_version=state.min_app_version,
        max_app_version=state.max_app_version,
        allow_list=list(state.allow_list or ()),
        deny_list=list(state.deny_list or ()),
        rules=list(state.rules or ()),
        variants=list(state.variants or ()),
        default_value=state.default_value,
        starts_at=state.starts_at,
        ends_at=state.ends_at,
        included_segments=list(state.included_segments or ()),
        excluded_segments=list(state.excluded_segments or ()),
        prerequisites=list(state.prerequisites or ()),
        revision=state.revision,
    )


def etag(body: FlagBody) -> str:
    """A digest of every state's revision: any change of the flag moves one of them."""
    revisions = sorted((key, state.revision) for key, state in body.environments.items())
    text = json.dumps([body.key, revisions]).encode()
    return '"' + hashlib.blake2b(text, digest_size=16).hexdigest() + '"'


def _flag_answer(body: FlagBody, status: int = 200) -> Response:
    return JSONResponse(
        body.model_dump(mode="json"), status_code=status, headers=NO_STORE | {"ETag": etag(body)}
    )


def _database(request: Request) -> Database:
    return request.app.state.database


TAG = "Feature flags"
PATH = "/api/v1/admin/flags"
ONE = f"{PATH}/{{key}}"
READ = {
    401: errors.NOT_SIGNED_IN,
    403: Answer("The role may not view feature flags.", errors.ApiErrorBody, codes=("forbidden",)),
    503: errors.DATABASE_UNAVAILABLE,
}
NOT_FOUND = Answer("There is no flag with this key.", errors.ApiErrorBody, codes=("not_found",))
WRITE = {
    400: errors.BAD_JSON_BODY,
    401: errors.NOT_SIGNED_IN,
    403: Answer(
        "The role may not view flags or make this change (or, for a session, no CSRF "
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
ASKED = Answer(
    "Four eyes: an approval request was made instead; nothing changed yet.",
    ActionAsked,
    headers=("Cache-Control",),
)
RULES = (
    "The same rules as the Feature flags screen: the role's permissions on the flags' grid, "
    "the form's checks and messages, a second person for a flag that needs review (a "
    "permission flag, one marked for review, one rolled out past 50%) except when the "
    "change only turns it off, and an audit entry for every change. Through the admin "
    "session, send the page's CSRF token in X-CSRF-Token."
)
operations = [
    Operation(
        method="GET",
        path=PATH,
        name="api:flags",
        summary="Feature flags, by key, with every environment's state",
        tag=TAG,
        responses={
            200: Answer("A page of flags.", FlagList, headers=("Cache-Control",)),
            400: Answer(
                "A parameter out of range or an unknown environment; the message says which.",
                errors.ApiErrorBody,
                codes=("bad_query",),
            ),
            **READ,
        },
        security=STAFF,
        endpoint=list_flags,
        description="Pages by key: send the `next_after` of a page as `after` for the next. "
        "Archived flags are listed only when asked for; archive and unarchive one with the "
        "row actions `POST /api/v1/admin/feature_flags/actions/archive` (and `unarchive`).",
        query=FlagsQuery,
    ),
    Operation(
        method="POST",
        path=PATH,
        name="api:flag-create",
        summary="Create a flag (its state in every other environment starts off)",
        tag=TAG,
        responses={
            201: Answer("Made.", FlagBody, headers=("Cache-Control", "ETag")),
            202: ASKED,
            **WRITE,
        },
        security=STAFF,
        endpoint=create_flag,
        description=RULES,
        body=FlagCreate,
    ),
    Operation(
        method="GET",
        path=f"{PATH}/{{key}}",
        name="api:flag",
        summary="One flag with every environment's state",
        tag=TAG,
        responses={
            200: Answer("The flag.", FlagBody, headers=("Cache-Control", "ETag")),
            404: NOT_FOUND,
            **READ,
        },
        security=STAFF,
        endpoint=read_flag,
        path_params=FlagPath,
    ),
    Operation(
        method="PATCH",
        path=f"{PATH}/{{key}}",
        name="api:flag-change",
        summary="Change a flag's state in one environment (production unless named)",
        tag=TAG,
        responses={
            200: Answer(
                "Changed: the flag as it is now.", FlagBody, headers=("Cache-Control", "ETag")
            ),
            202: ASKED,
            404: NOT_FOUND,
            409: Answer(
                "The flag has no state in that environment yet.",
                errors.ApiErrorBody,
                codes=("conflict",),
            ),
            412: Answer(
                "If-Match: the flag changed since it was read.",
                errors.ApiErrorBody,
                codes=("precondition_failed",),
            ),
            **WRITE,
        },
        security=STAFF,
        endpoint=change_flag,
        description=RULES + " Fields left out keep their values; the key never changes.",
        path_params=FlagPath,
        headers=IfMatch,
        body=FlagPatch,
    ),
]
