"""Screens for running the back office: rollups, the audit trail, runtime settings."""

from __future__ import annotations

from admin_views.base import ReadOnlyView, StaffView
from models.ops import AuditLog, DashboardAnalytics, RuntimeSetting

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
    column_searchable_list = [DashboardAnalytics.metric]
    column_default_sort = [(DashboardAnalytics.day, True)]


class AuditLogAdmin(ReadOnlyView, model=AuditLog):
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
    ]
    column_searchable_list = [AuditLog.actor_email, AuditLog.entity_id, AuditLog.action]
    column_default_sort = [(AuditLog.sequence, True)]


class RuntimeSettingAdmin(StaffView, model=RuntimeSetting):
    name = "Setting"
    icon = "fa-solid fa-sliders"
    column_list = [
        RuntimeSetting.key,
        RuntimeSetting.description,
        RuntimeSetting.is_secret,
        RuntimeSetting.updated_at,
    ]
    column_searchable_list = [RuntimeSetting.key]
    column_default_sort = [(RuntimeSetting.key, False)]
