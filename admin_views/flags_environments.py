"""Screens for flag environments and the flags' states in them (production's state is the
flag's own row, on the Feature flags screen). In the menu after Feature flags: modules are
read in name order."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from wtforms import validators

from admin_views.base import StaffView
from admin_views.flags import STATE_ACCESS, STATE_FORM_ARGS, STATE_FORM_OVERRIDES, STATE_WORDS
from admin_views.shared.actions import ActionContext, row_action
from admin_views.shared.filters import DateRangeFilter, RelatedFilter, YesNoFilter
from admin_views.shared.flag_history import STATE_HISTORY
from admin_views.shared.flag_targeting import FlagTargeting
from admin_views.shared.label_rows import own_label_rows
from admin_views.shared.restore import Restorable
from core.settings import ENVIRONMENT_KEY
from flags.definition import problems
from flags.environments import names_problem
from models.flags import STATE_FIELDS, FeatureFlag, FlagEnvironment, FlagEnvironmentState

MENU = "Feature flags"


class FlagEnvironmentAdmin(StaffView, model=FlagEnvironment):
    """Where app builds read flags. Adding one gives every flag a state there, off; an
    environment is renamed, never deleted, and its key never changes: app keys and
    FLAGS_ENVIRONMENT name it."""

    default_access = {
        "admin": ("*",),
        "operations": ("view", "create", "edit"),
        "marketing": ("view",),
        "support": ("view",),
        "analyst": ("view", "export"),
        "viewer": ("view",),
    }
    icon = "fa-solid fa-layer-group"
    can_delete = False
    column_list = [
        FlagEnvironment.name,
        FlagEnvironment.key,
        FlagEnvironment.position,
        FlagEnvironment.updated_at,
    ]
    column_searchable_list = [FlagEnvironment.key, FlagEnvironment.name]
    column_sortable_list = [FlagEnvironment.position, FlagEnvironment.key, FlagEnvironment.name]
    column_default_sort = [(FlagEnvironment.position, False)]
    form_columns = [FlagEnvironment.key, FlagEnvironment.name, FlagEnvironment.position]
    form_args = {
        "key": {"description": "e.g. qa: app keys and FLAGS_ENVIRONMENT name it; fixed once made"},
        "position": {
            "validators": [validators.Optional(), validators.NumberRange(min=0)],
            "description": "Where it shows among the environments, lowest first; empty puts "
            "it last",
        },
    }
    lowercase_fields = ("key",)

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        await super().on_model_change(data, model, is_created, request)
        key = data.get("key")
        if not is_created and key not in (None, model.key):
            raise self.refuse(
                request, {"key": "The key cannot change: app keys and FLAGS_ENVIRONMENT name it."}
            )
        if is_created and not ENVIRONMENT_KEY.fullmatch(str(key or "")):
            raise self.refuse(
                request,
                {"key": "Use 1 to 40 lower-case letters, digits, dots, dashes or underscores."},
            )
        if data.get("position") is None:
            async with self.session_maker() as db:
                last = await db.scalar(sa.select(sa.func.max(FlagEnvironment.position)))
            data["position"] = model.position if not is_created else (last or 0) + 10


class FlagEnvironmentStateAdmin(FlagTargeting, Restorable, StaffView, model=FlagEnvironmentState):
    """A flag's state in an environment other than production, edited with the flag form's
    rules and messages. States are made with their flag or environment, never by hand."""

    name = "Flag state"
    name_plural = "Flag states"
    default_access = STATE_ACCESS
    icon = "fa-solid fa-toggle-on"
    can_create = False
    can_delete = False
    column_list = [
        FlagEnvironmentState.flag,
        FlagEnvironmentState.environment,
        FlagEnvironmentState.enabled,
        FlagEnvironmentState.rollout_percentage,
        FlagEnvironmentState.platforms,
        FlagEnvironmentState.revision,
        FlagEnvironmentState.updated_at,
    ]
    column_sortable_list = [
        FlagEnvironmentState.rollout_percentage,
        FlagEnvironmentState.updated_at,
    ]
    column_default_sort = [(FlagEnvironmentState.updated_at, True)]
    column_formatters_detail = STATE_WORDS
    column_filters = [
        RelatedFilter(FlagEnvironmentState.flag_id, "Flag", label=FeatureFlag.key),
        RelatedFilter(
            FlagEnvironmentState.environment_id, "Environment", label=FlagEnvironment.name
        ),
        YesNoFilter(FlagEnvironmentState.enabled),
        DateRangeFilter(FlagEnvironmentState.updated_at, "Changed"),
    ]
    form_columns = [getattr(FlagEnvironmentState, name) for name in STATE_FIELDS]
    form_overrides = STATE_FORM_OVERRIDES
    # Variant names are the flag's, shared by every environment: here only weights and
    # payloads are edited.
    form_args = STATE_FORM_ARGS | {"variants": STATE_FORM_ARGS["variants"] | {"fixed_names": True}}
    history = STATE_HISTORY

    def flag_key_of(self, pk: uuid.UUID) -> sa.Select:
        return (
            sa.select(FeatureFlag.key)
            .join(FlagEnvironmentState, FlagEnvironmentState.flag_id == FeatureFlag.id)
            .where(FlagEnvironmentState.id == pk)
        )

    def form_edit_query(self, request: Request) -> sa.Select:
        # The form's title names the flag and the environment.
        return super().form_edit_query(request).options(*own_label_rows(self.model))

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        await super().on_model_change(data, model, is_created, request)
        flag = await self._flag_of(model)
        async with self.session_maker() as db:
            environment = await db.get(FlagEnvironment, model.environment_id)
        named = await self.targeting_problems(flag.key, environment.key, data)
        found = problems(data) | named
        if "variants" not in found and (wrong := names_problem(data.get("variants"), flag)):
            found["variants"] = wrong
        if found:
            raise self.refuse(request, found)
        model.revision = (model.revision or 0) + 1

    async def record(
        self, db: AsyncSession, request: Request, written: Any, extra: dict[str, Any]
    ) -> None:
        """The audit entry names the environment by its key, which never changes."""
        key = await db.scalar(
            sa.select(FlagEnvironment.key).where(FlagEnvironment.id == written.obj.environment_id)
        )
        await super().record(db, request, written, extra | {"environment": key})

    async def restore_said(self, db: AsyncSession, state: FlagEnvironmentState) -> dict[str, Any]:
        return {"environment": await _environment_key(db, state)}

    async def _flag_of(self, state: FlagEnvironmentState) -> FeatureFlag:
        async with self.session_maker() as db:
            flag = await db.get(FeatureFlag, state.flag_id)
        if flag is None:
            raise HTTPException(404)
        return flag

    @row_action("enable", "Enable", when=lambda state: not state.enabled)
    async def enable(
        self, db: AsyncSession, state: FlagEnvironmentState, _context: ActionContext
    ) -> dict[str, str]:
        state.enabled = True
        state.revision += 1
        return {"environment": await _environment_key(db, state)}

    @row_action(
        "disable",
        "Disable (kill switch)",
        confirm="Turn {record} off for every user now?",
        when=lambda state: state.enabled,
    )
    async def disable(
        self, db: AsyncSession, state: FlagEnvironmentState, _context: ActionContext
    ) -> dict[str, str]:
        state.enabled = False
        state.revision += 1
        return {"environment": await _environment_key(db, state)}


async def _environment_key(db: AsyncSession, state: FlagEnvironmentState) -> str | None:
    return await db.scalar(
        sa.select(FlagEnvironment.key).where(FlagEnvironment.id == state.environment_id)
    )
