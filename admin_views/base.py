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
  explained; rows that are deactivated rather than deleted (`SoftDelete`) never deleted;
- related rows and extra panels on detail pages.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from wtforms import Form, validators

from admin_views.shared import export, filters, keyset, search
from admin_views.shared.actions import (
    ActionContext,
    ActionRefusedError,
    ActionSpec,
    AlreadyDoneError,
)
from admin_views.shared.counting import EXACT_PARAM, EXACT_VALUE, row_count
from admin_views.shared.form_errors import FieldErrorsError, delete_blockers, explain, stash
from admin_views.shared.formatting import badge, column_formatter
from admin_views.shared.labels import humanize
from admin_views.shared.record import FieldGroup, field_groups, state_word, status_field
from admin_views.shared.related import Related, panels
from admin_views.shared.staff_form import UNSTORABLE, StaffForm
from audit import trail
from audit.snapshot import changes, masked_fields, snapshot
from auth.middleware import actor, current_staff
from auth.permissions import allows
from models.base import FixedPoint, SoftDelete, utcnow

READ_ONLY_COLUMNS = frozenset({"id", "created_at", "updated_at"})
"""Set by the database or the app, never typed in a form."""
EXPORT_TYPES = ("csv", "json")
EMAIL = r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$"


def may_view(request: Request, table: str) -> bool:
    staff = current_staff(request)
    return staff is not None and allows(staff.permissions, table, "view")


@dataclass(frozen=True)
class RecordAction:
    """An action as the record's page offers it."""

    name: str
    label: str
    url: str
    confirm: str | None
    """Asked in a dialog before the POST; None when the action has its own page."""


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
    detail_groups: ClassVar[dict[str, list[Any]] | None] = None
    """Detail page sections, e.g. `{"Identity": [User.email, ...], ...}`; by default the
    fields are grouped by kind (details, status, money, data, record)."""
    export_extra: ClassVar[dict[str, str]] = {}
    """What a reader of an export needs beside the list's columns, by column or path
    through related rows, with its header: `{"wallet.user.email": "Customer email"}`.
    A table's currency always goes with its amounts."""
    status_badge: ClassVar[str | None] = None
    """The field shown as a badge beside the record's title; found by name when unset."""
    default_access: ClassVar[dict[str, tuple[str, ...]]] = {}
    """What the default roles may do here, e.g. `{"support": ("view", "action:suspend")}`;
    `swipesavvy-admin migrate` grants it (admin_views/shared/default_access.py)."""

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
        self.form_ajax_refs = self._lookups() | self.form_ajax_refs
        self.column_filters = self.column_filters or filters.from_columns(self.model)
        super().__init__()
        if self.soft_delete:
            self.can_delete = False
        if not self.column_default_sort and hasattr(self.model, "created_at"):
            self.column_default_sort = [(self.model.created_at, True)]
        self.action_specs: dict[str, ActionSpec] = {
            spec.name: spec
            for klass in reversed(type(self).__mro__)
            for member in vars(klass).values()
            if isinstance(spec := getattr(member, "spec", None), ActionSpec)
        }

    # The record's page: its title, its state, its sections, what can be done to it.
    def record_status(self, obj: Any) -> Any:
        """The record's state as a badge beside its title ("active", "enabled")."""
        name = status_field(self.model, self.status_badge)
        if name is None:
            return None
        value = getattr(obj, name)
        if isinstance(value, bool):
            return badge(state_word(name, value))
        return self.column_formatters_detail.get(name, lambda o, n: badge(getattr(o, n)))(obj, name)

    def record_query(self, pk: str) -> sa.Select:
        """One row with what its page shows: related rows and the rows labels name. A
        malformed id is a 404, as an unknown one is."""
        try:
            stmt = self._stmt_by_identifier(pk)
        except (ValueError, TypeError):
            raise HTTPException(status_code=404) from None
        for relation in self._details_relations:
            stmt = stmt.options(with_label_rows(relation))
        for name in getattr(self.model, "label_loads", ()):
            stmt = stmt.options(selectinload(getattr(self.model, name)))
        return stmt

    def details_query(self, request: Request) -> sa.Select:
        return self.record_query(request.path_params["pk"])

    def record_groups(self) -> list[FieldGroup]:
        return field_groups(self.model, self._details_prop_names, self.detail_groups)

    def record_actions(self, request: Request, obj: Any) -> list[RecordAction]:
        """The actions this staff member may take on `obj` in its current state, in the
        order declared; a confirmation names the record."""
        allowed = self._visible_custom_actions(request, True)
        pk = str(obj.id)
        offered = []
        for name, spec in self.action_specs.items():
            if name not in allowed or not spec.applies_to(obj):
                continue
            url = f"{self._url_for_action(request, name)}?pks={pk}"
            asks = spec.form is not None or spec.reason
            offered.append(
                RecordAction(
                    spec.name, spec.label, url, None if asks else spec.confirmation(str(obj))
                )
            )
        return offered

    # Links between records: to the screen of the row's own table, and only for staff who
    # may open it (otherwise templates show the label as plain text).
    def _identity_for_object(self, obj: Any) -> str:
        return obj.__tablename__.replace("_", "-")

    def _build_url_for(self, name: str, request: Request, obj: Any) -> URL | str:
        if name == "admin:details" and not may_view(request, obj.__tablename__):
            return ""
        return super()._build_url_for(name, request, obj)

    # Declaration helpers
    @staticmethod
    def _named(options: dict[Any, Any]) -> dict[str, Any]:
        return {key if isinstance(key, str) else key.key: value for key, value in options.items()}

    def _declared_labels(self) -> dict[str, str]:
        return self._named(type(self).column_labels)

    def _lookups(self) -> dict[str, dict[str, Any]]:
        """Search-as-you-type for every form field pointing at a table that grows with the
        business (its model declares `lookup_by`), so no form lists all its rows."""
        named = {name if isinstance(name, str) else name.key for name in self.form_columns}
        lookups = {}
        for relation in sa.inspect(self.model).relationships:
            fields = getattr(relation.mapper.class_, "lookup_by", None)
            in_form = not named or relation.key in named
            if fields and in_form and relation.direction is RelationshipDirection.MANYTOONE:
                lookups[relation.key] = {"fields": fields, "order_by": fields[0]}
        return lookups

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
        """Rows that are deactivated, through an action that asks why, never deleted
        (customers, merchants)."""
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
            stmt = stmt.options(with_label_rows(relation))
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
        columns = self.export_columns()
        relationships = frozenset(self._relation_names)
        stmt = self.filtered_query(request)
        for name in columns:
            if name in relationships or "." in name:
                stmt = stmt.options(self._loader(name))
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
            labels = {**self._column_labels, **self.export_extra}
            body = export.csv_stream(self.session_maker, stmt, columns, labels.get, relationships)
            media = "text/csv; charset=utf-8"
        else:
            body = export.json_stream(self.session_maker, stmt, columns, relationships)
            media = "application/json"
        return StreamingResponse(
            body,
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    def export_columns(self) -> list[str]:
        columns = self.get_export_columns()
        table = sa.inspect(self.model).columns
        has_money = any(isinstance(column.type, FixedPoint) for column in table)
        currency = ["currency"] if has_money and "currency" in table else []
        extra = [name for name in [*currency, *self.export_extra] if name not in columns]
        return [*columns, *extra]

    def _loader(self, path: str) -> Any:
        """Eager loading for what an export names: a related row with the rows its label
        names, or the rows along a path to a column (`wallet.user.email`)."""
        if "." not in path:
            return with_label_rows(getattr(self.model, path))
        model, option = self.model, None
        for step in path.split(".")[:-1]:
            attribute = getattr(model, step)
            option = selectinload(attribute) if option is None else option.selectinload(attribute)
            model = attribute.property.mapper.class_
        return option

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
        """Delete a row; one others still need stays, with why."""
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            obj = (await db.execute(self._stmt_by_identifier(pk))).scalars().first()
            if obj is None:
                raise HTTPException(status_code=404)
            before = snapshot(obj)
            await self.on_model_delete(obj, request)
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
        """GET answers with the action's page (its form, or a confirmation); POST runs it
        once the form, if any, comes back valid."""
        form_data = await request.form() if request.method == "POST" else None
        asked = form_data or {}
        raw = str(asked.get("pks") or request.query_params.get("pks") or "")
        pks = [pk for pk in raw.split(",") if pk]
        destination = back_to(
            request,
            str(request.url_for("admin:list", identity=self.identity)),
            str(asked.get("next") or ""),
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
        rows = await self._action_rows(pks)
        refusal = self._refusal(spec, pks, rows)
        if refusal is not None:
            Flash.error(request, refusal, title=f"{spec.label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        params: dict[str, Any] = {}
        form_class = await spec.form_class(self)
        submitted = form_data is not None and "action_form" in form_data
        if form_class is not None or form_data is None:
            form = form_class(form_data if submitted else None) if form_class else None
            if not submitted or (form is not None and not form.validate()):
                return await self._action_page(
                    request, spec, raw, rows, form, destination, 400 if submitted else 200
                )
            params = form.data if form is not None else {}
        context = ActionContext(request=request, staff=staff, params=params)
        made: list[str] = []
        try:
            async with self.session_maker(expire_on_commit=False) as db, db.begin():
                for pk in pks:
                    obj = (await db.execute(self._stmt_by_identifier(pk))).scalars().first()
                    if obj is None:
                        raise ActionRefusedError(f"{self.name} {pk} no longer exists.")
                    if not spec.applies_to(obj):
                        raise ActionRefusedError(spec.refusal(obj))
                    before = snapshot(obj)
                    details = await spec.change(self, db, obj, context)
                    if details and "transaction" in details:
                        made.append(details["transaction"])
                    await db.flush()
                    changed_before, changed_after = changes(before, snapshot(obj))
                    reason = {"reason": params["reason"]} if spec.reason else {}
                    await self._audit(
                        db,
                        request,
                        f"action:{spec.name}",
                        pk,
                        changed_before,
                        changed_after | (details or {}) | reason,
                    )
        except ActionRefusedError as refused:
            Flash.error(request, str(refused), title=f"{spec.label}: nothing was changed")
            return RedirectResponse(destination, status_code=303)
        except AlreadyDoneError as done:
            Flash.info(request, str(done), title=f"{spec.label}: already done")
            return RedirectResponse(destination, status_code=303)
        what = str(rows[0]) if len(rows) == 1 else f"{len(pks)} {self.name_plural.lower()}"
        made_note = f" Made {', '.join(made)}." if made else ""
        Flash.success(request, f"{spec.label}: done for {what}.{made_note}", title=spec.label)
        return RedirectResponse(destination, status_code=303)

    async def _action_rows(self, pks: list[str]) -> list[Any]:
        """The selected rows, read for the action's page and its state check; a malformed
        or unknown id is left out (and so refused)."""
        rows = []
        async with self.session_maker(expire_on_commit=False) as db:
            for pk in pks:
                try:
                    stmt = self.record_query(pk)
                except HTTPException:
                    continue
                obj = (await db.execute(stmt)).scalars().first()
                if obj is not None:
                    rows.append(obj)
        return rows

    def _refusal(self, spec: ActionSpec, pks: list[str], rows: list[Any]) -> str | None:
        if len(rows) < len(pks):
            missing = len(pks) - len(rows)
            noun = self.name.lower() if missing == 1 else self.name_plural.lower()
            return f"{missing} selected {noun} no longer exist."
        refused = [spec.refusal(obj) for obj in rows if not spec.applies_to(obj)]
        return " ".join(refused) if refused else None

    async def _action_page(
        self,
        request: Request,
        spec: ActionSpec,
        raw: str,
        rows: list[Any],
        form: Form | None,
        destination: str,
        status_code: int,
    ) -> Response:
        one = rows[0] if len(rows) == 1 else None
        record = str(one) if one is not None else f"{len(rows)} {self.name_plural.lower()}"
        facts = []
        if spec.facts is not None and one is not None:
            async with self.session_maker() as db:
                facts = await spec.facts(self, db, one)
        return await self.templates.TemplateResponse(
            request,
            "staff/action_form.html",
            {
                "form": form,
                "spec": spec,
                "pks": raw,
                "record": record,
                "confirm": spec.confirmation(record if one is not None else f"these {record}"),
                "facts": facts,
                "currency": getattr(one, "currency", None),
                "model_view": self,
                "destination": destination,
                "title": f"{spec.label}: {record}",
            },
            status_code=status_code,
        )

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


def with_label_rows(attribute: Any) -> Any:
    """Eager loading of a related row together with the rows its label names (a wallet
    is "USD wallet of Erica Murphy"), so labels never fetch a row at a time."""
    option = selectinload(attribute)
    target = attribute.property.mapper.class_
    for name in getattr(target, "label_loads", ()):
        option = option.selectinload(getattr(target, name))
    return option


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
    default_access: ClassVar[dict[str, tuple[str, ...]]] = {}
    """The default roles that may view the page, e.g. `{"analyst": ("view",)}`."""

    def is_accessible(self, request: Request) -> bool:
        if self.open_to_all_staff:
            return current_staff(request) is not None
        return super().is_accessible(request)

    def has_permission(self, request: Request, action: str, obj: Any | None = None) -> bool:
        return self._authorization_backend().has_permission(
            request, self.resource or self.identity, action, obj
        )
