"""The ticket page: the thread inline, replies and internal notes without leaving it."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from models import SupportTicket, TicketMessage
from tests import staff
from tests.admin_views.screens import audit_for, token
from tests.clients import client_for


async def new_ticket(db: AsyncSession) -> SupportTicket:
    ticket = await db.scalar(sa.select(SupportTicket).limit(1))
    ticket.status, ticket.first_response_at, ticket.assignee_id = "open", None, None
    await db.commit()
    return ticket


async def reply(
    client: httpx.AsyncClient, ticket: SupportTicket, body: str, *, internal: bool = False
) -> httpx.Response:
    data = {"body": body, "csrf_token": await token(client)} | (
        {"internal": "1"} if internal else {}
    )
    return await client.post(f"/admin/support-tickets/{ticket.id}/reply", data=data)


async def test_the_thread_shows_on_the_ticket_page(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    ticket = await db.scalar(sa.select(SupportTicket).limit(1))
    bodies = list(
        await db.scalars(sa.select(TicketMessage.body).where(TicketMessage.ticket_id == ticket.id))
    )

    page = (await client.get(f"/admin/support-tickets/details/{ticket.id}")).text

    assert 'id="ticket-thread"' in page
    assert 'id="ticket-reply"' in page
    assert all(str(escape(body)) in page for body in bodies)


async def test_a_reply_to_a_new_ticket_sets_the_first_response(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    ticket = await new_ticket(db)

    response = await reply(client, ticket, "Thanks, we are on it.")

    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/admin/support-tickets/details/{ticket.id}")
    await db.refresh(ticket)
    assert ticket.first_response_at is not None
    assert (ticket.status, ticket.assignee_id) == ("in_progress", boss.id)
    message = await db.scalar(
        sa.select(TicketMessage).order_by(TicketMessage.created_at.desc()).limit(1)
    )
    assert (message.body, message.author_type, message.author_admin_id) == (
        "Thanks, we are on it.",
        "agent",
        boss.id,
    )
    assert len(await audit_for(db, "create", message.id)) == 1
    [update] = await audit_for(db, "update", ticket.id)
    assert update.after["status"] == "in_progress"
    assert "Thanks, we are on it." in (await client.get(response.headers["location"])).text


async def test_an_internal_note_is_not_a_response(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    ticket = await new_ticket(db)

    await reply(client, ticket, "Customer called twice, be gentle.", internal=True)

    await db.refresh(ticket)
    assert ticket.first_response_at is None
    assert ticket.status == "open"
    note = await db.scalar(
        sa.select(TicketMessage).order_by(TicketMessage.created_at.desc()).limit(1)
    )
    assert note.is_internal


async def test_an_empty_reply_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    ticket = await new_ticket(db)
    messages = await db.scalar(sa.select(sa.func.count()).select_from(TicketMessage))

    response = await reply(client, ticket, "   ")
    page = await client.get(response.headers["location"])

    assert "Write a reply of 1 to 10,000 characters." in page.text
    await db.rollback()
    assert await db.scalar(sa.select(sa.func.count()).select_from(TicketMessage)) == messages


async def test_only_staff_who_may_write_messages_can_reply(
    db: AsyncSession, settings: Settings, boss: staff.Account
) -> None:
    ticket = await new_ticket(db)
    viewer = await staff.make_staff(db, "marketing")
    async with client_for(settings) as client:
        await staff.signed_in(client, viewer)
        response = await reply(client, ticket, "Not my job.")

    assert response.status_code == 403
