"""Row actions: permission-checked by SQLAdmin, audited per row, all or nothing.

    @row_action("suspend", "Suspend", when=lambda user: user.status == "active",
                confirm="Suspend {record}?", reason=True)
    async def suspend(self, db, user, context):
        user.status = "suspended"

`when` says in which states the action applies: a detail page offers it only then, and a
submission for a row in another state is refused with a message. `confirm` names the record
(`{record}` is its label, or "the selected customers" on a list). An action with a `form`
(or `reason=True`, which asks a reason that goes to the audit entry) first answers with that
form and runs when it comes back filled in and valid. `four_eyes` guards the action
(admin_views/shared/four_eyes.py): when it says so, a second staff member approves the
change before it runs, and the action asks a reason for them. Opening an action's URL
answers with its form or confirmation page; only a POST changes anything.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqladmin import action
from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form, TextAreaField, validators

from admin_views.shared.staff_form import StaffForm
from auth.sessions import Staff

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from admin_views.base import StaffView
    from admin_views.shared.four_eyes import Guard

View = TypeVar("View", bound="StaffView")


class ActionRefusedError(Exception):
    """An action cannot apply to a row; the message is shown and nothing is changed."""


class AlreadyDoneError(Exception):
    """This very submission was applied before (a double click, a retry): nothing new is
    done, and the message says what the first one did."""


@dataclass
class ActionContext:
    request: Request
    staff: Staff
    params: dict[str, Any] = field(default_factory=dict)
    """The values of the action's form, when it has one."""


RowChange = Callable[[View, "AsyncSession", Any, ActionContext], Awaitable[dict[str, Any] | None]]
"""Changes one row in place; may return details for the audit entry (e.g. rows touched).
A `transaction` detail (the reference of money moved) is also shown to the staff member."""


Facts = Callable[[Any, "AsyncSession", Any], Awaitable[list[tuple[str, str]]]]
"""(label, value) pairs about one row, read in the action's session."""


FormFactory = type[Form] | Callable[[Any], Awaitable[type[Form]]]
"""A form class, or an async function of the view that builds one (choices from the DB)."""

Applies = Callable[[Any], bool]
"""Whether an action applies to a row in its current state."""


def with_reason(form: type[Form] | None) -> type[Form]:
    """`form` plus a required reason, unless it asks one already."""
    base = form or StaffForm
    if hasattr(base, "reason"):
        return base
    return type(
        f"{base.__name__}WithReason",
        (base,),
        {
            "reason": TextAreaField(
                "Reason",
                validators=[validators.InputRequired(), validators.Length(min=5, max=500)],
                description="Kept in the audit trail.",
            )
        },
    )


OwnPage = Callable[..., Awaitable[Response]]
"""(view, request, spec, raw pks, row, form, destination, status code) -> the page."""


@dataclass(frozen=True)
class ActionSpec:
    name: str
    label: str
    change: Callable[..., Awaitable[dict[str, Any] | None]]
    form: FormFactory | None = None
    one_row: bool = False
    """Refuse a selection of several rows: each needs its own look (money, say)."""
    facts: Facts | None = None
    """What the form shows about the row it acts on, e.g. the balance being adjusted."""
    when: Applies | None = None
    confirm: str | None = None
    reason: bool = False
    four_eyes: Guard | None = None
    """Decides, from the selected rows and the form, whether a second person approves."""
    in_bar: bool = True
    """Offered in the record's action bar and the list's Actions menu; else only where it
    has what it needs (a restore, from a change in the record's history)."""
    page: OwnPage | None = None
    """The action's own page for one row, in place of the shared form page: one that shows
    what it would change before it is confirmed (a copy, a restore)."""

    @property
    def has_own_page(self) -> bool:
        """Asks something (a form, a reason) or may: a guard that reads only the rows knows
        before the form is shown whether a second person, and so a reason, is needed."""
        return self.form is not None or self.reason or self.four_eyes is not None

    async def form_class(self, view: Any, *, reason: bool = False) -> type[Form] | None:
        """The action's form; with a reason when the action asks one, or `reason` does."""
        form = self.form
        if form is not None and not isinstance(form, type):
            form = await form(view)
        return with_reason(form) if self.reason or reason else form

    def applies_to(self, obj: Any) -> bool:
        return self.when is None or self.when(obj)

    def confirmation(self, record: str) -> str | None:
        return self.confirm.format(record=record) if self.confirm else None

    def refusal(self, obj: Any) -> str:
        return f"{self.label} does not apply to {obj}: it is {state_of(obj)}."


def state_of(obj: Any) -> str:
    """The state a refusal names: a status, else on/off."""
    for name in ("status", "enabled", "is_active"):
        if hasattr(obj, name):
            value = getattr(obj, name)
            if isinstance(value, bool):
                return "on" if value else "off"
            return str(value).replace("_", " ")
    return "in another state"


def row_action(
    name: str,
    label: str,
    *,
    confirm: str | None = None,
    form: FormFactory | None = None,
    one_row: bool = False,
    facts: Facts | None = None,
    when: Applies | None = None,
    reason: bool = False,
    four_eyes: Guard | None = None,
    in_bar: bool = True,
    page: OwnPage | None = None,
) -> Callable[[RowChange[View]], Callable[[View, Request], Awaitable[Response]]]:
    """Declare an action that applies `change` to each selected row (see the module doc).
    `in_bar=False` leaves it out of the record's action bar and the list's Actions menu;
    `page` shows one row's action on a page of its own (`ActionSpec.page`)."""

    def wrap(change: RowChange[View]) -> Callable[[View, Request], Awaitable[Response]]:
        spec = ActionSpec(
            name,
            label,
            change,
            form,
            one_row,
            facts,
            when,
            confirm,
            reason,
            four_eyes,
            in_bar,
            page,
        )

        @functools.wraps(change)
        async def endpoint(self: View, request: Request) -> Response:
            return await self.run_row_action(request, spec)

        endpoint.spec = spec  # type: ignore[attr-defined]
        # Actions that ask something (a form, a reason) confirm on their own page.
        confirmation = None if spec.has_own_page else spec.confirmation("the selected rows")
        return action(
            name=name,
            label=label,
            confirmation_message=confirmation,
            add_in_list=in_bar,
        )(endpoint)

    return wrap
