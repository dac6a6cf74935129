"""A ticket staff open on a customer's behalf (they phoned, wrote, stopped by): the form and
the write, with its audit entry in the same transaction."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from wtforms import SelectField, StringField, TextAreaField, validators

from admin_views.shared.staff_form import StaffForm
from audit import trail
from audit.snapshot import snapshot
from models.support import SupportTicket, TicketCategory, TicketChannel, TicketPriority

MAX_DESCRIPTION = 10_000


def _choices(
    values: type[TicketCategory | TicketChannel | TicketPriority],
) -> list[tuple[str, str]]:
    return [(value.value, value.value.replace("_", " ")) for value in values]


class NewTicketForm(StaffForm):
    subject = StringField(
        "Subject",
        filters=[lambda text: text.strip() if text else text],
        validators=[
            validators.DataRequired("Give the ticket a subject."),
            validators.Length(max=200),
        ],
    )
    category = SelectField("Category", choices=_choices(TicketCategory), default="other")
    priority = SelectField("Priority", choices=_choices(TicketPriority), default="normal")
    channel = SelectField("Came in by", choices=_choices(TicketChannel), default="phone")
    description = TextAreaField(
        "What they said", validators=[validators.Length(max=MAX_DESCRIPTION)]
    )


async def open_ticket(
    db: AsyncSession, who: trail.Actor, user_id: uuid.UUID, form: NewTicketForm
) -> SupportTicket:
    """The ticket and its `create` entry, in the caller's transaction."""
    ticket = SupportTicket(
        user_id=user_id,
        subject=form.subject.data,
        description=(form.description.data or "").strip(),
        category=form.category.data,
        priority=form.priority.data,
        channel=form.channel.data,
    )
    db.add(ticket)
    await db.flush()
    await trail.append(
        db, who, trail.Entry("create", "support_tickets", str(ticket.id), None, snapshot(ticket))
    )
    return ticket
