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

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from admin_views.base import StaffView
from admin_views.shared.flag_copy import environments
from api.actions import view_for
from api.bodies import explain
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import IfMatch, errors
from api.schemas.flags import (
    NULLABLE,
    FlagBody,
    FlagCreate,
    FlagList,
    FlagPatch,
    FlagPath,
    FlagsQuery,
    StateBody,
)
from api.screen_doors import (
    ASKED,
    NO_STORE,
    answer,
    by_key,
    changed_since,
    database,
    etag,
    fields,
    given,
    read_answers,
    reader,
    refuse,
    sent_for_approval,
    still_as_read,
    through_screen,
    write_answers,
)
from auth.sessions import Staff
from flags.environments import by_environment, state_of
from flags.usage import last_evaluated_of
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
FLAG_FIELDS = frozenset({"name", "description", "flag_type", "requires_review"})
"""Fields of the flag itself, shared by its environments: set with production's state."""


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
    async with database(request).session() as db:
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
    async with database(request).session() as db:
        flag = await by_key(db, request, FeatureFlag, "flag")
        [body] = await bodies(db, request, [flag])
    return _flag_answer(body)


async def create_flag(request: Request) -> Response:
    staff = await _reader(request)
    asked = await fields(request, FlagCreate, NULLABLE)
    values = given(asked)
    reason = values.pop("reason", "")
    view = view_for(request, FLAGS)
    saved = await through_screen(view.save_for(request, staff, None, values, reason))
    if saved.approval is not None:
        return await sent_for_approval(request, saved.approval.id)
    async with database(request).session() as db:
        flag = await db.get(FeatureFlag, saved.obj.id)
        [body] = await bodies(db, request, [flag])
    return _flag_answer(body, 201)


async def change_flag(request: Request) -> Response:
    staff = await _reader(request)
    asked = await fields(request, FlagPatch, NULLABLE)
    values = given(asked)
    values.pop("environment", None)
    reason = values.pop("reason", "")
    async with database(request).session() as db:
        flag = await by_key(db, request, FeatureFlag, "flag")
        if "if-match" in request.headers:
            [current] = await bodies(db, request, [flag])
            still_as_read(request, _etag(current), flag.key)
        view, pk = await _state_screen(db, request, flag, asked.environment, values)
    saved = await through_screen(view.save_for(request, staff, pk, values, reason))
    if saved.approval is not None:
        return await sent_for_approval(request, saved.approval.id)
    async with database(request).session() as db:
        flag = await by_key(db, request, FeatureFlag, "flag")
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
        refuse({"environment": f"There is no environment {key!r}."})
    shared = sorted(FLAG_FIELDS & set(values))
    if shared:
        refuse(
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


async def _reader(request: Request) -> Staff:
    """The caller, who may read flags (every environment's state is on the same grid)."""
    return await reader(request, FLAGS, "feature flags")


async def bodies(
    db: AsyncSession, request: Request, flags: Sequence[FeatureFlag]
) -> list[FlagBody]:
    """Each flag with its state in every environment, and when it was last evaluated (for
    its stale reason), in three queries."""
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
    evaluated = await last_evaluated_of(db, [flag.key for flag in found])
    now = utcnow()
    return [
        FlagBody(
            key=flag.key,
            name=flag.name,
            description=flag.description,
            flag_type=flag.flag_type,
            requires_review=flag.requires_review,
            archived_at=flag.archived_at,
            stale_because=flag.stale_because(now, evaluated.get(flag.key)),
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


def _etag(body: FlagBody) -> str:
    """A digest of every state's revision: any change of the flag moves one of them."""
    return etag(body.key, sorted((key, state.revision) for key, state in body.environments.items()))


def _flag_answer(body: FlagBody, status: int = 200) -> Response:
    return answer(body, _etag(body), status)


TAG = "Feature flags"
PATH = "/api/v1/admin/flags"
ONE = f"{PATH}/{{key}}"
READ = read_answers("feature flags")
NOT_FOUND = Answer("There is no flag with this key.", errors.ApiErrorBody, codes=("not_found",))
WRITE = write_answers("flags")
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
            412: changed_since("flag"),
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
