"""Four eyes: which changes need a second staff member, and the approval requests they make.

A guard is declared beside what it guards, as a property of the action:

    @row_action("adjust", "Adjust balance", form=AdjustmentForm,
                four_eyes=above_threshold(adjustment))

When the guard answers `Needed`, the row-action runner (admin_views/parts/row_actions.py)
records an `ApprovalRequest` instead of changing anything. Every door that changes a row
(the record page, a bulk selection, the JSON API) goes through that runner, so the guard
is checked in one place. Approving runs the change through the same runner, in the same
transaction as the request's move from pending to executed: a second approval, a replay or
a forged id finds the request no longer pending and changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.shared.actions import ActionRefusedError
from audit import trail
from auth.permissions import allows
from auth.sessions import Staff
from models.approvals import DEFAULT_THRESHOLDS, ApprovalRequest, ApprovalStatus
from models.base import utcnow
from models.ops import RuntimeSetting
from models.payments import CURRENCIES
from models.people import AdminUser

if TYPE_CHECKING:
    from starlette.requests import Request

TABLE = ApprovalRequest.__tablename__
APPROVE = "action:approve"
"""The verb on `approval_requests` that lets a staff member approve or reject at all; the
checker also needs the permission of the change itself."""
THRESHOLD_KEY = "four_eyes.threshold.{currency}"
EXPIRY_KEY = "four_eyes.expiry_hours"
DEFAULT_EXPIRY_HOURS = 24
BULK_ROWS = 50
"""A bulk action on more rows than this needs a second person."""


class ApprovalRefusedError(ActionRefusedError):
    """A request cannot be decided (or run) as asked; the message says why."""


@dataclass(frozen=True)
class Needed:
    """Why a change needs a second person, and what it would do, in words."""

    rule: str
    preview: str = ""


Check = Callable[[Any, AsyncSession, Sequence[Any], dict[str, Any]], Awaitable[Needed | None]]
"""(view, session, the selected rows, the action's form values) -> Needed, or None to go ahead."""


@dataclass(frozen=True)
class Guard:
    """Decides whether a use of an action needs a second person."""

    check: Check
    reads_form: bool = False
    """Decides from the form's values (an amount) too; else from the rows alone, before the
    form is shown, so the form asks a reason only when one is needed."""

    async def __call__(
        self, view: Any, db: AsyncSession, rows: Sequence[Any], params: dict[str, Any]
    ) -> Needed | None:
        return await self.check(view, db, rows, params)


def always(rule: str) -> Guard:
    """Every use of the action needs a second person."""

    async def check(_view: Any, _db: AsyncSession, _rows: Sequence[Any], _params: Any) -> Needed:
        return Needed(rule)

    return Guard(check)


def more_rows_than(limit: int = BULK_ROWS) -> Guard:
    """A selection of more than `limit` rows needs a second person; fewer go ahead."""

    async def check(
        view: Any, _db: AsyncSession, rows: Sequence[Any], _params: Any
    ) -> Needed | None:
        if len(rows) <= limit:
            return None
        return Needed(
            f"{len(rows)} {view.name_plural.lower()} at once: more than {limit} needs a "
            "second person."
        )

    return Guard(check)


Amount = Callable[[AsyncSession, Any, dict[str, Any]], Awaitable[tuple[Decimal, str, str]]]
"""(session, row, form values) -> (money moved, its currency, the effect in words)."""


def above_threshold(amount: Amount) -> Guard:
    """Money moved above the currency's threshold (a setting) needs a second person."""

    async def check(
        _view: Any, db: AsyncSession, rows: Sequence[Any], params: dict[str, Any]
    ) -> Needed | None:
        for row in rows:
            moved, currency, preview = await amount(db, row, params)
            limit = await threshold(db, currency)
            if abs(moved) > limit:
                return Needed(
                    f"{abs(moved):,.2f} {currency} is above the {limit:,.2f} {currency} "
                    "threshold for one person.",
                    preview,
                )
        return None

    return Guard(check, reads_form=True)


async def threshold(db: AsyncSession, currency: str) -> Decimal:
    value = await _setting(db, THRESHOLD_KEY.format(currency=currency))
    try:
        return Decimal(str(value)) if value is not None else DEFAULT_THRESHOLDS[currency]
    except (InvalidOperation, KeyError):
        return DEFAULT_THRESHOLDS.get(currency, Decimal("0.00"))


async def expiry(db: AsyncSession) -> timedelta:
    value = await _setting(db, EXPIRY_KEY)
    try:
        hours = float(value) if value is not None else DEFAULT_EXPIRY_HOURS
    except (TypeError, ValueError):
        hours = DEFAULT_EXPIRY_HOURS
    return timedelta(hours=hours if hours > 0 else DEFAULT_EXPIRY_HOURS)


async def _setting(db: AsyncSession, key: str) -> Any:
    return await db.scalar(sa.select(RuntimeSetting.value).where(RuntimeSetting.key == key))


SETTINGS: dict[str, tuple[Any, str]] = {
    **{
        THRESHOLD_KEY.format(currency=currency): (
            f"{DEFAULT_THRESHOLDS[currency]:.2f}",
            f"Money one staff member may move in one action, in {currency}; above it a "
            "second person approves. Changing it needs a second person too.",
        )
        for currency in CURRENCIES
    },
    EXPIRY_KEY: (
        DEFAULT_EXPIRY_HOURS,
        "Hours an approval request waits for a second person before it expires.",
    ),
}
"""The settings rows four eyes reads, with their defaults (made by migration 0011)."""


def is_guarded_setting(key: str) -> bool:
    return key in SETTINGS


@dataclass(frozen=True)
class Asked:
    """A guarded change, as its door saw it, to be kept until someone approves it."""

    table: str
    action: str
    action_label: str
    permission: str
    records: Sequence[tuple[str, str]]
    """(id, label) of each row it changes."""
    params: dict[str, Any]
    needed: Needed
    reason: str


async def ask(db: AsyncSession, actor: trail.Actor, staff: Staff, asked: Asked) -> ApprovalRequest:
    """Record a request for a second person (and its audit entry) in the caller's
    transaction."""
    now = _now()
    labels = [label for _, label in asked.records]
    record_label = labels[0] if len(labels) == 1 else f"{len(labels)} rows: {', '.join(labels)}"
    request = ApprovalRequest(
        table_name=asked.table,
        action=asked.action,
        action_label=asked.action_label,
        permission=asked.permission,
        record_ids=[record_id for record_id, _ in asked.records],
        record_label=record_label[:300],
        params=asked.params,
        preview=asked.needed.preview,
        rule=asked.needed.rule[:300],
        reason=asked.reason.strip(),
        status=ApprovalStatus.PENDING,
        maker_id=staff.id,
        expires_at=now + await expiry(db),
    )
    db.add(request)
    await db.flush()
    await trail.append(
        db,
        actor,
        trail.Entry(
            "approval:request",
            TABLE,
            str(request.id),
            None,
            {
                "table": asked.table,
                "action": asked.action,
                "records": request.record_ids,
                "rule": request.rule,
                "preview": request.preview,
                "reason": request.reason,
            },
        ),
    )
    return request


def may_approve(staff: Staff, request: ApprovalRequest) -> bool:
    """Whether `staff` may decide `request`: the approve permission, the permission of the
    change itself, and not being the one who asked it (superadmins included)."""
    resource, _, verb = request.permission.partition(":")
    return (
        staff.id != request.maker_id
        and allows(staff.permissions, TABLE, APPROVE)
        and allows(staff.permissions, resource, verb)
    )


async def claim(
    db: AsyncSession,
    request_id: uuid.UUID,
    checker: Staff,
    to: ApprovalStatus,
    note: str | None = None,
) -> ApprovalRequest:
    """Move a pending request to `to` (executed, approved, rejected, failed) for `checker`,
    in the caller's transaction; ApprovalRefusedError unless it is still pending, unexpired,
    and `checker` may decide it. Concurrent claims of one request: one wins, the rest wait
    on its row and then find it decided."""
    request = await db.get(ApprovalRequest, request_id)
    if request is None:
        raise ApprovalRefusedError("There is no such approval request.")
    if not may_approve(checker, request):
        if checker.id == request.maker_id:
            raise ApprovalRefusedError(
                "You asked for this change: another staff member has to approve it."
            )
        raise ApprovalRefusedError(
            "Your role may not approve this change: it needs the approve permission and "
            f"{request.permission}."
        )
    now = _now()
    claimed = await moved(
        db,
        request_id,
        ApprovalStatus.PENDING,
        ApprovalRequest.expires_at > now,
        ApprovalRequest.maker_id != checker.id,
        status=to,
        checker_id=checker.id,
        decided_at=now,
        decision_reason=note,
        executed_at=now if to == ApprovalStatus.EXECUTED else None,
    )
    if not claimed:
        await db.refresh(request)
        raise ApprovalRefusedError(_not_pending(request, now))
    await db.refresh(request)
    return request


async def moved(
    db: AsyncSession,
    request_id: uuid.UUID,
    expected: ApprovalStatus,
    *conditions: Any,
    **values: Any,
) -> bool:
    """Compare and set: give the request `values` if it is still `expected` and meets
    `conditions`, in the caller's transaction; whether it did. Of two at once, one waits on
    the other's row and then finds it moved on."""
    result = await db.execute(
        sa.update(ApprovalRequest)
        .where(ApprovalRequest.id == request_id, ApprovalRequest.status == expected, *conditions)
        .values(updated_at=_now(), **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


async def withdraw(db: AsyncSession, request_id: uuid.UUID, maker: Staff) -> ApprovalRequest:
    """The maker takes back a pending request."""
    now = _now()
    withdrawn = await moved(
        db,
        request_id,
        ApprovalStatus.PENDING,
        ApprovalRequest.maker_id == maker.id,
        status=ApprovalStatus.WITHDRAWN,
        decided_at=now,
    )
    request = await db.get(ApprovalRequest, request_id)
    if request is None:
        raise ApprovalRefusedError("There is no such approval request.")
    await db.refresh(request)
    if not withdrawn:
        if request.maker_id != maker.id:
            raise ApprovalRefusedError("Only the staff member who asked can withdraw a request.")
        raise ApprovalRefusedError(_not_pending(request, now))
    return request


async def expire_overdue(db: AsyncSession) -> int:
    """Mark pending requests past their expiry as expired; how many were."""
    now = _now()
    result = await db.execute(
        sa.update(ApprovalRequest)
        .where(
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.expires_at <= now,
        )
        .values(status=ApprovalStatus.EXPIRED, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


WAITING = "approvals_waiting"
"""The name the session check reads `waiting_by_permission` under (app.py wires it)."""


def waiting_by_permission(now: datetime | sa.BindParameter[datetime]) -> sa.ScalarSelect[Any]:
    """Pending requests someone else asked, counted per permission ("wallets:action:adjust 2",
    comma-joined), for the sidebar's badge. Read in the session check's statement
    (`auth.sessions.Alongside`), correlated to the signed-in staff member's row: the badge
    costs no round trip of its own. Which permissions count is the role's question, answered
    in Python by `waiting_for` with the same rule every door uses."""
    per_permission = (
        sa.select(ApprovalRequest.permission, sa.func.count().label("waiting"))
        .where(
            ApprovalRequest.status == ApprovalStatus.PENDING,
            ApprovalRequest.expires_at > now,
            ApprovalRequest.maker_id != AdminUser.id,
        )
        .group_by(ApprovalRequest.permission)
        .correlate(AdminUser)
        .subquery()
    )
    pair = per_permission.c.permission + " " + sa.cast(per_permission.c.waiting, sa.String)
    return sa.select(sa.func.aggregate_strings(pair, ",")).scalar_subquery()


def waiting_for(staff: Staff) -> int:
    """Pending requests `staff` could approve now, for the sidebar's badge."""
    if not allows(staff.permissions, TABLE, APPROVE):
        return 0
    counted = (pair.rpartition(" ") for pair in (staff.alongside[WAITING] or "").split(","))
    return sum(
        int(count)
        for permission, _, count in counted
        if permission and allows(staff.permissions, *permission.partition(":")[::2])
    )


def _not_pending(request: ApprovalRequest, now: datetime) -> str:
    if request.status == ApprovalStatus.PENDING and request.expires_at <= now:
        return "This request expired before anyone approved it; ask again if it is still needed."
    return f"This request is already {request.status}: nothing was changed."


def _now() -> datetime:
    return utcnow()


def actor_details(request: ApprovalRequest, maker_email: str) -> dict[str, Any]:
    """What an executed change's audit entry says about the four eyes on it."""
    return {"approval_request": str(request.id), "requested_by": maker_email}


async def maker_email(db: AsyncSession, request: ApprovalRequest) -> str:
    return str(await db.scalar(sa.select(AdminUser.email).where(AdminUser.id == request.maker_id)))


def page_url(http: Request, request_id: uuid.UUID | str) -> str:
    return str(http.url_for("admin:details", identity=TABLE.replace("_", "-"), pk=str(request_id)))
