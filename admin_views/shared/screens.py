"""What one site offers, by the names permissions use: its tables and its pages.

Roles are edited against this (a grid row per screen) and the audit trail reads with it (a
table's noun, its actions' labels, its detail page), so both follow the views as declared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqladmin import BaseView, ModelView
from sqladmin.application import BaseAdmin

from admin_views.base import StaffPage, StaffView
from core import personal_data

TABLE_VERBS = ("view", "create", "edit", "delete", "export")
"""The verbs of a table screen, as the role grid's columns show them."""


@dataclass(frozen=True)
class Screen:
    resource: str
    """The name in permission strings: a table (`feature_flags`) or a page (`dashboard`)."""
    title: str
    """The menu's name for it, e.g. "Feature flags"."""
    noun: str = ""
    """One row of the table in a sentence, e.g. "feature flag"; empty for a page."""
    verbs: tuple[str, ...] = ("view",)
    """The verbs the screen offers (a read-only table has no create, edit or delete)."""
    actions: dict[str, str] = field(default_factory=dict)
    """Row actions, by name (`suspend`) to label (`Suspend`)."""
    view: StaffView | None = None
    also: str = ""
    """Other pages behind the same permission, e.g. the statistics behind `dashboard`."""
    note: str = ""
    """What the permission grants, when it is not a page's name."""

    @property
    def is_table(self) -> bool:
        return self.view is not None


def inside_sentence(name: str) -> str:
    """A screen name inside a sentence ("Feature flag" -> "feature flag", "AI model" kept);
    `admin_views.sentence_case` has already made the name itself read as a sentence."""
    return " ".join(word if word.isupper() else word.lower() for word in name.split())


def _table(view: StaffView) -> Screen:
    offered = {
        "view": True,
        "create": view.can_create,
        "edit": view.can_edit,
        "delete": view.can_delete,
        "export": view.can_export,
    }
    return Screen(
        resource=view.resource(),
        title=view.name_plural,
        noun=inside_sentence(view.name),
        verbs=tuple(verb for verb in TABLE_VERBS if offered[verb]),
        actions={name: spec.label for name, spec in view.action_specs.items()},
        view=view,
    )


def _pages(views: list[BaseView | ModelView]) -> list[Screen]:
    """One row per permission: pages sharing one (the insight pages) share a row, and a page
    behind a table's own permission (the customer page, `users:view`) is that table's row."""
    tables = {view.resource() for view in views if isinstance(view, StaffView)}
    named: dict[str, list[StaffPage]] = {}
    for page in views:
        if isinstance(page, StaffPage) and not page.open_to_all_staff:
            resource = page.resource or page.identity
            if resource not in tables:
                named.setdefault(resource, []).append(page)
    return [
        Screen(
            resource=resource,
            title=pages[0].name,
            also=", ".join(page.name for page in pages[1:]),
            verbs=tuple(dict.fromkeys(verb for page in pages for verb in page.verbs)),
        )
        for resource, pages in named.items()
    ]


PERSONAL_DATA = Screen(
    resource=personal_data.PERMISSION[0],
    title="Personal data",
    note="customers' and merchants' email, phone and date of birth, wherever they show; "
    "without it they show masked",
)
"""Not a page: seeing personal data unmasked is granted like one (`pii:view`)."""


def screens(admin: BaseAdmin) -> list[Screen]:
    """Every screen a role can be granted, pages first, in menu order."""
    tables = [_table(view) for view in admin.views if isinstance(view, StaffView)]
    return [*_pages(admin.views), PERSONAL_DATA, *tables]


def tables_by_resource(admin: BaseAdmin) -> dict[str, Screen]:
    return {screen.resource: screen for screen in screens(admin) if screen.is_table}
