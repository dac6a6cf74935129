"""A record's page: the row with what it shows loaded at once, its state as a badge beside
its label, its fields in sections, and panels of related rows."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import sqlalchemy as sa
from sqladmin import ModelView
from sqladmin.helpers import object_identifier_values
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.shared.formatting import badge
from admin_views.shared.label_rows import own_label_rows, with_label_rows
from admin_views.shared.record import FieldGroup, field_groups, state_word, status_field
from admin_views.shared.related import Related, panels
from auth.middleware import current_staff

if TYPE_CHECKING:
    from admin_views.shared.history import History

LOADED = "swipesavvy.record_pages"
"""Where a request keeps the rows its record page loaded."""


class RecordPage(ModelView):
    details_template: ClassVar[str] = "sqladmin/details.html"
    related: ClassVar[list[Related]] = []
    """Panels of related rows on the detail page."""
    detail_panels: ClassVar[list[str]] = []
    """Extra templates shown under the detail table (e.g. a ticket's thread)."""
    detail_groups: ClassVar[dict[str, list[Any]] | None] = None
    """Detail page sections, e.g. `{"Identity": [User.email, ...], ...}`; by default the
    fields are grouped by kind (details, status, money, data, record)."""
    history: ClassVar[History | None] = None
    """The record's changes, from the audit trail, in a panel of its page
    (admin_views/shared/history.py)."""
    status_badge: ClassVar[str | None] = None
    """The field shown as a badge beside the record's title; found by name when unset."""

    def record_status(self, obj: Any) -> Any:
        """The record's state as a badge beside its title ("active", "enabled")."""
        name = status_field(self.model, self.status_badge)
        if name is None:
            return None
        value = getattr(obj, name)
        if isinstance(value, bool):
            return badge(state_word(name, value))
        return self.column_formatters_detail.get(name, lambda o, n: badge(getattr(o, n)))(obj, name)

    def row_condition(self, pk: str) -> sa.ColumnElement[bool]:
        """The WHERE clause of the row with this id; a malformed id is a 404, as an unknown
        one is."""
        try:
            return door.row_statement(self, pk).whereclause
        except (ValueError, TypeError):
            raise HTTPException(status_code=404) from None

    def with_shown_rows(self, stmt: sa.Select) -> sa.Select:
        """Related rows the page shows, and the rows labels name, loaded with the row."""
        for relation in door.details_relations(self):
            stmt = stmt.options(with_label_rows(relation))
        return stmt.options(*own_label_rows(self.model))

    def record_query(self, pk: str) -> sa.Select:
        """One row with what its page shows."""
        return self.with_shown_rows(sa.select(self.model).where(self.row_condition(pk)))

    def details_query(self, request: Request) -> sa.Select:
        return self.record_query(request.path_params["pk"])

    async def get_object_for_details(self, request: Request) -> Any:
        """The row, loaded once per request: SQLAdmin's details route asks for it twice
        (to check that it may be viewed, then to show it)."""
        record, _ = await self._loaded(request)
        return record

    async def _loaded(self, request: Request) -> tuple[Any, list[Any]]:
        """The row and, on its record page, its related panels, read in one session: one
        connection, not two."""
        loaded = request.scope.setdefault(LOADED, {})
        key = (self.identity, request.path_params["pk"])
        if key not in loaded:
            async with self.session_maker(expire_on_commit=False) as db:
                found = (await db.execute(self.details_query(request))).scalars().unique().all()
                record = found[0] if found else None
                shown = []
                if record is not None and door.on_record_page(request):
                    shown = await self._related_panels(db, request)
            loaded[key] = (record, shown)
        return loaded[key]

    def record_groups(self) -> list[FieldGroup]:
        return field_groups(self.model, door.details_names(self), self.detail_groups)

    async def details_context(self, request: Request) -> dict[str, Any]:
        record, shown = await self._loaded(request)
        context: dict[str, Any] = {"related_panels": shown}
        if self.history is not None and record is not None:
            context["history"] = await self.history.panel(self, request, record)
        return context

    async def _related_panels(self, db: AsyncSession, request: Request) -> list[Any]:
        staff = current_staff(request)
        if staff is None or not self.related:
            return []
        # The row was found: its id is in the path.
        (row_id,) = object_identifier_values(request.path_params["pk"], self.model)
        return await panels(
            db, staff, self.related, row_id, str(request.url_for("admin:index")).rstrip("/")
        )
