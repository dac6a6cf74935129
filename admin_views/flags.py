"""Screens for the mobile app's feature flags."""

from __future__ import annotations

from admin_views.base import StaffView
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
        FeatureFlag.updated_at,
    ]
    column_searchable_list = [FeatureFlag.key, FeatureFlag.name]
    column_sortable_list = [FeatureFlag.key, FeatureFlag.enabled, FeatureFlag.updated_at]
