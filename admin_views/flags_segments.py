"""Segments: audiences flags include or exclude, on their own screen. In the menu after
the flags and their environments: modules are read in name order."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin_views.base import StaffView
from admin_views.flags import STATE_ACCESS, STATE_WORDS
from admin_views.parts.writes import Written
from admin_views.shared import rule_builder
from admin_views.shared.actions import ActionRefusedError
from admin_views.shared.filters import DateRangeFilter
from admin_views.shared.flag_history import STATE_HISTORY
from admin_views.shared.restore import Restorable
from flags.definition import problems
from flags.uses import in_words, segment_uses
from models.flag_segments import FlagSegment

MENU = "Feature flags"


class FlagSegmentAdmin(Restorable, StaffView, model=FlagSegment):
    """An audience defined once: its rules and lists. A change reaches every flag using it
    at once (their states' revisions move on), a restore of one of its versions too; one in
    use is never deleted."""

    name = "Segment"
    name_plural = "Segments"
    default_access = STATE_ACCESS
    icon = "fa-solid fa-users-viewfinder"
    column_list = [
        FlagSegment.name,
        FlagSegment.key,
        FlagSegment.rules,
        FlagSegment.revision,
        FlagSegment.updated_at,
    ]
    column_searchable_list = [FlagSegment.key, FlagSegment.name, FlagSegment.description]
    column_sortable_list = [FlagSegment.name, FlagSegment.key, FlagSegment.updated_at]
    column_default_sort = [(FlagSegment.name, False)]
    column_filters = [DateRangeFilter(FlagSegment.updated_at, "Changed")]
    form_columns = [
        FlagSegment.key,
        FlagSegment.name,
        FlagSegment.description,
        FlagSegment.rules,
        FlagSegment.allow_list,
        FlagSegment.deny_list,
    ]
    column_formatters = {FlagSegment.rules: STATE_WORDS["rules"]}
    column_formatters_detail = {FlagSegment.rules: STATE_WORDS["rules"]}
    form_overrides = {"rules": rule_builder.RulesField}
    form_args = {
        "key": {"description": "e.g. beta-testers: flags name it; fixed once made"},
        "rules": {
            "default": list,
            "description": "A user is in the segment when every rule matches; with none, only "
            "the allow-list is; type a value and press Enter (or a comma) to add it",
        },
        "allow_list": {"description": "User ids always in the segment"},
        "deny_list": {"description": "User ids never in the segment, whatever else says"},
    }
    lowercase_fields = ("key",)
    detail_panels = ["staff/panels/segment_uses.html"]
    history = STATE_HISTORY

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        await super().on_model_change(data, model, is_created, request)
        if not is_created and data.get("key") not in (None, model.key):
            raise self.refuse(request, {"key": "The key cannot change: flags name it."})
        if found := problems(data):
            raise self.refuse(request, found)
        if not is_created:
            model.revision = (model.revision or 0) + 1

    async def record(
        self, db: AsyncSession, request: Request, written: Written, extra: dict[str, Any]
    ) -> None:
        """The audit entry of a change names the flags it refreshed."""
        if written.was is not None:
            extra = extra | await _refreshed(db, written.obj.key)
        await super().record(db, request, written, extra)

    async def restore_said(self, db: AsyncSession, segment: FlagSegment) -> dict[str, Any]:
        """A restore's audit entry names the flags it refreshed, as an edit's does."""
        return await _refreshed(db, segment.key)

    async def on_model_delete(self, model: Any, request: Request) -> None:
        """A segment in use stays until no flag names it, in any environment."""
        async with self.session_maker() as db:
            uses = await db.run_sync(lambda sync: segment_uses(sync, model.key))
        if uses:
            raise ActionRefusedError(
                f"{model.name} cannot be deleted: {in_words(uses)} use it. Take it out of "
                "their segments first."
            )
        await super().on_model_delete(model, request)

    async def details_context(self, request: Request) -> dict[str, Any]:
        context = await super().details_context(request)
        async with self.session_maker() as db:
            segment = await db.get(FlagSegment, uuid.UUID(request.path_params["pk"]))
            if segment is None:
                return context
            key = segment.key
            uses = await db.run_sync(lambda sync: segment_uses(sync, key))
        return context | {
            "segment_uses": [
                {
                    "flag": use.flag.key,
                    "environment": use.environment.name,
                    "how": "included" if key in (use.state.included_segments or ()) else "excluded",
                    "url": str(
                        request.url_for(
                            "admin:details", identity="feature-flags", pk=str(use.flag.id)
                        )
                    ),
                }
                for use in uses
            ]
        }


async def _refreshed(db: AsyncSession, key: str) -> dict[str, str]:
    """What a change's audit entry says of the flags using the segment `key`, if any."""
    uses = await db.run_sync(lambda sync: segment_uses(sync, key))
    return {"refreshed": in_words(uses)} if uses else {}
