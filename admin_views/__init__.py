"""The staff screens: one module per domain, mirroring `models/`, plus custom pages.

A module declares `StaffView` subclasses (table screens), `StaffPage` subclasses (custom
pages) and a `MENU` label; `register` finds them, so a new table needs no central list.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TYPE_CHECKING

from admin_views import sqladmin_door as door
from admin_views.base import ReadOnlyView, StaffPage, StaffView
from admin_views.shared import default_access

if TYPE_CHECKING:
    from admin_views.site import StaffAdmin

NOT_DOMAIN_MODULES = frozenset({"base", "site", "shared"})
BASES = frozenset({StaffView, ReadOnlyView, StaffPage})


def domain_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name not in NOT_DOMAIN_MODULES and not info.name.startswith("_")
    ]


def _declared(module: ModuleType, base: type) -> list[type]:
    return [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, base)
        and value not in BASES
        and value.__module__ == module.__name__
    ]


def discover_views() -> list[type[StaffView]]:
    """Every table screen in the domain modules, in declaration order."""
    views: list[type[StaffView]] = []
    for module in domain_modules():
        for view in _declared(module, StaffView):
            if not view.category:
                view.category = getattr(module, "MENU", "")
            view.name, view.name_plural = sentence_case(view.name), sentence_case(view.name_plural)
            views.append(view)
    check_views(views)
    return views


def discover_pages() -> list[type[StaffPage]]:
    pages = [page for module in domain_modules() for page in _declared(module, StaffPage)]
    default_access.check(pages)
    return pages


def check_views(views: list[type[StaffView]]) -> None:
    """Fail at startup, not on first click, when two views claim one table, when a
    related panel's "see all" would open a list that cannot filter on the record, or when
    a view's `default_access` names a role, verb or action that does not exist."""
    default_access.check(views)
    seen: dict[str, type[StaffView]] = {}
    for view in views:
        table = view.resource()
        if table in seen:
            raise RuntimeError(
                f"{view.__qualname__} and {seen[table].__qualname__} both declare screens "
                f"for {table!r}."
            )
        seen[table] = view
    for view in views:
        for related in view.related:
            target = seen.get(related.table)
            filters = {getattr(f, "parameter_name", None) for f in target.column_filters or []}
            if target is None or related.foreign_key.key not in filters:
                raise RuntimeError(
                    f"{view.__qualname__}: the {related.title!r} panel's 'see all' needs a "
                    f"filter on {related.table}.{related.foreign_key.key}."
                )


def _bound_to_one_site(view: type[StaffView]) -> type[StaffView]:
    """A subclass of `view` for one Admin.

    SQLAdmin keeps a site's state (its session maker, templates, back-reference) on the
    view class itself; registering a subclass per site keeps two apps in one process
    (the tests, or several sites) from sharing each other's engine.
    """
    bound = type(
        view.__name__,
        (view,),
        {"__module__": view.__module__, "name": view.name, "name_plural": view.name_plural},
        model=view.model,
    )
    bound.identity = view.resource().replace("_", "-")
    return bound


def sentence_case(name: str) -> str:
    """Screen names read as sentences, as the rest of the admin does: SQLAdmin's
    "Feature Flags" becomes "Feature flags"; acronyms ("AI models") stay."""
    first, *rest = name.split()
    return " ".join([first, *(word if word.isupper() else word.lower() for word in rest)])


def _page_for_one_site(page: type[StaffPage]) -> type[StaffPage]:
    return type(page.__name__, (page,), {"__module__": page.__module__})


def register(admin: StaffAdmin) -> None:
    pages = discover_pages()
    for page in pages:
        if page.leads_menu:
            admin.add_view(_page_for_one_site(page))
    for view in discover_views():
        admin.add_view(_bound_to_one_site(view))
    for page in pages:
        if not page.leads_menu:
            admin.add_view(_page_for_one_site(page))
        if page.opens_records_of:
            admin.record_pages[page.opens_records_of] = door.exposed_route(page.record_route)
