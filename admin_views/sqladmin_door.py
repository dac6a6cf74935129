"""SQLAdmin's internals, behind one door.

Everything the project takes from SQLAdmin beyond its public API is here: the private
attributes it reads, the private methods it calls, and the SQLAdmin methods it rewrites. The
rest of the code talks to this module and to SQLAdmin's public API (`ModelView`'s documented
hooks, `Admin`, `action`, `expose`, `Flash`, `Pagination`, the auth backends).
`tests/test_sqladmin_door.py` checks that every name in `RELIED_ON` still exists with the
parameters used here, so an SQLAdmin release that changes one fails there with a message
naming it, and that no other module names a private SQLAdmin attribute.

Hooks SQLAdmin lacks, worth proposing upstream (each is why something below exists):

- **A write hook inside the transaction.** `insert_model`/`update_model` commit on their
  own, so an audit entry cannot commit or roll back with the change; we rewrite them and
  set the form's values through `Query._set_attributes_async`, then hand SQLAdmin the
  `after_model_change` answer through `Query._store_after_change_response` (a save sent
  for a second person's approval answers there too: a redirect to the request). Approving
  such a save builds the form again as SQLAdmin does (`_form_create_rules`,
  `_form_edit_rules`, `Admin._denormalize_wtform_data`).
- **Streamed export.** `Admin.export` loads every row before writing; we keep its
  permission check (`Admin._export`) and answer with the view's own streamed response.
- **POST-only changes.** `@action` routes and sign-out answer GET, out of reach of a CSRF
  check; we rewrite the routes' methods after SQLAdmin adds them.
- **Which form is being built.** `scaffold_form` is given no request and builds the create
  and the edit form alike; an edit must leave out the personal fields the staff member may
  not see (a create asks for them), so `edit` says it is building an edit form (`editing`).
- **Errors raised, not swallowed.** `create`/`edit`/`delete` log any exception to
  `sqladmin.application`'s logger and show its text on the form; a database outage is lifted
  out of that (`core.outage.surfacing`) so it is answered as a 503.
- **Lookups authorised on the table they search.** `Admin.ajax_lookup` asks whether the
  staff member may fill in the form; a relation's lookup reads another table, so we also
  ask for `view` on that table (the relation named by `name`, found through SQLAlchemy).
- **Link and menu policy.** Relation links are built by `ModelView._build_url_for` for the
  view's own identity; a link to another table's record, and one the staff member may not
  open, need `_identity_for_object`/`_build_url_for`. A category menu that hides when
  nothing in it is open to the staff member needs `_build_menu` and `sqladmin._menu`.
- **Public read access** to what a view derived from its declarations (`_column_labels`,
  `_list_relations`, `_details_relations`, `_form_relations`, `_relation_names`,
  `_details_prop_names`, `_search_fields`, `_list_prop_names`, `_non_link_related_fields`,
  `_sort_fields`), the links of a list's row (`_url_for_delete`,
  `_url_for_details_with_prop`), the statement for one row by its id
  (`_stmt_by_identifier`), the actions a request may use (`_visible_custom_actions`), the
  table screen at an address (`_find_model_view`) and the site a view was added to
  (`_admin_ref`).

Templates under `templates/sqladmin/` are SQLAdmin's own pages adapted; they keep the private
names SQLAdmin's templates use (`model_view._column_labels`, `admin._menu`, ...), and the same
test checks those names too.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from types import MethodType
from typing import Any

import sqlalchemy as sa
from sqladmin import Admin, BaseView, ModelView
from sqladmin import application as sqladmin_application
from sqladmin._menu import CategoryMenu, ViewMenu
from sqladmin._queries import Query
from sqladmin.authentication import login_required
from sqladmin.fields import Select2TagsField
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import URL
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from wtforms import BooleanField, Form, SelectField, SelectMultipleField

from core import outage


@dataclass(frozen=True)
class Relied:
    """A private SQLAdmin name this module uses, with the parameters it passes (for a
    method) so a changed signature is caught, not only a removed name."""

    owner: type
    name: str
    parameters: tuple[str, ...] | None = None
    """The method's parameters after `self`; None for an attribute set on instances."""
    instance_attribute: bool = False


RELIED_ON: tuple[Relied, ...] = (
    Relied(ModelView, "_stmt_by_identifier", ("identifier",)),
    Relied(ModelView, "_run_query", ("stmt",)),
    Relied(ModelView, "_get_default_sort", ()),
    Relied(ModelView, "_get_prop_name", ("prop",)),
    Relied(ModelView, "_url_for_action", ("request", "action_name")),
    Relied(ModelView, "_visible_custom_actions", ("request", "in_detail")),
    Relied(ModelView, "_identity_for_object", ("obj",)),
    Relied(ModelView, "_build_url_for", ("name", "request", "obj")),
    Relied(ModelView, "_column_labels", instance_attribute=True),
    Relied(ModelView, "_list_relations", instance_attribute=True),
    Relied(ModelView, "_details_relations", instance_attribute=True),
    Relied(ModelView, "_form_relations", instance_attribute=True),
    Relied(ModelView, "_relation_names", instance_attribute=True),
    Relied(ModelView, "_list_prop_names", instance_attribute=True),
    Relied(ModelView, "_non_link_related_fields", instance_attribute=True),
    Relied(ModelView, "_sort_fields", instance_attribute=True),
    Relied(ModelView, "_url_for_delete", ("request", "obj")),
    Relied(ModelView, "_url_for_details_with_prop", ("request", "obj", "prop")),
    Relied(ModelView, "_details_prop_names", instance_attribute=True),
    Relied(ModelView, "_search_fields", instance_attribute=True),
    Relied(ModelView, "_custom_actions_confirmation", instance_attribute=True),
    Relied(ModelView, "_form_create_rules", instance_attribute=True),
    Relied(ModelView, "_form_edit_rules", instance_attribute=True),
    Relied(BaseView, "_authorization_backend", ()),
    Relied(BaseView, "_admin_ref", instance_attribute=True),
    Relied(Query, "_set_attributes_async", ("session", "obj", "data")),
    Relied(Query, "_store_after_change_response", ("request", "result")),
    Relied(Admin, "_menu", instance_attribute=True),
    Relied(Admin, "_find_model_view", ("identity",)),
    Relied(Admin, "_export", ("request",)),
    Relied(Admin, "_build_menu", ("view",)),
    Relied(Admin, "_handle_action_decorated_func", ("func", "view", "view_instance")),
    Relied(Admin, "_denormalize_wtform_data", ("form_data", "obj")),
)

SWALLOWING_LOGGER = sqladmin_application.logger.name
"""Where SQLAdmin's create, edit and delete log the exception they answer with a message."""
ACTION_MARK = "_action"
ACTION_SLUG = "_slug"
"""What `sqladmin.action` sets on the method it decorates."""


# -- What a view derived from its declarations ------------------------------------------------


def row_statement(view: ModelView, pk: str) -> sa.Select:
    """SELECT of the view's row with this id (a ValueError/TypeError for a malformed one)."""
    return view._stmt_by_identifier(pk)


def list_relations(view: ModelView) -> list[Any]:
    return view._list_relations


def details_relations(view: ModelView) -> list[Any]:
    return view._details_relations


def form_relations(view: ModelView) -> list[Any]:
    return view._form_relations


def relation_names(view: ModelView) -> list[str]:
    return view._relation_names


def list_names(view: ModelView) -> list[str]:
    """The list's columns, in order."""
    return view._list_prop_names


def sort_names(view: ModelView) -> list[str]:
    """The columns a list may be sorted by."""
    return view._sort_fields


def unlinked_relations(view: ModelView) -> list[str]:
    """Relations the list names without a link (`non_link_related_fields`)."""
    return view._non_link_related_fields


def details_names(view: ModelView) -> list[str]:
    return view._details_prop_names


def search_fields(view: ModelView) -> list[Any]:
    return view._search_fields


def column_labels(view: ModelView) -> dict[str, str]:
    """Each column's label, by name, as SQLAdmin resolved the declarations."""
    return view._column_labels


def default_sort(view: ModelView) -> list[tuple[str, bool]]:
    """The declared default sort as (column name, descending)."""
    return [(view._get_prop_name(field), desc) for field, desc in view._get_default_sort()]


async def run_query(view: ModelView, stmt: sa.Select) -> list[Any]:
    """The rows of a statement selecting the view's model, each once."""
    return await view._run_query(stmt)


def record_url(view: ModelView, request: Request, obj: Any) -> str:
    """The record page of `obj`, "" when the staff member may not open it."""
    return str(view._build_url_for("admin:details", request, obj))


def edit_url(view: ModelView, request: Request, obj: Any) -> str:
    return str(view._build_url_for("admin:edit", request, obj))


def delete_url(view: ModelView, request: Request, obj: Any) -> str:
    """The delete route for `obj`, its id in the query as SQLAdmin's delete modal sends it."""
    return view._url_for_delete(request, obj)


def related_url(view: ModelView, request: Request, obj: Any, name: str) -> str:
    """The page of the row `obj` points to through relation `name`, "" for none."""
    return str(view._url_for_details_with_prop(request, obj, name))


def usable_actions(view: ModelView, request: Request) -> dict[str, str]:
    """The record-page actions the staff member's role allows, slug to label."""
    return view._visible_custom_actions(request, True)


def action_url(view: ModelView, request: Request, name: str) -> str:
    return view._url_for_action(request, name)


def exposed_route(identity: str) -> str:
    """The route name SQLAdmin gives a custom page's `@expose(..., identity=identity)`."""
    return f"admin:view-{identity}"


RECORD_PAGE_ROUTE = "details"
"""The name SQLAdmin gives its record page's route (`admin:details`)."""


def on_record_page(request: Request) -> bool:
    """Whether the request is for a record's page, not another route (an edit) that loads
    the record too: the route Starlette matched is in the scope."""
    route = request.scope.get("route")
    return getattr(route, "name", None) == RECORD_PAGE_ROUTE


def menu_items(admin: Admin) -> list[Any]:
    """The sidebar's entries and categories (`sqladmin._menu` items), in menu order."""
    return admin._menu.items


def authorization(view: BaseView) -> Any:
    return view._authorization_backend()


def admin_of(view: BaseView) -> Any:
    """The admin site a view was added to."""
    return view._admin_ref


# -- Writes ------------------------------------------------------------------------------------


async def set_form_values(view: ModelView, db: AsyncSession, obj: Any, data: dict) -> Any:
    """Set a form's values on `obj` as SQLAdmin would, relations included, without
    committing: the caller's transaction holds the change and its audit entry together."""
    return await Query(view)._set_attributes_async(db, obj, data)


def keep_after_change(view: ModelView, request: Request, answer: Any) -> None:
    """Hand SQLAdmin what `after_model_change` answered (a redirect, say) to send back."""
    Query(view)._store_after_change_response(request, answer)


_EDITING: ContextVar[str | None] = ContextVar("sqladmin_editing", default=None)


@contextmanager
def building_edit_form(pk: str) -> Iterator[None]:
    """While the edit form of the record `pk` is built (SQLAdmin's `scaffold_form` is not
    told which record it is for)."""
    token = _EDITING.set(pk)
    try:
        yield
    finally:
        _EDITING.reset(token)


def editing() -> bool:
    """Whether the form being built is SQLAdmin's edit form (not the create form)."""
    return _EDITING.get() is not None


def edited() -> str | None:
    """The primary key of the record whose edit form is being built, if one is."""
    return _EDITING.get()


def form_rules(view: ModelView, *, created: bool) -> list[str] | None:
    """The rules SQLAdmin builds the view's create (or edit) form with."""
    return view._form_create_rules if created else view._form_edit_rules


def form_values(form: Form, model: type[Any]) -> dict[str, Any]:
    """A valid form's values as SQLAdmin hands them to `insert_model`/`update_model`."""
    return Admin._denormalize_wtform_data(form.data, model)


def as_submitted(form: Form) -> list[tuple[str, str]]:
    """A form filled in with values (`Form(data=...)`) as a browser would submit it, field
    by field as its widget renders it: a JSON door then submits it as a staff member would."""
    submitted: list[tuple[str, str]] = []
    for field in form:
        if callable(getattr(field, "submitted", None)):
            submitted += field.submitted()  # a field posted as several inputs says how
        elif isinstance(field, BooleanField):
            submitted += [(field.name, "y")] if field.data else []
        elif isinstance(field, Select2TagsField | SelectMultipleField):
            submitted += [(field.name, str(item)) for item in field.data or ()]
        elif isinstance(field, SelectField):
            # The option rendered selected; with none, a browser submits the first.
            options = [(value, selected) for value, _label, selected, *_ in field.iter_choices()]
            chosen = next((value for value, selected in options if selected), None)
            if chosen is None and options:
                chosen = options[0][0]
            submitted += [] if chosen is None else [(field.name, str(chosen))]
        else:
            submitted.append((field.name, field._value()))
    return submitted


# -- Rewritten SQLAdmin methods ----------------------------------------------------------------


class LinkedView(ModelView):
    """Links to a related record go to that table's own screen; `details_link(request, obj)`
    may say otherwise: "" for no link (templates show the label), or another page's URL."""

    def details_link(self, request: Request, obj: Any) -> str | None:
        return None

    def _identity_for_object(self, obj: Any) -> str:
        return obj.__tablename__.replace("_", "-")

    def _build_url_for(self, name: str, request: Request, obj: Any) -> URL | str:
        link = self.details_link(request, obj) if name == "admin:details" else None
        return super()._build_url_for(name, request, obj) if link is None else link


class HidingCategoryMenu(CategoryMenu):
    """A menu group shown only when the staff member may open something in it."""

    def is_accessible(self, request: Request) -> bool:
        return any(
            child.is_visible(request) and child.is_accessible(request) for child in self.children
        )


class DoorAdmin(Admin):
    """SQLAdmin's `Admin` with the rewrites the module doc lists; `StaffAdmin` (site.py)
    holds the site's own policy on top."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        outage.watch_swallowing_logger(SWALLOWING_LOGGER)

    def model_view(self, identity: str) -> ModelView:
        """The table screen at `identity`; a 404 when there is none."""
        return self._find_model_view(identity)

    def post_only(self, name: str) -> None:
        """Make a route SQLAdmin added answer POST only."""
        self._route(name).methods = {"POST"}

    def _route(self, name: str) -> Route:
        for route in self.admin.router.routes:
            if isinstance(route, Route) and route.name == name:
                return route
        raise RuntimeError(f"SQLAdmin has no route named {name!r}")

    def _build_menu(self, view: ModelView | BaseView) -> None:
        if not view.category:
            super()._build_menu(view)
            return
        menu = HidingCategoryMenu(name=view.category, icon=view.category_icon)
        menu.add_child(ViewMenu(view=view, name=view.name, icon=view.icon))
        self._menu.add(menu)

    def _handle_action_decorated_func(
        self,
        func: MethodType,
        view: type[BaseView | ModelView],
        view_instance: BaseView | ModelView,
    ) -> None:
        super()._handle_action_decorated_func(func, view, view_instance)
        if not hasattr(func, ACTION_MARK):
            return
        slug = getattr(func, ACTION_SLUG)
        # GET shows the action's page (its form or a confirmation); only POST changes data.
        self._route(f"action-{view_instance.identity}-{slug}").methods = {"GET", "POST"}
        confirmations = view_instance._custom_actions_confirmation
        if slug in confirmations:
            confirmations[slug] = self.list_confirmation(func, view_instance, confirmations[slug])

    def list_confirmation(self, func: MethodType, view: BaseView | ModelView, stock: str) -> str:
        """The question a list asks before running the action on the selected rows."""
        return stock

    async def create(self, request: Request) -> Response:
        with outage.surfacing():
            return await super().create(request)

    async def edit(self, request: Request) -> Response:
        with outage.surfacing(), building_edit_form(request.path_params["pk"]):
            return await super().edit(request)

    async def delete(self, request: Request) -> Response:
        with outage.surfacing():
            return await super().delete(request)

    @login_required
    async def ajax_lookup(self, request: Request) -> Response:
        """SQLAdmin's lookup, for staff who may also view the table it searches: editing
        payment methods must not read every customer's name through `?name=user`."""
        view = self._find_model_view(request.path_params["identity"])
        relation = sa.inspect(view.model).relationships.get(request.query_params.get("name", ""))
        if relation is not None and not authorization(view).has_permission(
            request, relation.mapper.local_table.name, "list"
        ):
            raise HTTPException(status_code=403)
        return await super().ajax_lookup(request)

    @login_required
    async def export(self, request: Request) -> Response:
        """SQLAdmin's permission check, then the view's streamed `export_response`."""
        await self._export(request)
        view = self._find_model_view(request.path_params["identity"])
        return await view.export_response(request, request.path_params["export_type"])
