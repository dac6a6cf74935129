"""Segments for automation (a mobile team's CI, scripts): `/api/v1/admin/segments`.

List and read segments with the flags using them, create one, change any of its fields
with `PATCH` and delete one with `DELETE` — through the Segments screen's own save and
delete (`AuditedWrites.save_for`, `delete_for`), its form filled in with the body's fields
and submitted as a staff member would. So the role's permissions, the form's, the screen's
and the database's rules and messages, the refresh of every flag using a changed segment
(their revisions move on, and the feed's ETags with them), the refusal to delete one in use
(naming the flags) and the audit entry are the screen's own.

A segment's ETag is a digest of its key and revision; a change or delete sent with
`If-Match` goes ahead only while the segment is still as read (412 otherwise).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.actions import view_for
from api.bodies import explain
from api.errors import ApiError
from api.operations import STAFF, Answer, Operation
from api.schemas import IfMatch, errors
from api.schemas.segments import (
    SegmentBody,
    SegmentCreate,
    SegmentList,
    SegmentPatch,
    SegmentPath,
    SegmentsQuery,
    UseBody,
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
    sent_for_approval,
    still_as_read,
    through_screen,
    write_answers,
)
from auth.sessions import Staff
from flags.uses import segments_uses
from models.flag_segments import FlagSegment

SEGMENTS = FlagSegment.__tablename__


async def list_segments(request: Request) -> Response:
    await _reader(request)
    try:
        query = SegmentsQuery.model_validate(dict(request.query_params))
    except ValidationError as invalid:
        raise ApiError(400, "bad_query", explain(invalid.errors()[0])) from None
    stmt = sa.select(FlagSegment).order_by(FlagSegment.key).limit(query.limit + 1)
    if query.after is not None:
        stmt = stmt.where(FlagSegment.key > query.after)
    async with database(request).session() as db:
        found = list(await db.scalars(stmt))
        listed = await bodies(db, request, found[: query.limit])
    more = len(found) > query.limit
    page = SegmentList(segments=listed, next_after=listed[-1].key if more else None)
    return JSONResponse(
        page.model_dump(mode="json", exclude=None if more else {"next_after"}), headers=NO_STORE
    )


async def read_segment(request: Request) -> Response:
    await _reader(request)
    async with database(request).session() as db:
        [body] = await bodies(db, request, [await by_key(db, request, FlagSegment, "segment")])
    return _segment_answer(body)


async def create_segment(request: Request) -> Response:
    staff = await _reader(request)
    values = given(await fields(request, SegmentCreate))
    view = view_for(request, SEGMENTS)
    saved = await through_screen(view.save_for(request, staff, None, values))
    # The screen's rules decide whether a second person is asked; the API keeps them.
    if saved.approval is not None:
        return await sent_for_approval(request, saved.approval.id)
    async with database(request).session() as db:
        [body] = await bodies(db, request, [await db.get(FlagSegment, saved.obj.id)])
    return _segment_answer(body, 201)


async def change_segment(request: Request) -> Response:
    staff = await _reader(request)
    values = given(await fields(request, SegmentPatch))
    pk = await _as_read(request)
    saved = await through_screen(view_for(request, SEGMENTS).save_for(request, staff, pk, values))
    if saved.approval is not None:
        return await sent_for_approval(request, saved.approval.id)
    async with database(request).session() as db:
        [body] = await bodies(db, request, [await by_key(db, request, FlagSegment, "segment")])
    return _segment_answer(body)


async def delete_segment(request: Request) -> Response:
    staff = await _reader(request)
    pk = await _as_read(request)
    await through_screen(view_for(request, SEGMENTS).delete_for(request, staff, pk))
    return Response(status_code=204, headers=NO_STORE)


async def _as_read(request: Request) -> str:
    """The id of the segment the path names, while it is as `If-Match` says it was read."""
    async with database(request).session() as db:
        segment = await by_key(db, request, FlagSegment, "segment")
        if "if-match" in request.headers:
            [current] = await bodies(db, request, [segment])
            still_as_read(request, _etag(current), segment.key)
    return str(segment.id)


async def _reader(request: Request) -> Staff:
    return await reader(request, SEGMENTS, "segments")


async def bodies(
    db: AsyncSession, request: Request, segments: Sequence[FlagSegment]
) -> list[SegmentBody]:
    """Each segment with the flag states using it, from one reading of every state."""
    found = list(segments)
    if not found:
        return []
    uses = await db.run_sync(segments_uses)
    return [
        SegmentBody(
            key=segment.key,
            name=segment.name,
            description=segment.description,
            rules=list(segment.rules or ()),
            allow_list=list(segment.allow_list or ()),
            deny_list=list(segment.deny_list or ()),
            revision=segment.revision,
            created_at=segment.created_at,
            updated_at=segment.updated_at,
            used_by=[
                UseBody(
                    flag=use.flag.key,
                    environment=use.environment.key,
                    how="included"
                    if segment.key in (use.state.included_segments or ())
                    else "excluded",
                )
                for use in uses.get(segment.key, [])
            ],
            url=str(request.url_for("admin:details", identity="flag-segments", pk=str(segment.id))),
        )
        for segment in found
    ]


def _etag(body: SegmentBody) -> str:
    """Its revision moves with every change of the segment."""
    return etag(body.key, body.revision)


def _segment_answer(body: SegmentBody, status: int = 200) -> Response:
    return answer(body, _etag(body), status)


TAG = "Segments"
PATH = "/api/v1/admin/segments"
ONE = f"{PATH}/{{key}}"
READ = read_answers("segments")
NOT_FOUND = Answer("There is no segment with this key.", errors.ApiErrorBody, codes=("not_found",))
WRITE = write_answers("segments")
RULES = (
    "The same rules as the Segments screen: the role's permissions on the segments' grid, "
    "the form's checks and messages, and an audit entry for every change. Through the "
    "admin session, send the page's CSRF token in X-CSRF-Token."
)
operations = [
    Operation(
        method="GET",
        path=PATH,
        name="api:segments",
        summary="Segments, by key, with the flags using them",
        tag=TAG,
        responses={
            200: Answer("A page of segments.", SegmentList, headers=("Cache-Control",)),
            400: Answer(
                "A parameter out of range; the message says which.",
                errors.ApiErrorBody,
                codes=("bad_query",),
            ),
            **READ,
        },
        security=STAFF,
        endpoint=list_segments,
        description="Pages by key: send the `next_after` of a page as `after` for the next.",
        query=SegmentsQuery,
    ),
    Operation(
        method="POST",
        path=PATH,
        name="api:segment-create",
        summary="Create a segment",
        tag=TAG,
        responses={
            201: Answer("Made.", SegmentBody, headers=("Cache-Control", "ETag")),
            202: ASKED,
            **WRITE,
        },
        security=STAFF,
        endpoint=create_segment,
        description=RULES,
        body=SegmentCreate,
    ),
    Operation(
        method="GET",
        path=ONE,
        name="api:segment",
        summary="One segment with the flags using it",
        tag=TAG,
        responses={
            200: Answer("The segment.", SegmentBody, headers=("Cache-Control", "ETag")),
            404: NOT_FOUND,
            **READ,
        },
        security=STAFF,
        endpoint=read_segment,
        path_params=SegmentPath,
    ),
    Operation(
        method="PATCH",
        path=ONE,
        name="api:segment-change",
        summary="Change a segment's name, description, rules or lists",
        tag=TAG,
        responses={
            200: Answer(
                "Changed: the segment as it is now.",
                SegmentBody,
                headers=("Cache-Control", "ETag"),
            ),
            202: ASKED,
            404: NOT_FOUND,
            412: changed_since("segment"),
            **WRITE,
        },
        security=STAFF,
        endpoint=change_segment,
        description=RULES + " Fields left out keep their values; the key never changes. "
        "Every flag using the segment changes with it: its states' revisions move on.",
        path_params=SegmentPath,
        headers=IfMatch,
        body=SegmentPatch,
    ),
    Operation(
        method="DELETE",
        path=ONE,
        name="api:segment-delete",
        summary="Delete a segment no flag uses",
        tag=TAG,
        responses={
            204: Answer("Deleted.", headers=("Cache-Control",)),
            404: NOT_FOUND,
            409: Answer(
                "Flags use it: the message names each, with the environments where it is "
                "used, as the screen says; nothing was deleted.",
                errors.ApiErrorBody,
                codes=("conflict",),
            ),
            412: changed_since("segment"),
            **{status: WRITE[status] for status in (401, 403, 503)},
        },
        security=STAFF,
        endpoint=delete_segment,
        description="The same rules as the Segments screen's delete: the role needs "
        "flag_segments:delete, and a segment any flag's state includes or excludes stays. "
        "Audited. Through the admin session, send the page's CSRF token in X-CSRF-Token.",
        path_params=SegmentPath,
        headers=IfMatch,
    ),
]
