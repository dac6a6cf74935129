"""The shared base views: what every table's screens get without asking.

Permissions are answered by the site's authorization backend for every route SQLAdmin
serves (list, detail, create, edit, delete, export, actions, ajax lookups, pages). This
module adds the rest, once for every table:

- secrets kept off every screen and export; ids, timestamps and reverse relationships
  out of forms; human labels; money, badges and times formatted; newest first;
- filters that may read several parameters (date ranges), applied alike to the list and
  to the streamed CSV/JSON export;
- every change, and every action, written to the audit trail in its own transaction;
- refusals by the database shown on the form's fields; deletes that a foreign key blocks
  explained; rows that are deactivated rather than deleted (`SoftDelete`) deactivated;
- related rows and extra panels on detail pages.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqladmin import BaseView, ModelView
from sqladmin._queries import Query
from sqladmin.flash import Flash
from sqladmin.pagination import Pagination
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import RelationshipDirection, selectinload
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from wtforms import Form, validators

from admin_views.shared import export, keyset, search
from admin_views.shared.actions import (
    ActionContext,
    ActionRefusedError,
    ActionSpec,
    AlreadyDoneError,
)
from admin_views.shared.counting import EXACT_PARAM, EXACT_VALUE, row_count
from admin_views.shared.form_errors import FieldErrorsError, delete_blockers, explain, stash
from admin_views.shared.formatting import column_formatter
from admin_views.shared.labels import humanize
from admin_views.shared.related import Related, panels
from admin_views.shared.staff_form import UNSTORABLE, StaffForm
from audit import trail
from audit.snapshot import changes, masked_fields, snapshot
from auth.middleware import actor, current_staff
from models.base import SoftDelete, utcnow

READ_ONLY_COLUMNS = frozenset({"id", "created_at", "updated_at"})
"""Set by the database or the app, never typed in a form."""
EXPORT_TYPES = ("csv", "json")
EMAIL = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"


class DeleteBlockedError(Exception):
    """Other rows still point at the one to delete; the message names them."""


def back_to(request: Request, fallback: str, asked: str = "") -> str:
    """Where the staff member came from, if it is a page of this admin: `asked` (an action
    form's own `next`), else the referring page. Never an action's URL, which only takes
    POST, and never another site."""
    for candidate in (urlsplit(asked), urlsplit(request.headers.get("referer", ""))):
        if candidate.netloc not in ("", request.url.netloc) or candidate.scheme not in (
            "",
            request.url.scheme,
        ):
            continue
        if candidate.path.startswith("/admin") and "/action/" not in candidate.path:
            return candidate.path + (f"?{candidate.query}" if candidate.query else "")
    return fallback


class StaffView(ModelView):
    """Base for every table's screens; subclasses only describe their screen."""

    page_size: ClassVar[int] = 25
    page_size_options: ClassVar[list[int]] = [25, 50, 100]
    estimate_count_above: ClassVar[int] = 10_000
    """Lists longer than this (by PostgreSQL's estimate) show "about N" instead of counting."""
    export_types: ClassVar[list[str]] = list(EXPORT_TYPES)
    details_template: ClassVar[str] = "sqladmin/details.html"
    form_base_class: ClassVar[type[Form]] = StaffForm

    related: ClassVar[list[Related]] = []
    """Panels of related rows on the detail page."""
    detail_panels: ClassVar[list[str]] = []
    """Extra templates shown under the detail table (e.g. a ticket's thread)."""
    lowercase_fields: ClassVar[tuple[str, ...]] = ()
    """Text fields stored in lower case (emails), whatever case staff type."""

    def __init__(self) -> None:
        mapper = sa.inspect(self.model)
        self.column_labels = {
            **{key: humanize(key) for key in mapper.attrs.keys()},  # noqa: SIM118 - a view
            **self._declared_labels(),
        }
        formatters = {
            column.key: formatter
            for column in mapper.columns
            if (formatter := column_formatter(column)) is not None
        }
        self.column_formatters = {**formatters, **self._named(self.column_formatters)}
        self.column_formatters_detail = {**formatters, **self._named(self.column_formatters_detail)}
        self.form_args = self._range_validators() | self._named(self.form_args)
        super().__init__()
        if not self.column_default_sort and hasattr(self.model, "created_at"):
            self.column_default_sort = [(self.model.created_at, True)]

    # Declaration helpers
    @staticmethod
    def _named(options: dict[Any, Any]) -> dict[str, Any]:
        return {key if isinstance(key, str) else key.key: value for key, value in options.items()}

    def _declared_labels(self) -> dict[str, str]:
        return self._named(type(self).column_labels)

    def _range_validators(self) -> dict[str, dict[str, Any]]:
        """NumberRange for every field a CHECK constraint bounds; money with two places."""
        args: dict[str, dict[str, Any]] = {}
        for constraint in self.model.__table__.constraints:
            low, high = constraint.info.get("minimum"), constraint.info.get("maximum")
            if low is None and high is None:
                continue
            for field in constraint.info["fields"]:
                args.setdefault(field, {"validators": []})["validators"].append(
                    validators.NumberRange(min=low, max=high, message=constraint.info["message"])
                )
        for column in self.model.__table__.columns:
            if getattr(column.type, "scale", None) == 2:
                args.setdefault(column.key, {})["places"] = 2
            if column.key.endswith("email"):
                args.setdefault(column.key, {}).setdefault("validators", []).append(
                    validators.Regexp(
                        EMAIL, message="Enter an email address, e.g. name@example.com."
                    )
                )
        return args

    @classmethod
    def secret_columns(cls) -> frozenset[str]:
        """Columns whose model declares `info={"secret": True}`."""
        return frozenset(
            column.key for column in sa.inspect(cls.model).columns if column.info.get("secret")
        )

    @classmethod
    def resource(cls) -> str:
        """The name permissions and the audit trail use for this view: its table."""
        return cls.model.__tablename__

    @property
    def soft_delete(self) -> bool:
        """Whether "delete" deactivates the row instead (customers, merchants)."""
        return issubclass(self.model, SoftDelete)

    def _to_many(self) -> frozenset[str]:
        return frozenset(
            rel.key
            for rel in sa.inspect(self.model).relationships
            if rel.direction in (RelationshipDirection.ONETOMANY, RelationshipDirection.MANYTOMANY)
        )

    # Search: see admin_views/shared/search.py.
    search_exact: ClassVar[dict[search.Exact, list[search.Field]]] = {}
    """Columns compared for equality when the term looks like an email, a UUID, a phone
    number or a reference, e.g. `{Exact.EMAIL: [User.email], Exact.UUID: [User.id]}`;
    any other term is a substring of the `column_searchable_list` columns."""

    def search_query(self, stmt: sa.Select, term: str) -> sa.Select:
        return search.search(stmt, self.model, term, self._search_fields, self.search_exact)

    # Columns: secrets never reach a list, a detail page, an export or a form; reverse
    # relationships (a wallet's every transaction) are shown as panels, never loaded whole.
    def get_list_columns(self) -> list[str]:
        return self._without(super().get_list_columns())

    def get_details_columns(self) -> list[str]:
        if self.column_details_list or self.column_details_exclude_list:
            return self._without(super().get_details_columns())
        return self._without(self._in_table_order())

    def _in_table_order(self) -> list[str]:
        """Every column in table order, a foreign key shown as the row it points to."""
        mapper = sa.inspect(self.model)
        shown_as = {
            local.key: rel.key
            for rel in mapper.relationships
            if rel.direction is RelationshipDirection.MANYTOONE
            for local in rel.local_columns
        }
        names: list[str] = []
        for column in mapper.columns:
            name = shown_as.get(column.key, column.key)
            if name not in names:
                names.append(name)
        return names

    def get_export_columns(self) -> list[str]:
        return self._without(super().get_export_columns())

    def get_form_columns(self) -> list[str]:
        hidden = self.secret_columns() | READ_ONLY_COLUMNS | self._to_many()
        return [name for name in super().get_form_columns() if name not in hidden]

    def _without(self, names: list[str]) -> list[str]:
        hidden = self.secret_columns() | self._to_many()
        return [name for name in names if name not in hidden]

    # Values a row marks secret (a secret setting's value) are masked wherever they show,
    # left blank in the edit form, and kept as they are when the form leaves them blank.
    async def get_prop_value(self, obj: Any, prop: str) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK
        return await super().get_prop_value(obj, prop)

    async def get_list_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK, trail.MASK
        return await super().get_list_value(obj, prop, request)

    async def get_detail_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        if prop in masked_fields(obj):
            return trail.MASK, trail.MASK
        return await super().get_detail_value(obj, prop, request)

    async def get_form_data_for_edit(self, obj: Any) -> dict[str, Any]:
        data = await super().get_form_data_for_edit(obj)
        return {key: None if key in masked_fields(obj) else value for key, value in data.items()}

    def refuse(self, request: Request, errors: dict[str, str]) -> FieldErrorsError:
        """A save refused by a rule of the screen: raise the result to show `errors`."""
        stash(request, errors)
        return FieldErrorsError(errors)

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        for field in self.lowercase_fields:
            if isinstance(data.get(field), str):
                data[field] = data[field].strip().lower()
        if not is_created:
            for field in masked_fields(model):
                if data.get(field) in (None, "", {}, []):
                    data.pop(field, None)

    # The list and the export read the same query.
    def filtered_query(self, request: Request) -> sa.Select:
        """The list's rows: filters, then search, then sort; no paging."""
        for name, value in request.query_params.multi_items():
            if UNSTORABLE.search(value):
                raise HTTPException(
                    400, f"{humanize(name)}: control characters (such as NUL) cannot be searched."
                )
        stmt = self.list_query(request)
        for filter_ in self.get_filters():
            stmt = filter_.apply(stmt, request)
        search = request.query_params.get("search")
        if search:
            stmt = self.search_query(stmt=stmt, term=search)
        return self.sort_query(stmt, request)

    async def list(self, request: Request) -> Pagination:
        page = self.validate_page_number(request.query_params.get("page"), 1)
        page_size = self.validate_page_number(request.query_params.get("pageSize"), self.page_size)
        page_size = min(page_size, max(self.page_size_options))
        stmt = self.filtered_query(request)
        async with self.session_maker() as db:
            count = await row_count(
                db,
                stmt,
                estimate_above=self.estimate_count_above,
                exact=request.query_params.get(EXACT_PARAM) == EXACT_VALUE,
            )
        page = min(max(page, 1), Pagination.max_page(count, page_size))
        for relation in self._list_relations:
            stmt = stmt.options(selectinload(relation))
        order = keyset.order_for(self.model, self._sorting(request))
        after, before = (request.query_params.get(p) for p in (keyset.AFTER, keyset.BEFORE))
        if order is not None and (after or before):
            direction = keyset.AFTER if after else keyset.BEFORE
            stmt = keyset.seek(stmt, order, after or before or "", direction).limit(page_size)
            rows = await self._run_query(stmt)
            rows = rows if after else rows[::-1]
        else:
            rows = await self._run_query(stmt.limit(page_size).offset((page - 1) * page_size))
        pagination = keyset.KeysetPagination(rows=rows, page=page, page_size=page_size, count=count)
        pagination.order = order
        return pagination

    def _sorting(self, request: Request) -> list[tuple[str, bool]]:
        """The list's sort as (column name, descending): asked for, else the default."""
        sort_by = request.query_params.get("sortBy")
        if sort_by:
            return [(sort_by, request.query_params.get("sort", "asc") == "desc")]
        return [(self._get_prop_name(field), desc) for field, desc in self._get_default_sort()]

    def sort_query(self, stmt: sa.Select, request: Request) -> sa.Select:
        """The asked-for or default sort, then the primary key: a total order, so pages
        neither repeat nor skip rows that share a sort value."""
        stmt = super().sort_query(stmt, request)
        sorting = self._sorting(request)
        keys = list(sa.inspect(self.model).local_table.primary_key.columns)
        if len(keys) == 1 and keys[0].name not in {name for name, _ in sorting}:
            stmt = stmt.order_by(keys[0].desc() if sorting[-1][1] else keys[0].asc())
        return stmt

    async def export_response(self, request: Request, export_type: str) -> Response:
        """Stream the filtered list; audited with what was asked for."""
        columns = self.get_export_columns()
        relationships = frozenset(self._relation_names)
        stmt = self.filtered_query(request)
        for name in columns:
            if name in relationships:
                stmt = stmt.options(selectinload(getattr(self.model, name)))
        async with self.session_maker() as db, db.begin():
            await trail.append(
                db,
                actor(request),
                trail.Entry(
                    "export",
                    self.resource(),
                    None,
                    after={"format": export_type, "query": dict(request.query_params)},
                ),
            )
        filename = f"{self.resource()}-{utcnow():%Y%m%d-%H%M%S}.{export_type}"
        if export_type == "csv":
            body = export.csv_stream(
                self.session_maker, stmt, columns, self._column_labels.get, relationships
            )
            media = "text/csv; charset=utf-8"
        else:
            body = export.json_stream(self.session_maker, stmt, columns, relationships)
            media = "application/json"
        return StreamingResponse(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

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

    def _refused(self, request: Request, error: IntegrityError) -> FieldErrorsError:
        errors = explain(error, self.model, self.name) or {
            "__all__": "The database refused this change."
        }
        return self.refuse(request, errors)

    async def insert_model(self, request: Request, data: dict) -> Any:
        query = Query(self)
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                obj = self.model()
                await self.on_model_change(data, obj, True, request)
                obj = await query._set_attributes_async(db, obj, data)
                db.add(obj)
                await db.flush()
                await self._audit(db, request, "create", obj.id, None, snapshot(obj))
        except IntegrityError as error:
            raise self._refused(request, error) from None
        query._store_after_change_response(
            request, await self.after_model_change(data, obj, True, request)
        )
        return obj

    async def update_model(self, request: Request, pk: str, data: dict) -> Any:
        query = Query(self)
        stmt = self._stmt_by_identifier(pk)
        for relation in self._form_relations:
            stmt = stmt.options(selectinload(relation))
        try:
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
        except IntegrityError as error:
            raise self._refused(request, error) from None
        query._store_after_change_response(
            request, await self.after_model_change(data, obj, False, request)
        )
        return obj

    async def delete_model(self, request: Request, pk: Any) -> None:
        """Delete, or deactivate a `SoftDelete` row; a row others still need stays, with why."""
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            obj = (await db.execute(self._stmt_by_identifier(pk))).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            before = snapshot(obj)
            await self.on_model_delete(obj, request)
            if isinstance(obj, SoftDelete):
                obj.deactivate(utcnow())
                await db.flush()
                changed_before, changed_after = changes(before, snapshot(obj))
                await self._audit(db, request, "deactivate", pk, changed_before, changed_after)
                return
            blockers = await delete_blockers(db, self.model, obj.id)
            if blockers:
                # SQLAdmin shows the message of any error from a delete above the list.
                raise DeleteBlockedError(
                    f"{self.name} {obj} cannot be deleted: it is still referred to by "
                    f"{', '.join(blockers)}. Remove or reassign those first."
                )
            await db.delete(obj)
            await db.flush()
            await self._audit(db, request, "delete", pk, before, None)
        await self.after_model_delete(obj, request)

    async def run_row_action(self, request: Request, spec: ActionSpec) -> Response:
        form_data = await request.form()
        raw = str(form_data.get("pks") or request.query_params.get("pks") or "")
        pks = [pk for pk in raw.split(",") if pk]
        destination = back_to(
            request,
            str(request.url_for("admin:list", identity=self.identity)),
            str(form_data.get("next") or ""),
        )
        staff = current_staff(request)
        if not pks or staff is None:
            Flash.warning(request, "Select at least one row first.", title=spec.label)
            return RedirectResponse(destination, status_code=303)
        if spec.one_row and len(pks) > 1:
            Flash.warning(
                request,
                f"{spec.label} applies to one {self.name.lower()} at a time; nothing was changed.",
                title=spec.label,
            )
            return RedirectResponse(destination, status_code=303)
        params: dict[str, Any] = {}
        form_class = await spec.form_class(self)
        if form_class is not None:
            form = form_class(form_data if "action_form" in form_data else None)
            if "action_form" not in form_data or not form.validate():
                return await self.templates.TemplateResponse(
                    request,
                    "staff/action_form.html",
                    {
                        "form": form,
                        "spec": spec,
                        "pks": raw,
                        "facts": await self._action_facts(spec, pks),
                        "model_view": self,
                        "destination": destination,
                        "title": spec.label,
                    },
                    status_code=200 if "action_form" not in form_data else 400,
                )
            params = form.data
        context = ActionContext(request=request, staff=staff, params=params)
        made: list[str] = []
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                for pk in pks:
                    obj = (await db.execute(self._stmt_by_identifier(pk))).scalars().first()
                    if obj is None:
                        raise ActionRefusedError(f"{self.name} {pk} no longer exists.")
                    before = snapshot(obj)
                    details = await spec.change(self, db, obj, context)
                    if details and "transaction" in details:
                        made.append(details["transaction"])
                    await db.flush()
                    changed_before, changed_after = changes(before, snapshot(obj))
                    await self._audit(
                        db,
                        request,
                        f"action:{spec.name}",
                        pk,
                        changed_before,
                        changed_after | (details or {}),
                    )
        except ActionRefusedError as refused:
            Flash.error(request, str(refused), title=f"{spec.label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        except AlreadyDoneError as done:
            Flash.info(request, str(done), title=f"{spec.label}: already done")
            return RedirectResponse(destination, status_code=303)
        noun = self.name if len(pks) == 1 else self.name_plural
        made_note = f" Made {', '.join(made)}." if made else ""
        Flash.success(
            request,
            f"{spec.label}: done for {len(pks)} {noun.lower()}.{made_note}",
            title=spec.label,
        )
        return RedirectResponse(destination, status_code=303)

    async def _action_facts(self, spec: ActionSpec, pks: list[str]) -> list[tuple[str, str]]:
        if spec.facts is None or len(pks) != 1:
            return []
        async with self.session_maker() as db:
            obj = (await db.execute(self._stmt_by_identifier(pks[0]))).scalars().first()
            return [] if obj is None else await spec.facts(self, db, obj)

    async def details_context(self, request: Request) -> dict[str, Any]:
        staff = current_staff(request)
        if staff is None or not self.related:
            return {"related_panels": []}
        pk = self._stmt_by_identifier(request.path_params["pk"]).whereclause
        async with self.session_maker() as db:
            row_id = await db.scalar(sa.select(self.model.id).where(pk))
            return {
                "related_panels": await panels(
                    db, staff, self.related, row_id, str(request.url_for("admin:index")).rstrip("/")
                )
            }


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

    def is_accessible(self, request: Request) -> bool:
        if self.open_to_all_staff:
            return current_staff(request) is not None
        return super().is_accessible(request)

    def has_permission(self, request: Request, action: str, obj: Any | None = None) -> bool:
        return self._authorization_backend().has_permission(
            request, self.resource or self.identity, action, obj
        )
