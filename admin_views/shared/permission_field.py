"""The role form's permissions as a grid of checkboxes, and the same grid read-only.

Each box posts the permission string it stands for (`users:view`, `users:action:suspend`),
so the form sends the ticked strings under one name; `permission_grid.settle` turns them
into what the role stores.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup
from wtforms import Field

from admin_views.shared.permission_grid import Grid, grid
from admin_views.shared.screens import Screen

TEMPLATE = "staff/widgets/permission_grid.html"
# WTForms renders widgets synchronously, while SQLAdmin's environment is async-only: the
# grid gets a plain environment over the same templates.
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent.parent / "templates"), autoescape=True
)


def render(shown: Grid, *, name: str | None = None, invalid: bool = False) -> Markup:
    """The grid as a table: checkboxes named `name`, or ticks when `name` is None."""
    macro = _TEMPLATES.get_template(TEMPLATE).module.permission_grid  # type: ignore[attr-defined]
    return macro(shown, name, invalid)


class PermissionGridWidget:
    def __call__(self, field: PermissionGridField, **kwargs: Any) -> Markup:
        invalid = "is-invalid" in str(kwargs.get("class_", ""))
        return render(field.grid(), name=field.name, invalid=invalid)


class PermissionGridField(Field):
    """A list of permission strings, edited as the grid of the given screens."""

    widget = PermissionGridWidget()

    def __init__(self, label: str | None = None, *, screens: list[Screen], **kwargs: Any) -> None:
        super().__init__(label, **kwargs)
        self.screens = screens

    def process_formdata(self, valuelist: list[Any]) -> None:
        # No box ticked posts nothing at all: that is an empty list, not "unchanged".
        self.data = [str(value).strip() for value in valuelist if str(value).strip()]

    def grid(self) -> Grid:
        return grid(self.data or [], self.screens)
