"""Screens for customer support: tickets, with their thread inline, and the messages."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa
from sqladmin import expose
from sqladmin.flash import Flash
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from wtforms import Form, SelectField, validators

from admin_views.base import StaffView
from admin_views.shared.actions import ActionContext, ActionRefusedError, row_action
from admin_views.shared.filters import ChoiceFilter, DateRangeFilter, RelatedFilter, YesNoFilter
from admin_views.shared.search import Exact
from admin_views.shared.staff_form import StaffForm
from audit import trail
from audit.snapshot import changes, snapshot
from auth.middleware import actor, current_staff
from auth.permissions import allows
from models.base import utcnow
from models.people import AdminUser
from models.support import (
    MessageAuthor,
    SupportTicket,
    TicketMessage,
    TicketStatus,
)

MENU = "Support"
MAX_REPLY_LENGTH = 10_000
DONE = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})


async def agent_form(view: StaffView) -> type[Form]:
    """Choose among active staff, read when the form is shown."""
    async with view.session_maker() as db:
        agents = (
            await db.execute(
                sa.select(AdminUser.id, AdminUser.full_name, AdminUser.email)
                .where(AdminUser.is_active.is_(True))
                .order_by(AdminUser.full_name)
            )
        ).all()

    class AssignForm(StaffForm):
        agent = SelectField(
            "Agent",
            choices=[(str(key), f"{name} <{email}>") for key, name, email in agents],
            validators=[validators.InputRequired()],
        )

    return AssignForm


class StatusForm(StaffForm):
    status = SelectField(
        "Status",
        choices=[(s.value, s.value.replace("_", " ")) for s in TicketStatus],
        validators=[validators.InputRequired()],
    )


def _set_status(ticket: SupportTicket, status: str) -> None:
    now = utcnow()
    ticket.status = status
    if status in DONE and ticket.resolved_at is None:
        ticket.resolved_at = now
    if status == TicketStatus.CLOSED and ticket.closed_at is None:
        ticket.closed_at = now
    if status not in DONE:
        ticket.resolved_at = None
        ticket.closed_at = None


class SupportTicketAdmin(StaffView, model=SupportTicket):
    default_access = {"admin": ("*",), "support": ("*",), "analyst": ("view", "export")}
    name = "Ticket"
    icon = "fa-solid fa-life-ring"
    personal_data = True
    column_list = [
        SupportTicket.reference,
        SupportTicket.subject,
        SupportTicket.user,
        SupportTicket.status,
        SupportTicket.priority,
        SupportTicket.category,
        SupportTicket.assignee,
        SupportTicket.created_at,
    ]
    column_searchable_list = [SupportTicket.reference, SupportTicket.subject, "user.email"]
    search_exact = {
        Exact.REFERENCE: [SupportTicket.reference],
        Exact.EMAIL: ["user.email"],
        Exact.UUID: [SupportTicket.id],
    }
    column_sortable_list = [SupportTicket.priority, SupportTicket.status, SupportTicket.created_at]
    column_labels = {SupportTicket.user: "Customer"}
    export_extra = {"user.email": "Customer email"}
    column_filters = [
        ChoiceFilter(SupportTicket.status),
        ChoiceFilter(SupportTicket.priority),
        ChoiceFilter(SupportTicket.category),
        ChoiceFilter(SupportTicket.channel),
        RelatedFilter(SupportTicket.assignee_id, "Assignee", label=AdminUser.email),
        RelatedFilter(SupportTicket.user_id, "Customer"),
        DateRangeFilter(SupportTicket.created_at, "Opened"),
    ]
    form_columns = [
        SupportTicket.user,
        SupportTicket.subject,
        SupportTicket.description,
        SupportTicket.priority,
        SupportTicket.category,
        SupportTicket.channel,
        SupportTicket.assignee,
        SupportTicket.tags,
    ]
    detail_panels = ["staff/panels/ticket_thread.html"]

    async def details_context(self, request: Request) -> dict[str, Any]:
        context = await super().details_context(request)
        staff = current_staff(request)
        ticket_id = uuid.UUID(request.path_params["pk"])
        async with self.session_maker() as db:
            thread = list(
                await db.scalars(
                    sa.select(TicketMessage)
                    .where(TicketMessage.ticket_id == ticket_id)
                    .options(sa.orm.selectinload(TicketMessage.author_admin))
                    .order_by(TicketMessage.created_at)
                )
            )
        can_reply = staff is not None and allows(staff.permissions, "ticket_messages", "create")
        return context | {"thread": thread, "can_reply": can_reply}

    @expose("/{pk}/reply", methods=["POST"])
    async def reply(self, request: Request) -> Response:
        """Answer the customer, or leave an internal note, from the ticket page."""
        staff = current_staff(request)
        if staff is None or not allows(staff.permissions, "ticket_messages", "create"):
            raise HTTPException(403)
        ticket_id = uuid.UUID(request.path_params["pk"])
        form = await request.form()
        body = str(form.get("body") or "").strip()
        internal = form.get("internal") == "1"
        page = request.url_for("admin:details", identity=self.identity, pk=str(ticket_id))
        if not body or len(body) > MAX_REPLY_LENGTH:
            Flash.error(
                request, f"Write a reply of 1 to {MAX_REPLY_LENGTH:,} characters.", title="Reply"
            )
            return RedirectResponse(page, status_code=303)
        async with self.session_maker(expire_on_commit=False) as db, db.begin():
            ticket = await db.get(SupportTicket, ticket_id, with_for_update=True)
            if ticket is None:
                raise HTTPException(404)
            before = snapshot(ticket)
            message = TicketMessage(
                ticket_id=ticket.id,
                author_type=MessageAuthor.AGENT,
                author_admin_id=staff.id,
                body=body,
                is_internal=internal,
            )
            db.add(message)
            if not internal:
                if ticket.first_response_at is None:
                    ticket.first_response_at = utcnow()
                if ticket.status == TicketStatus.OPEN:
                    ticket.status = TicketStatus.IN_PROGRESS
                if ticket.assignee_id is None:
                    ticket.assignee_id = staff.id
            await db.flush()
            who = actor(request)
            await trail.append(
                db,
                who,
                trail.Entry("create", "ticket_messages", str(message.id), None, snapshot(message)),
            )
            changed_before, changed_after = changes(before, snapshot(ticket))
            if changed_after:
                await trail.append(
                    db,
                    who,
                    trail.Entry(
                        "update", "support_tickets", str(ticket.id), changed_before, changed_after
                    ),
                )
        Flash.success(request, "Internal note added." if internal else "Reply sent.", title="Reply")
        return RedirectResponse(page, status_code=303)

    @row_action("assign-to-me", "Assign to me", when=lambda ticket: ticket.status not in DONE)
    async def assign_to_me(
        self, _db: AsyncSession, ticket: SupportTicket, context: ActionContext
    ) -> None:
        ticket.assignee_id = context.staff.id

    @row_action(
        "assign", "Assign to…", form=agent_form, when=lambda ticket: ticket.status not in DONE
    )
    async def assign(self, db: AsyncSession, ticket: SupportTicket, context: ActionContext) -> None:
        agent = await db.get(AdminUser, uuid.UUID(context.params["agent"]))
        if agent is None or not agent.is_active:
            raise ActionRefusedError("That agent cannot take tickets.")
        ticket.assignee_id = agent.id

    @row_action("set-status", "Set status…", form=StatusForm)
    async def set_status(
        self, _db: AsyncSession, ticket: SupportTicket, context: ActionContext
    ) -> None:
        _set_status(ticket, context.params["status"])

    @row_action("resolve", "Resolve", when=lambda ticket: ticket.status not in DONE)
    async def resolve(
        self, _db: AsyncSession, ticket: SupportTicket, _context: ActionContext
    ) -> None:
        _set_status(ticket, TicketStatus.RESOLVED)

    @row_action(
        "close",
        "Close",
        confirm="Close {record}?",
        when=lambda ticket: ticket.status != TicketStatus.CLOSED,
    )
    async def close(
        self, _db: AsyncSession, ticket: SupportTicket, _context: ActionContext
    ) -> None:
        _set_status(ticket, TicketStatus.CLOSED)


class TicketMessageAdmin(StaffView, model=TicketMessage):
    default_access = {"admin": ("*",), "support": ("*",), "analyst": ("view", "export")}
    name = "Ticket message"
    icon = "fa-solid fa-comments"
    personal_data = True
    column_list = [
        TicketMessage.ticket,
        TicketMessage.author_type,
        TicketMessage.author_admin,
        TicketMessage.is_internal,
        TicketMessage.body,
        TicketMessage.created_at,
    ]
    column_searchable_list = [TicketMessage.body, "ticket.reference"]
    column_filters = [
        ChoiceFilter(TicketMessage.author_type, title="Author"),
        YesNoFilter(TicketMessage.is_internal, "Internal note"),
        RelatedFilter(TicketMessage.ticket_id, "Ticket"),
        DateRangeFilter(TicketMessage.created_at, "Written"),
    ]
    form_columns = [TicketMessage.ticket, TicketMessage.body, TicketMessage.is_internal]

    async def on_model_change(
        self, data: dict, model: Any, is_created: bool, request: Request
    ) -> None:
        staff = current_staff(request)
        if is_created and staff is not None:
            model.author_type = MessageAuthor.AGENT
            model.author_admin_id = staff.id
        await super().on_model_change(data, model, is_created, request)
