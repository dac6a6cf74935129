"""Row actions: POST-only, permission-checked by SQLAdmin, audited per row, all or nothing.

    @row_action("reject", "Reject", confirm="Reject these merchants?", form=RejectForm)
    async def reject(self, db, merchant, context):
        merchant.status = "rejected"
        merchant.rejection_reason = context.params["reason"]

An action with a `form` first answers with that form (for a reason, an agent, a status)
and runs when it comes back filled in and valid.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqladmin import action
from starlette.requests import Request
from starlette.responses import Response
from wtforms import Form

from auth.sessions import Staff

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from admin_views.base import StaffView

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

    async def form_class(self, view: Any) -> type[Form] | None:
        if self.form is None or isinstance(self.form, type):
            return self.form
        return await self.form(view)


def row_action(
    name: str,
    label: str,
    *,
    confirm: str | None = None,
    form: FormFactory | None = None,
    one_row: bool = False,
    facts: Facts | None = None,
) -> Callable[[RowChange[View]], Callable[[View, Request], Awaitable[Response]]]:
    """Declare an action that applies `change` to each selected row (see the module doc)."""

    def wrap(change: RowChange[View]) -> Callable[[View, Request], Awaitable[Response]]:
        spec = ActionSpec(name, label, change, form, one_row, facts)

        @functools.wraps(change)
        async def endpoint(self: View, request: Request) -> Response:
            return await self.run_row_action(request, spec)

        return action(name=name, label=label, confirmation_message=confirm)(endpoint)

    return wrap
