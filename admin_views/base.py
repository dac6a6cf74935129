"""The shared base views: what every table's screens get without asking.

Permissions are answered by the site's authorization backend for every route SQLAdmin
serves (list, detail, create, edit, delete, export, actions, ajax lookups, pages); this
module adds what SQLAdmin leaves to us: secrets kept off every screen, ids and timestamps
out of forms, newest first, and every change written to the audit trail in the same
database transaction as the change itself.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from sqladmin import BaseView, ModelView, action
from sqladmin._queries import Query
from sqladmin.flash import Flash
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from audit import trail
from audit.snapshot import changes, masked_fields, snapshot
from auth.middleware import actor, current_staff

READ_ONLY_COLUMNS = frozenset({"id", "created_at", "updated_at"})
"""Set by the database or the app, never typed in a form."""

View = TypeVar("View", bound="StaffView")
RowChange = Callable[[View, AsyncSession, Any, Request], Awaitable[dict[str, Any] | None]]
"""Changes one row in place; may return details for the audit entry (e.g. rows touched)."""


class ActionRefusedError(Exception):
    """An action cannot apply to a row; the message is shown and nothing is changed."""


def back_to(request: Request, fallback: str) -> str:
    """Where the staff member came from, if it is a page of this admin."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/admin"):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return fallback


def row_action(
    name: str, label: str, *, confirm: str | None = None
) -> Callable[[RowChange[View]], Callable[[View, Request], Awaitable[Response]]]:
    """Declare an action that applies `change` to each selected row.

    The action is a POST (the site refuses GET), needs `<table>:action:<name>`, runs all
    rows in one transaction with one audit entry per row, and redirects back.
    """

    def wrap(change: RowChange[View]) -> Callable[[View, Request], Awaitable[Response]]:
        @functools.wraps(change)
        async def endpoint(self: View, request: Request) -> Response:
            return await self.run_row_action(request, name, label, change)

        return action(name=name, label=label, confirmation_message=confirm)(endpoint)

    return wrap


class StaffView(ModelView):
    """Base for every table's screens; subclasses only describe their screen."""

    page_size: ClassVar[int] = 25
    page_size_options: ClassVar[list[int]] = [25, 50, 100]

    def __init__(self) -> None:
        super().__init__()
        if not self.column_default_sort and hasattr(self.model, "created_at"):
            self.column_default_sort = [(self.model.created_at, True)]

    @classmethod
    def secret_columns(cls) -> frozenset[str]:
        """Columns whose model declares `info={"secret": True}`."""
        return frozenset(
            column.key for column in inspect(cls.model).columns if column.info.get("secret")
        )

    @classmethod
    def resource(cls) -> str:
        """The name permissions and the audit trail use for this view: its table."""
        return cls.model.__tablename__

    # Columns: secrets never reach a list, a detail page, an export or a form.
    def get_list_columns(self) -> list[str]:
        return self._without_secrets(super().get_list_columns())

    def get_details_columns(self) -> list[str]:
        return self._without_secrets(super().get_details_columns())

    def get_export_columns(self) -> list[str]:
        return self._without_secrets(super().get_export_columns())

    def get_form_columns(self) -> list[str]:
        hidden = self.secret_columns() | READ_ONLY_COLUMNS
        return [name for name in super().get_form_columns() if name not in hidden]

    def _without_secrets(self, names: list[str]) -> list[str]:
        secrets = self.secret_columns()
        return [name for name in names if name not in secrets]

    # Values a row marks secret (a secret setting's value) are masked wherever they show,
    # left blank in the edit form, and kept as they are when the form leaves them blank.
    async def get_prop_value(self, obj: Any, prop: str) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK
        return await super().get_prop_value(obj, prop)

    async def get_form_data_for_edit(self, obj: Any) -> dict[str, Any]:
        data = await super().get_form_data_for_edit(obj)
        return {key: None if key in masked_fields(obj) else value for key, value in data.items()}

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        if not is_created:
            for field in masked_fields(model):
                if data.get(field) in (None, "", {}, []):
                    data.pop(field, None)

    # Changes: each one and its audit entry commit or roll back together.
    async def _audit(
        self,
        db: AsyncSession,
        request: Request,
        verb: str,
        pk: Any,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        await trail.append(
            db, actor(request), trail.Entry(verb, self.resource(), str(pk), before, after)
        )

    async def insert_model(self, request: Request, data: dict) -> Any:
        query = Query(self)
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            obj = self.model()
            await self.on_model_change(data, obj, True, request)
            obj = await query._set_attributes_async(db, obj, data)
            db.add(obj)
            await db.flush()
            await self._audit(db, request, "create", obj.id, None, snapshot(obj))
        query._store_after_change_response(
            request, await self.after_model_change(data, obj, True, request)
        )
        return obj

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        query = Query(self)
        stmt = self._stmt_by_identifier(pk)
        for relation in self._form_relations:
            stmt = stmt.options(selectinload(relation))
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            obj = (await db.execute(stmt)).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            before = snapshot(obj)
            await self.on_model_change(data, obj, False, request)
            obj = await query._set_attributes_async(db, obj, data)
            await db.flush()
            changed_before, changed_after = changes(before, snapshot(obj))
            if changed_after:
                await self._audit(db, request, "update", pk, changed_before, changed_after)
        query._store_after_change_response(
            request, await self.after_model_change(data, obj, False, request)
        )
        return obj

    async def delete_model(self, request: Request, pk: Any) -> None:
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            obj = (await db.execute(self._stmt_by_identifier(pk))).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            before = snapshot(obj)
            await self.on_model_delete(obj, request)
            await db.delete(obj)
            await db.flush()
            await self._audit(db, request, "delete", pk, before, None)
        await self.after_model_delete(obj, request)

    async def run_row_action(
        self: View, request: Request, name: str, label: str, change: RowChange[View]
    ) -> Response:
        form = await request.form()
        raw = str(form.get("pks") or request.query_params.get("pks") or "")
        pks = [pk for pk in raw.split(",") if pk]
        destination = back_to(request, str(request.url_for("admin:list", identity=self.identity)))
        if not pks:
            Flash.warning(request, "Select at least one row first.", title=label)
            return RedirectResponse(destination, status_code=303)
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                for pk in pks:
                    obj = (await db.execute(self._stmt_by_identifier(pk))).scalars().first()
                    if obj is None:
                        raise ActionRefusedError(f"{self.name} {pk} no longer exists.")
                    before = snapshot(obj)
                    details = await change(self, db, obj, request)
                    await db.flush()
                    changed_before, changed_after = changes(before, snapshot(obj))
                    await self._audit(
                        db,
                        request,
                        f"action:{name}",
                        pk,
                        changed_before,
                        changed_after | (details or {}),
                    )
        except ActionRefusedError as refused:
            Flash.error(request, str(refused), title=f"{label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        noun = self.name if len(pks) == 1 else self.name_plural
        Flash.success(request, f"{label}: done for {len(pks)} {noun.lower()}.", title=label)
        return RedirectResponse(destination, status_code=303)


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

    def is_accessible(self, request: Request) -> bool:
        if self.open_to_all_staff:
            return current_staff(request) is not None
        return super().is_accessible(request)
