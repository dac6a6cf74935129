"""The customer page: one customer's whole story on one screen.

Every link to a customer leads here (`opens_records_of`). It shows who they are, their
wallets and open tickets, the actions that fit (the row actions the users, wallets and
transactions screens already offer, each coming back here), their timeline, the flags the
app gets for them now and their money lately. Each panel shows only what the staff
member's role may view; the page itself needs `users:view`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from sqladmin import expose
from sqladmin.flash import Flash
from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from admin_views import sqladmin_door as door
from admin_views.base import StaffPage
from admin_views.parts.row_actions import RecordAction
from admin_views.shared import audit_words, keyset
from admin_views.shared.formatting import COLOUR_OF, badge, money
from admin_views.shared.navigation import may_view
from admin_views.shared.new_ticket import NewTicketForm, open_ticket
from admin_views.shared.screens import tables_by_resource
from analytics import customer, timeline
from analytics.timeline import Kind
from auth.middleware import actor, current_staff
from auth.permissions import allows
from core.database import Database
from flags.engine import PLATFORMS, Context, Evaluation, evaluate, parse_version
from flags.store import FlagStore
from models.base import utcnow
from models.flags import PRODUCTION
from models.ops import AuditLog
from models.people import User

KIND_TABLES = {
    Kind.TRANSACTIONS: "wallet_transactions",
    Kind.TICKETS: "support_tickets",
    Kind.STATUS: "users",
    Kind.STAFF: "audit_logs",
}
"""The table a role must be able to view to see each kind of event."""
KIND_LABELS = {
    Kind.TRANSACTIONS: "Transactions",
    Kind.TICKETS: "Tickets and messages",
    Kind.STATUS: "Status changes",
    Kind.STAFF: "Staff actions",
}
MONEY_ROWS = (
    ("Money in, 30 days", "in_30"),
    ("Money out, 30 days", "out_30"),
    ("Money in, 90 days", "in_90"),
    ("Money out, 90 days", "out_90"),
    ("Refunds, 90 days", "refunds"),
    ("Refunded, 90 days", "refunded"),
    ("Failed payments, 90 days", "failed"),
)
"""The money summary's rows (label, `MoneySummary` field), one column per currency."""
CURSOR = keyset.Order((AuditLog.__table__.c.created_at, AuditLog.__table__.c.id), True)
"""A timeline cursor holds an event's (created_at, id), whatever its table."""
MAX_VERSION_LENGTH = 64


@dataclass(frozen=True)
class FlagColumn:
    """One context the flags are evaluated for: a platform, and an app version if chosen."""

    platform: str
    version: str


@dataclass(frozen=True)
class FlagRow:
    key: str
    answers: list[Evaluation]
    """One per `FlagColumn`, in order."""


def account_age(since: datetime, now: datetime) -> str:
    """`2 years 3 months`, `5 months`, `12 days`: how long the customer has been with us."""
    days = max((now - since).days, 0)
    years, rest = divmod(days, 365)
    months = rest // 30
    if years:
        return f"{years} year{'s' if years != 1 else ''}" + (
            f" {months} month{'s' if months != 1 else ''}" if months else ""
        )
    if months:
        return f"{months} month{'s' if months != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"


def _kinds(request: Request) -> tuple[list[Kind], frozenset[Kind], str | None]:
    """(kinds the staff member may see, kinds asked for, a complaint about the asking)."""
    shown = [kind for kind, table in KIND_TABLES.items() if may_view(request, table)]
    asked = request.query_params.getlist("kind")
    unknown = [name for name in asked if name not in {kind.value for kind in shown}]
    if unknown:
        names = ", ".join(kind.value for kind in shown)
        asked_for = unknown[0][:40]
        return (
            shown,
            frozenset(shown),
            f"{asked_for!r} is not a kind of event you may see here; pick from {names}.",
        )
    return shown, frozenset(Kind(name) for name in asked) or frozenset(shown), None


def kyc_badge(status: str) -> Markup:
    """`KYC verified`, coloured as every status badge is."""
    colour = COLOUR_OF.get(status, "secondary")
    return Markup('<span class="badge bg-{}-lt" title="KYC status">KYC {}</span>').format(
        colour, status
    )


def _older(params: QueryParams) -> timeline.Key | None:
    cursor = params.get("older")
    if not cursor:
        return None
    at, pk = keyset.decode(cursor, CURSOR)
    if not isinstance(at, datetime) or not isinstance(pk, uuid.UUID):
        raise HTTPException(400, "That page link is damaged: go back to the newest events.")
    return timeline.Key(at, pk)


def _flag_columns(params: QueryParams) -> tuple[list[FlagColumn], str | None]:
    """The platforms and version asked for (every platform, no version, by default)."""
    every = [FlagColumn(name, "") for name in sorted(PLATFORMS)]
    platform = params.get("platform") or ""
    version = (params.get("app_version") or "").strip()
    if platform and platform not in PLATFORMS:
        return every, f"Pick a platform: {', '.join(sorted(PLATFORMS))}."
    if version:
        try:
            if len(version) > MAX_VERSION_LENGTH:
                raise ValueError(version)
            parse_version(version)
        except ValueError:
            return every, f"{version[:40]!r} is not a version like 4.2.0."
    platforms = [platform] if platform else sorted(PLATFORMS)
    return [FlagColumn(name, version) for name in platforms], None


def flag_answers(store: FlagStore, user: User, columns: list[FlagColumn]) -> list[FlagRow]:
    """Every flag as the feed answers it for this customer in each column's context: the
    feed's own engine and in-memory snapshot of production, where customers' apps read,
    user id as the targeting key, no attributes (the app sends none unless a rule asks)."""
    now = utcnow()
    contexts = [
        Context(
            str(user.id),
            column.platform,
            parse_version(column.version) if column.version else None,
        )
        for column in columns
    ]
    return [
        FlagRow(flag.key, [evaluate(flag, context, now) for context in contexts])
        for flag in store.snapshot.of(PRODUCTION).flags
    ]


def _customer_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["pk"])
    except ValueError:
        raise HTTPException(404, "There is no customer at this address.") from None


class CustomerPage(StaffPage):
    """`/admin/customers/{pk}`, for staff who may view customers."""

    name = "Customer"
    icon = "fa-solid fa-user"
    resource = "users"
    opens_records_of = "users"
    record_route = "customer"

    def is_visible(self, request: Request) -> bool:
        return False  # opened from a customer's link, never from the menu

    def _actions(self, request: Request, identity: str, obj: Any) -> list[RecordAction]:
        return door.admin_of(self).model_view(identity).record_actions(request, obj)

    @expose("/customers/{pk}/tickets", methods=["POST"], identity="customer-new-ticket")
    async def new_ticket(self, request: Request) -> Response:
        """Open a ticket on the customer's behalf; back to their page, where it now shows."""
        staff = current_staff(request)
        if staff is None or not allows(staff.permissions, "support_tickets", "create"):
            raise HTTPException(403)
        user_id = _customer_id(request)
        form = NewTicketForm(await request.form())
        here = request.url_for(door.exposed_route(self.record_route), pk=str(user_id))
        if not form.validate():
            problems = " ".join(error for errors in form.errors.values() for error in errors)
            Flash.error(request, f"Nothing was opened: {problems}", title="New ticket")
            return RedirectResponse(here, status_code=303)
        database: Database = request.app.state.database
        async with database.session() as db, db.begin():
            if await db.get(User, user_id) is None:
                raise HTTPException(404, "There is no such customer.")
            ticket = await open_ticket(db, actor(request), user_id, form)
        Flash.success(request, f"Opened {ticket.reference}.", title="New ticket")
        return RedirectResponse(here, status_code=303)

    @expose("/customers/{pk}", identity="customer")
    async def customer(self, request: Request) -> Response:
        user_id = _customer_id(request)
        request.state.record_of = self.opens_records_of
        database: Database = request.app.state.database
        shown_kinds, kinds, kinds_error = _kinds(request)
        columns, flags_error = _flag_columns(request.query_params)
        older = _older(request.query_params)
        now = utcnow()
        async with database.session() as db:
            user = await db.get(User, user_id)
            if user is None:
                raise HTTPException(404, "There is no such customer.")
            wallets = await customer.wallets(db, user_id)
            wallet_ids = [wallet.id for wallet in wallets]
            story = await timeline.page(
                db,
                user_id,
                wallet_ids,
                kinds,
                older,
                with_messages=may_view(request, "ticket_messages"),
            )
            entries = [e.row for e in story.events if e.kind in (Kind.STATUS, Kind.STAFF)]
            reading = await audit_words.read(
                db, entries, tables_by_resource(door.admin_of(self)), request
            )
            money_lines = (
                await customer.money_summary(db, wallet_ids, now)
                if may_view(request, "wallet_transactions")
                else None
            )
            open_tickets = (
                await customer.open_tickets(db, user_id)
                if may_view(request, "support_tickets")
                else None
            )
        staff = current_staff(request)
        granted = staff.permissions if staff else []
        users = door.admin_of(self).model_view("users")
        store: FlagStore = door.admin_of(self).app.state.flags
        context = {
            "title": user.full_name,
            "user": user,
            "now": now,
            "age": account_age(user.created_at, now),
            "wallets": wallets if may_view(request, "wallets") else None,
            "open_tickets": open_tickets,
            "money_lines": money_lines,
            "money_rows": MONEY_ROWS,
            "user_actions": users.record_actions(request, user),
            "wallet_actions": {
                wallet.id: self._actions(request, "wallets", wallet) for wallet in wallets
            },
            "transaction_actions": {
                event.row.id: self._actions(request, "wallet-transactions", event.row)
                for event in story.events
                if event.kind == Kind.TRANSACTIONS
            },
            "can_edit": await users.check_can_edit(request, user),
            "can_reply": allows(granted, "ticket_messages", "create"),
            "can_open_ticket": allows(granted, "support_tickets", "create"),
            "ticket_form": NewTicketForm(),
            "story": story,
            "reading": reading,
            "shown_kinds": shown_kinds,
            "kinds": kinds,
            "kind_labels": KIND_LABELS,
            "kinds_error": kinds_error,
            "older_cursor": keyset.encode([story.older.at, story.older.id])
            if story.older
            else None,
            "flag_columns": columns,
            "flag_rows": flag_answers(store, user, columns)
            if may_view(request, "feature_flags")
            else None,
            "flags_error": flags_error,
            "platforms": sorted(PLATFORMS),
            "badge": badge,
            "kyc_badge": kyc_badge,
            "money": money,
            "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        }
        bad = kinds_error or flags_error
        return await self.templates.TemplateResponse(
            request, "staff/customer.html", context, status_code=400 if bad else 200
        )
