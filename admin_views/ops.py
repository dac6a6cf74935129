"""Screens for running the back office: rollups, the audit trail, runtime settings."""

from __future__ import annotations

from typing import Any

from sqladmin.pagination import Pagination
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.base import ReadOnlyView, StaffView
from admin_views.shared import audit_words, four_eyes
from admin_views.shared.actions import ActionRefusedError
from admin_views.shared.filters import (
    DateRangeFilter,
    DistinctValuesFilter,
    RelatedFilter,
    YesNoFilter,
)
from admin_views.shared.four_eyes import Needed
from admin_views.shared.labels import humanize
from admin_views.shared.screens import tables_by_resource
from models.ops import AuditLog, DashboardAnalytics, RuntimeSetting
from models.people import AdminUser

MENU = "Operations"
WHAT_HAPPENED = "what_happened"
"""The audit list's sentence column: read from the entry and the records it names."""


class DashboardAnalyticsAdmin(ReadOnlyView, model=DashboardAnalytics):
    default_access = {"admin": ("*",), "analyst": ("view", "export"), "viewer": ("view",)}
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
    """The audit trail: append-only, so there is nothing to create, edit or delete.

    Entries read as sentences, the actor and the record linked for staff who may open them;
    the export keeps the raw columns.
    """

    default_access = {"admin": ("*",), "analyst": ("view", "export")}
    name = "Audit entry"
    name_plural = "Audit trail"
    icon = "fa-solid fa-clipboard-list"
    details_template = "staff/audit_entry.html"
    column_list = [
        AuditLog.sequence,
        AuditLog.created_at,
        AuditLog.actor_email,
        WHAT_HAPPENED,
        AuditLog.ip_address,
    ]
    column_labels = {WHAT_HAPPENED: "What happened"}
    column_searchable_list = [
        AuditLog.actor_email,
        AuditLog.entity_id,
        AuditLog.action,
        AuditLog.request_id,
    ]
    column_default_sort = [(AuditLog.sequence, True)]
    column_filters = [
        DistinctValuesFilter(AuditLog.action, label=audit_words.action_label),
        DistinctValuesFilter(AuditLog.entity_type, "Table", label=humanize),
        RelatedFilter(AuditLog.actor_id, "Staff member", label=AdminUser.email),
        DateRangeFilter(AuditLog.created_at, "When"),
    ]
    # The page's title names the actor, linked, and its changes table reads before/after.
    column_details_exclude_list = [
        AuditLog.actor,
        AuditLog.actor_id,
        AuditLog.before,
        AuditLog.after,
    ]
    column_export_list = [
        AuditLog.sequence,
        AuditLog.created_at,
        AuditLog.actor_id,
        AuditLog.actor_email,
        AuditLog.action,
        AuditLog.entity_type,
        AuditLog.entity_id,
        AuditLog.before,
        AuditLog.after,
        AuditLog.ip_address,
        AuditLog.user_agent,
        AuditLog.request_id,
        AuditLog.prev_hash,
        AuditLog.row_hash,
    ]

    async def _reading(self, request: Request, entries: list[AuditLog]) -> audit_words.Reading:
        async with self.session_maker() as db:
            return await audit_words.read(
                db, entries, tables_by_resource(door.admin_of(self)), request
            )

    async def list(self, request: Request) -> Pagination:
        pagination = await super().list(request)
        request.state.audit_reading = await self._reading(request, list(pagination.rows))
        return pagination

    async def get_list_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        """The sentence and the actor, from the page's lookups (`list` made them)."""
        reading = getattr(request.state, "audit_reading", None) if request else None
        if reading is None or prop not in (WHAT_HAPPENED, "actor_email"):
            return await super().get_list_value(obj, prop, request)
        if prop == WHAT_HAPPENED:
            sentence = reading.sentence(obj)
            return sentence.text(), sentence.html()
        return obj.actor_email, reading.actor(obj).html()

    async def details_context(self, request: Request) -> dict[str, Any]:
        context = await super().details_context(request)
        entry = await self.get_object_for_details(request)
        if entry is None:
            return context
        reading = await self._reading(request, [entry])
        return context | {
            "sentence": reading.sentence(entry),
            "actor": reading.actor(entry),
            "changes": reading.changes(entry),
        }


async def _four_eyes_setting(
    _view: RuntimeSettingAdmin,
    _db: AsyncSession,
    setting: RuntimeSetting | None,
    data: dict[str, Any],
) -> Needed | None:
    """The settings four eyes reads (thresholds, expiry) change only with a second person,
    renamed to or from their keys too."""
    keys = {str(data.get("key") or "")} | ({setting.key} if setting is not None else set())
    guarded = sorted(key for key in keys if four_eyes.is_guarded_setting(key))
    if not guarded:
        return None
    return Needed(f"{guarded[0]} decides when a second person approves: changing it needs one too.")


class RuntimeSettingAdmin(StaffView, model=RuntimeSetting):
    """Secret values are write-only: masked everywhere, blank in the form, kept if left blank."""

    default_access = {"admin": ("*",), "operations": ("view",), "analyst": ("view", "export")}
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
    edit_four_eyes = _four_eyes_setting

    async def on_model_delete(self, model: Any, request: Request) -> None:
        """A setting four eyes reads is edited, never deleted: deleting it would bring
        back its default without a second person."""
        if four_eyes.is_guarded_setting(model.key):
            raise ActionRefusedError(
                f"{model.key} cannot be deleted: four eyes reads it, and deleting it would "
                "bring back its default without a second person. Edit it instead."
            )
        await super().on_model_delete(model, request)
