"""Each environment's on/off in the Feature flags list, one switch per environment in
position order (production's is the flag's own row).

A switch is the same row action as the environment's card on the flag's page (`enable` or
`disable` of the screen that holds the state: the flag's own for production, a state's for
the others), offered only where the staff member's role allows it; the list asks before it
runs (a dialog, `staff/row_confirm.html`), and the runner checks the permission, the CSRF
token, a second person where the flag's review rules say so, and audits. A role that may
not switch sees the state without the control. The states of a page of flags are read in
one query, with the environments in one more.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from markupsafe import Markup
from sqladmin import ModelView
from sqladmin.pagination import Pagination
from starlette.requests import Request

from admin_views import sqladmin_door as door
from admin_views.shared.flag_copy import environments
from flags.environments import Stored, by_environment, state_of
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState, FlagState

ENVIRONMENTS = "environments"
"""The list's column of switches."""
SWITCHES = ("enable", "disable")
"""The row actions a switch runs: the environment cards' on/off."""


@dataclass(frozen=True)
class _Page:
    """What the switches of one list page read: the environments and every state shown."""

    environments: list[FlagEnvironment]
    stored: dict[uuid.UUID, Stored]


class EnvironmentSwitches(ModelView):
    """For the flags' list: a column `ENVIRONMENTS` of switches, read with the page."""

    async def list(self, request: Request) -> Pagination:
        pagination = await super().list(request)
        ids = [flag.id for flag in pagination.rows]
        async with self.session_maker() as db:
            found = await db.scalars(
                sa.select(FlagEnvironmentState).where(FlagEnvironmentState.flag_id.in_(ids))
            )
            stored = by_environment(found) if ids else {}
            request.state.flag_switches = _Page(await environments(db), stored)
        return pagination

    async def get_list_value(self, obj: Any, prop: str, request: Request | None = None) -> Any:
        page = getattr(request.state, "flag_switches", None) if request else None
        if prop != ENVIRONMENTS or page is None or request is None:
            return await super().get_list_value(obj, prop, request)
        stored = page.stored.get(obj.id, {})
        shown = [(e, state_of(obj, e, stored)) for e in page.environments]
        text = ", ".join(f"{e.name}: {_word(s)}" for e, s in shown)
        cells = Markup("").join(self._switch(request, obj, e, s) for e, s in shown)
        return text, Markup('<div class="staff-switches">{}</div>').format(cells)

    def get_export_columns(self) -> list[str]:
        """An export keeps the flag's own (production) Enabled where the list shows the
        switches."""
        return [
            "enabled" if name == ENVIRONMENTS else name for name in super().get_export_columns()
        ]

    def _switch(
        self, request: Request, flag: FeatureFlag, environment: FlagEnvironment, state: Any
    ) -> Markup:
        """One environment's state: a button asking to turn it over where the staff member
        may, else a badge."""
        word = _word(state)
        look = "on" if word == "on" else "off"
        if state is None:
            return Markup(
                '<span class="staff-switch staff-switch-{}" data-environment="{}">'
                '<i class="fa-solid fa-toggle-off"></i> {} <span class="visually-hidden">'
                "{}</span></span>"
            ).format(look, environment.key, environment.name, word)
        view = self if state is flag else door.admin_of(self).model_view("flag-environment-states")
        offered = [a for a in view.record_actions(request, state) if a.name in SWITCHES]
        icon = Markup('<i class="fa-solid fa-toggle-{}"></i>').format(look)
        if not offered:
            return Markup(
                '<span class="staff-switch staff-switch-{}" data-environment="{}">{} {}'
                ' <span class="visually-hidden">{}</span></span>'
            ).format(look, environment.key, icon, environment.name, word)
        action = offered[0]
        question = (
            f"Turn {flag.key} off in {environment.name} for every user now?"
            if state.enabled
            else f"Turn {flag.key} on in {environment.name}?"
        )
        return Markup(
            '<button type="button" class="staff-switch staff-switch-{}" role="switch" '
            'aria-checked="{}" data-environment="{}" data-switch="{}" data-confirm="{}" '
            'data-confirm-url="{}" data-bs-toggle="modal" data-bs-target="#modal-row-confirm" '
            'title="{}">{} {} <span class="visually-hidden">{}</span></button>'
        ).format(
            look,
            "true" if state.enabled else "false",
            environment.key,
            action.name,
            question,
            action.url,
            f"{action.label}: {environment.name}",
            icon,
            environment.name,
            word,
        )


def _word(state: FlagState | None) -> str:
    if state is None:
        return "not set up"
    return "on" if state.enabled else "off"
