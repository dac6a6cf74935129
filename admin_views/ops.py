"""Screens for running the back office: rollups, the audit trail, runtime settings."""

from __future__ import annotations

from admin_views.base import ReadOnlyView, StaffView
from admin_views.shared.filters import (
    DateRangeFilter,
    DistinctValuesFilter,
    RelatedFilter,
    YesNoFilter,
)
from models.ops import AuditLog, DashboardAnalytics, RuntimeSetting
from models.people import AdminUser

MENU = "Operations"


class DashboardAnalyticsAdmin(ReadOnlyView, model=DashboardAnalytics):
    name = "Daily rollup"
    icon = "fa-solid fa-table"
    column_list = [
        DashboardAnalytics.day,
        DashboardAnalytics.metric,
        DashboardAnalytics.dimension,
        DashboardAnalytics.value,
    ]
    column_searchable_list = [DashboardAnalytics.metric, DashboardAnalytics.dimension]
    column_default_sort = [(DashboardAnalytics.day, True)]
    column_filters = [
        DistinctValuesFilter(DashboardAnalytics.metric),
        DateRangeFilter(DashboardAnalytics.day),
    ]


class AuditLogAdmin(ReadOnlyView, model=AuditLog):
    """The audit trail: append-only, so there is nothing to create, edit or delete."""

    name = "Audit entry"
    name_plural = "Audit trail"
    icon = "fa-solid fa-clipboard-list"
    column_list = [
        AuditLog.sequence,
        AuditLog.created_at,
        AuditLog.actor_email,
        AuditLog.action,
        AuditLog.entity_type,
        AuditLog.entity_id,
        AuditLog.ip_address,
    ]
    column_searchable_list = [
        AuditLog.actor_email,
        AuditLog.entity_id,
        AuditLog.action,
        AuditLog.request_id,
    ]
    column_default_sort = [(AuditLog.sequence, True)]
    column_filters = [
        DistinctValuesFilter(AuditLog.action),
        DistinctValuesFilter(AuditLog.entity_type, "Table"),
        RelatedFilter(AuditLog.actor_id, "Staff member", label=AdminUser.email),
        DateRangeFilter(AuditLog.created_at, "When"),
    ]


class RuntimeSettingAdmin(StaffView, model=RuntimeSetting):
    """Secret values are write-only: masked everywhere, blank in the form, kept if left blank."""

    name = "Setting"
    icon = "fa-solid fa-sliders"
    column_list = [
        RuntimeSetting.key,
        RuntimeSetting.value,
        RuntimeSetting.description,
        RuntimeSetting.is_secret,
        RuntimeSetting.updated_at,
    ]
    column_searchable_list = [RuntimeSetting.key, RuntimeSetting.description]
    column_default_sort = [(RuntimeSetting.key, False)]
    column_filters = [YesNoFilter(RuntimeSetting.is_secret, "Secret")]
    form_columns = [
        RuntimeSetting.key,
        RuntimeSetting.value,
        RuntimeSetting.description,
        RuntimeSetting.is_secret,
    ]
