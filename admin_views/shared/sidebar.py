"""The sidebar of one page, worked out once: which entries the staff member may open, their
links, which one is the page shown, and the sections that open around it.

The menu's template used to ask each entry, several times over, whether it was visible,
accessible and current, each answer building links; on a record page that was more than
half of the rendering. Here each entry is asked once and the template only prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import URL
from starlette.requests import Request

from admin_views import sqladmin_door as door


@dataclass(frozen=True)
class Entry:
    name: str
    icon: str | None
    url: str
    active: bool
    waiting: int = 0
    """Requests waiting for the staff member's approval (the menu badge), when the screen
    counts them."""


@dataclass(frozen=True)
class Section:
    name: str
    icon: str | None
    entries: list[Entry] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return any(entry.active for entry in self.entries)


def _shown(menu: Any, request: Request) -> bool:
    return menu.is_visible(request) and menu.is_accessible(request)


def _current(menu: Any, path: str, request: Request, home: str) -> bool:
    """Whether the entry (its link's `path`) is the page shown, or the table whose detail,
    edit or action page (or own record page, such as the customer page) is shown; home is
    the dashboard's."""
    here = request.url.path
    view = menu.view
    if view.is_model:
        return (
            view.identity == request.path_params.get("identity")
            or here.startswith(path.rsplit("/", 1)[0] + "/")
            or getattr(request.state, "record_of", None) == view.model.__tablename__
        )
    is_home = getattr(view, "is_home", False)
    return here.rstrip("/") == path.rstrip("/") or (is_home and here == home)


def _entry(menu: Any, request: Request, home: str, *, top: bool) -> Entry:
    url = str(menu.url(request))
    # Only a top-level entry shows its badge.
    badge = getattr(menu.view, "menu_badge", None) if top else None
    return Entry(
        name=menu.display_name,
        icon=menu.icon,
        url=url,
        active=_current(menu, URL(url).path, request, home),
        waiting=badge(request) if badge else 0,
    )


def sidebar(admin: Any, request: Request) -> list[Entry | Section]:
    """The entries and sections the staff member may open, in menu order."""
    home = request.url_for("admin:index").path
    shown: list[Entry | Section] = []
    for item in door.menu_items(admin):
        if not _shown(item, request):
            continue
        if item.type_ == "View":
            shown.append(_entry(item, request, home, top=True))
        elif item.type_ == "Category":
            entries = [
                _entry(child, request, home, top=False)
                for child in item.children
                if _shown(child, request)
            ]
            shown.append(Section(item.display_name, item.icon, entries))
    return shown
