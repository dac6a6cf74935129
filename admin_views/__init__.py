"""The staff screens: one module per domain, mirroring `models/`.

A module declares `StaffView` subclasses and a `MENU` label; `register` finds them, so a
new table needs no central list.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from sqladmin import Admin

from admin_views.base import StaffView

NOT_DOMAIN_MODULES = frozenset({"base"})


def domain_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if info.name not in NOT_DOMAIN_MODULES and not info.name.startswith("_")
    ]


def discover_views() -> list[type[StaffView]]:
    """Every concrete `StaffView` in the domain modules, in declaration order."""
    views: list[type[StaffView]] = []
    for module in domain_modules():
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, StaffView)
                and value.__module__ == module.__name__
                and getattr(value, "model", None) is not None
            ):
                if not value.category:
                    value.category = getattr(module, "MENU", "")
                views.append(value)
    check_views(views)
    return views


def check_views(views: list[type[StaffView]]) -> None:
    """Fail at startup, not on first click, when two views claim one table."""
    seen: dict[str, str] = {}
    for view in views:
        table = view.resource()
        if table in seen:
            raise RuntimeError(
                f"{view.__qualname__} and {seen[table]} both declare screens for {table!r}."
            )
        seen[table] = view.__qualname__


def register(admin: Admin) -> None:
    for view in discover_views():
        view.identity = view.resource().replace("_", "-")
        admin.add_view(view)
