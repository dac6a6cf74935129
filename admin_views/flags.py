"""Screens for the mobile app's feature flags."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin_views.base import StaffView
from admin_views.shared.actions import ActionContext, ActionRefusedError, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, YesNoFilter
from models.flags import FeatureFlag

MENU = "Feature flags"


class FeatureFlagAdmin(StaffView, model=FeatureFlag):
    icon = "fa-solid fa-flag"
    column_list = [
        FeatureFlag.key,
        FeatureFlag.name,
        FeatureFlag.flag_type,
        FeatureFlag.enabled,
        FeatureFlag.rollout_percentage,
        FeatureFlag.platforms,
        FeatureFlag.revision,
        FeatureFlag.updated_at,
    ]
    column_searchable_list = [FeatureFlag.key, FeatureFlag.name, FeatureFlag.description]
    column_sortable_list = [FeatureFlag.key, FeatureFlag.rollout_percentage, FeatureFlag.updated_at]
    column_default_sort = [(FeatureFlag.updated_at, True)]
    column_filters = [
        ChoiceFilter(FeatureFlag.flag_type),
        YesNoFilter(FeatureFlag.enabled),
        DateRangeFilter(FeatureFlag.updated_at, "Changed"),
    ]
    form_columns = [
        FeatureFlag.key,
        FeatureFlag.name,
        FeatureFlag.description,
        FeatureFlag.flag_type,
        FeatureFlag.enabled,
        FeatureFlag.rollout_percentage,
        FeatureFlag.platforms,
        FeatureFlag.min_app_version,
        FeatureFlag.max_app_version,
        FeatureFlag.allow_list,
        FeatureFlag.deny_list,
        FeatureFlag.rules,
        FeatureFlag.variants,
        FeatureFlag.default_value,
        FeatureFlag.starts_at,
        FeatureFlag.ends_at,
    ]
    lowercase_fields = ("key",)

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        await super().on_model_change(data, model, is_created, request)
        if not is_created:
            if data.get("key") not in (None, model.key):
                raise self.refuse(request, {"key": "The key cannot change once the app uses it."})
            model.revision = (model.revision or 0) + 1

    @row_action("enable", "Enable")
    async def enable(self, _db: AsyncSession, flag: FeatureFlag, _context: ActionContext) -> None:
        if flag.enabled:
            raise ActionRefusedError(f"{flag.key} is already on.")
        flag.enabled = True
        flag.revision += 1

    @row_action(
        "disable", "Disable (kill switch)", confirm="Turn these flags off for every user now?"
    )
    async def disable(self, _db: AsyncSession, flag: FeatureFlag, _context: ActionContext) -> None:
        if not flag.enabled:
            raise ActionRefusedError(f"{flag.key} is already off.")
        flag.enabled = False
        flag.revision += 1
