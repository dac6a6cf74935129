"""Support desk figures: the open queue now, and how the tickets of a period were handled.

What the figures mean:

- Open tickets are those whose status is open, pending or in progress at the moment of
  asking, whenever they were created. They are counted by priority and by status; every
  priority and every open status is listed, with 0 where there are none.
- The tickets of a period are those created in it (UTC days, both ends included).
- First-response time is first_response_at - created_at, over the period's tickets that
  have had a first response. Resolution time is resolved_at - created_at, over the period's
  tickets that have been resolved (a closed ticket counts as resolved; a reopened one has no
  resolution time, since reopening clears it). Both are medians, in seconds, rounded to the
  millisecond, and None when no ticket qualifies. The median of an even number of times is
  the mean of the middle two.
- Tickets per agent: of the period's tickets, how many are assigned to each agent now, and
  how many of those are now resolved or closed. Agents without tickets in the period are
  not listed; tickets without an assignee are counted as unassigned.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period
from analytics.sql import seconds_between
from models.people import AdminUser
from models.support import SupportTicket, TicketPriority, TicketStatus

OPEN_STATUSES = (TicketStatus.OPEN, TicketStatus.PENDING, TicketStatus.IN_PROGRESS)
DONE_STATUSES = (TicketStatus.RESOLVED, TicketStatus.CLOSED)
MILLISECOND_PLACES = 3
"""SQLite measures time between timestamps in fractions of a day, good to tens of
microseconds; rounding to the millisecond gives both databases the same answer."""


@dataclass(frozen=True)
class Tally:
    value: str
    count: int


@dataclass(frozen=True)
class OpenTickets:
    total: int
    by_priority: list[Tally]
    by_status: list[Tally]


@dataclass(frozen=True)
class TicketTimes:
    created: int
    responded: int
    """Tickets created in the period that have had a first response."""
    median_first_response_seconds: float | None
    resolved: int
    """Tickets created in the period that have been resolved."""
    median_resolution_seconds: float | None


@dataclass(frozen=True)
class AgentTickets:
    id: uuid.UUID
    name: str
    assigned: int
    done: int
    """Of `assigned`, those now resolved or closed."""


@dataclass(frozen=True)
class AgentWorkload:
    agents: list[AgentTickets]
    unassigned: int


def _created_in(period: Period) -> list[sa.ColumnElement[bool]]:
    return [SupportTicket.created_at >= period.start, SupportTicket.created_at < period.end]


async def _tally(
    session: AsyncSession, column: sa.ColumnElement[str], values: tuple[str, ...]
) -> list[Tally]:
    query = (
        sa.select(column, sa.func.count())
        .where(SupportTicket.status.in_(OPEN_STATUSES))
        .group_by(column)
    )
    found: dict[str, int] = dict((await session.execute(query)).all())
    return [Tally(value, found.get(value, 0)) for value in values]


async def open_tickets(session: AsyncSession) -> OpenTickets:
    """The queue as it stands: open, pending and in-progress tickets."""
    by_status = await _tally(session, SupportTicket.status, tuple(OPEN_STATUSES))
    return OpenTickets(
        total=sum(t.count for t in by_status),
        by_priority=await _tally(session, SupportTicket.priority, tuple(TicketPriority)),
        by_status=by_status,
    )


async def _count(session: AsyncSession, *where: sa.ColumnElement[bool]) -> int:
    query = sa.select(sa.func.count()).select_from(SupportTicket).where(*where)
    return int(await session.scalar(query) or 0)


async def _median_seconds(
    session: AsyncSession, until: sa.ColumnElement[Any], period: Period
) -> tuple[int, float | None]:
    """How many of the period's tickets have `until` set, and the median time to it.

    The database finds the one or two middle durations by sorting, so no list of
    durations ever leaves it.
    """
    where = [*_created_in(period), until.is_not(None)]
    count = await _count(session, *where)
    if count == 0:
        return 0, None
    duration = seconds_between(until, SupportTicket.created_at)
    middle = (
        sa.select(duration.label("seconds"))
        .where(*where)
        .order_by(duration)
        .offset((count - 1) // 2)
        .limit(1 if count % 2 else 2)
        .subquery()
    )
    mean = await session.scalar(sa.select(sa.func.avg(middle.c.seconds)))
    return count, round(float(mean), MILLISECOND_PLACES)


async def ticket_times(session: AsyncSession, period: Period) -> TicketTimes:
    """How many tickets the period brought, and how fast they were answered and resolved."""
    responded, first_response = await _median_seconds(
        session, SupportTicket.first_response_at, period
    )
    resolved, resolution = await _median_seconds(session, SupportTicket.resolved_at, period)
    return TicketTimes(
        created=await _count(session, *_created_in(period)),
        responded=responded,
        median_first_response_seconds=first_response,
        resolved=resolved,
        median_resolution_seconds=resolution,
    )


async def tickets_per_agent(session: AsyncSession, period: Period) -> AgentWorkload:
    """The period's tickets by assignee, busiest first; the rest as unassigned."""
    assigned = sa.func.count().label("assigned")
    query = (
        sa.select(
            SupportTicket.assignee_id,
            AdminUser.full_name,
            assigned,
            sa.func.count().filter(SupportTicket.status.in_(DONE_STATUSES)).label("done"),
        )
        .outerjoin(AdminUser, AdminUser.id == SupportTicket.assignee_id)
        .where(*_created_in(period))
        .group_by(SupportTicket.assignee_id, AdminUser.full_name)
        .order_by(assigned.desc(), AdminUser.full_name, SupportTicket.assignee_id)
    )
    rows = (await session.execute(query)).all()
    return AgentWorkload(
        agents=[
            AgentTickets(row.assignee_id, row.full_name, row.assigned, row.done)
            for row in rows
            if row.assignee_id is not None
        ],
        unassigned=sum(row.assigned for row in rows if row.assignee_id is None),
    )
