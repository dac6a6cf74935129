"""The shared base views: what every table's screens get without asking.

Permissions are answered by the site's authorization backend for every route SQLAdmin
serves (list, detail, create, edit, delete, export, actions, ajax lookups, pages).
`StaffView` adds the rest, once for every table, from the parts in `admin_views/parts/`
(one job each: declared fields, shown columns, listing, audited writes, export, the record
page, row actions); links between records go to the related table's own screen, and only
for staff who may open it.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqladmin import BaseView
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.parts.columns import ShownColumns
from admin_views.parts.declared import DeclaredFields
from admin_views.parts.exporting import Exporting
from admin_views.parts.row_actions import RowActions
from admin_views.parts.row_table import RowTable
from admin_views.parts.writes import AuditedWrites
from admin_views.shared.navigation import may_view
from auth.middleware import current_staff


class StaffView(
    RowActions,
    RowTable,
    Exporting,
    AuditedWrites,
    ShownColumns,
    DeclaredFields,
    door.LinkedView,
):
    """Base for every table's screens; subclasses only describe their screen."""

    default_access: ClassVar[dict[str, tuple[str, ...]]] = {}
    """What the default roles may do here, e.g. `{"support": ("view", "action:suspend")}`;
    `swipesavvy-admin migrate` grants it (admin_views/shared/default_access.py)."""

    def details_link(self, request: Request, obj: Any) -> str | None:
        """No link for staff who may not open the record; the record's own page where its
        table has one (`StaffPage.opens_records_of`)."""
        table = obj.__tablename__
        if not may_view(request, table):
            return ""
        page = door.admin_of(self).record_pages.get(table)
        return str(request.url_for(page, pk=str(obj.id))) if page else None


class ReadOnlyView(StaffView):
    """Screens for rows that change only through their own rules (money, the audit trail,
    sessions, rollups): list, detail and export, never create, edit or delete."""

    can_create: ClassVar[bool] = False
    can_edit: ClassVar[bool] = False
    can_delete: ClassVar[bool] = False


class StaffPage(BaseView):
    """Base for custom pages (dashboards, the account page).

    Access is the `view` permission on the page's identity, through the same backend as
    the table screens; a page open to every signed-in staff member says so.
    """

    open_to_all_staff: ClassVar[bool] = False
    leads_menu: ClassVar[bool] = False
    """Listed before the table screens."""
    resource: ClassVar[str | None] = None
    """The permission's resource when it is not the page's identity: several pages can
    share one permission, such as `dashboard:view`."""
    verbs: ClassVar[tuple[str, ...]] = ("view",)
    """What a role may be granted on the page; a page that changes things adds a verb of
    `TABLE_VERBS` (the role grid's columns), e.g. `("view", "edit")`, and checks it."""
    default_access: ClassVar[dict[str, tuple[str, ...]]] = {}
    """The default roles that may view the page, e.g. `{"analyst": ("view",)}`."""
    opens_records_of: ClassVar[str | None] = None
    """A table whose records this page shows (the customer page for `users`): every link to
    such a record leads to `record_route`."""
    record_route: ClassVar[str] = ""
    """The identity given to the page's `@expose` route that takes the record's id as `{pk}`."""

    def is_accessible(self, request: Request) -> bool:
        if self.open_to_all_staff:
            return current_staff(request) is not None
        return super().is_accessible(request)

    def has_permission(self, request: Request, action: str, obj: Any | None = None) -> bool:
        return door.authorization(self).has_permission(
            request, self.resource or self.identity, action, obj
        )
