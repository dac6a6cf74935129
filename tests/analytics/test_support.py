"""Support desk figures: the open queue, response and resolution medians, tickets per agent.

Times are written with their offsets; a ticket's day is its UTC day, so
2026-11-02T00:30:00+02:00 (= 2026-11-01T22:30Z) belongs to 2026-11-01.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.period import Period
from analytics.support import (
    AgentTickets,
    AgentWorkload,
    OpenTickets,
    Tally,
    TicketTimes,
    open_tickets,
    ticket_times,
    tickets_per_agent,
)
from core.jsonable import plain
from tests import rows
from tests.staff import make_staff, signed_in

PATH = "/api/v1/admin/dashboard/support"
PLUS_TWO = timezone(timedelta(hours=2))
MINUS_FIVE = timezone(timedelta(hours=-5))
PERIOD = Period(date(2026, 11, 2), date(2026, 11, 3))
NO_OPEN = OpenTickets(
    0,
    [Tally("low", 0), Tally("normal", 0), Tally("high", 0), Tally("urgent", 0)],
    [Tally("open", 0), Tally("pending", 0), Tally("in_progress", 0)],
)


def utc(day: int, hour: int = 12, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


async def customer(db: AsyncSession) -> uuid.UUID:
    return (await rows.insert(db, "users", rows.user_row()))["id"]


async def agent(db: AsyncSession, name: str) -> uuid.UUID:
    return (await rows.insert(db, "admin_users", await rows.admin_row(db, full_name=name)))["id"]


async def ticket(
    db: AsyncSession,
    user: uuid.UUID,
    created_at: datetime,
    *,
    response: float | None = None,
    resolution: float | None = None,
    **overrides: Any,
) -> uuid.UUID:
    """A ticket answered `response` seconds and resolved `resolution` seconds after it came in."""
    row = rows.ticket_row(
        user,
        created_at=created_at,
        updated_at=created_at,
        first_response_at=None if response is None else created_at + timedelta(seconds=response),
        resolved_at=None if resolution is None else created_at + timedelta(seconds=resolution),
        **overrides,
    )
    return (await rows.insert(db, "support_tickets", row))["id"]


# Open tickets -----------------------------------------------------------------------------


async def test_open_tickets_by_priority_and_status(db: AsyncSession) -> None:
    user = await customer(db)
    old = datetime(2025, 1, 15, 9, 0, tzinfo=UTC)  # open tickets count whenever they came in
    await ticket(db, user, old, status="open", priority="urgent")
    await ticket(db, user, utc(1), status="open", priority="high")
    await ticket(db, user, utc(2), status="pending", priority="high")
    await ticket(db, user, utc(3), status="in_progress", priority="low", response=60)
    await ticket(db, user, utc(3), status="resolved", priority="urgent", resolution=600)
    await ticket(
        db, user, utc(3), status="closed", priority="normal", resolution=60, closed_at=utc(4)
    )
    await db.commit()

    queue = await open_tickets(db)

    # 4 open-ish tickets; resolved and closed ones are not in the queue. No normal ticket is
    # open, so normal is listed with 0.
    assert queue == OpenTickets(
        4,
        [Tally("low", 1), Tally("normal", 0), Tally("high", 2), Tally("urgent", 1)],
        [Tally("open", 2), Tally("pending", 1), Tally("in_progress", 1)],
    )


async def test_no_open_tickets_lists_every_priority_and_status_with_zero(
    db: AsyncSession,
) -> None:
    user = await customer(db)
    await ticket(db, user, utc(2), status="resolved", resolution=10)
    await db.commit()

    assert await open_tickets(db) == NO_OPEN


# Ticket times -----------------------------------------------------------------------------


async def boundary_dataset(db: AsyncSession) -> None:
    """Tickets in and around PERIOD (2026-11-02 to 2026-11-03).

    In: T1 at the first instant (response 60 s, resolved 3600 s), T2 (response 600 s,
    closed, resolved 7200 s), T3 at the last second (response 120 s, reopened: open, no
    resolved_at), T4 (nothing yet), T5 at 2026-11-04T00:30+02:00 = 11-03T22:30Z (pending).
    Out: the last second before, 2026-11-02T01:30+02:00 = 11-01T23:30Z, the first instant
    after, and 2026-11-03T21:00-05:00 = 11-04T02:00Z; each answered and resolved in seconds.
    """
    user = await customer(db)
    await ticket(db, user, utc(2, 0), response=60, resolution=3600, status="resolved")
    await ticket(
        db, user, utc(2, 10), response=600, resolution=7200, status="closed", closed_at=utc(3)
    )
    await ticket(db, user, utc(3, 23, 59, 59), response=120, status="open")
    await ticket(db, user, utc(3, 12), status="open")
    await ticket(db, user, datetime(2026, 11, 4, 0, 30, tzinfo=PLUS_TWO), status="pending")
    for outside in (
        utc(1, 23, 59, 59),
        datetime(2026, 11, 2, 1, 30, tzinfo=PLUS_TWO),
        utc(4, 0),
        datetime(2026, 11, 3, 21, 0, tzinfo=MINUS_FIVE),
    ):
        await ticket(db, user, outside, response=1, resolution=2, status="resolved")
    await db.commit()


async def test_ticket_times_take_the_tickets_created_in_the_period(db: AsyncSession) -> None:
    await boundary_dataset(db)

    times = await ticket_times(db, PERIOD)

    # Created: T1..T5 = 5. Responded: T1, T2, T3 -> 60, 120, 600: median (odd) 120.
    # Resolved: T1, T2 (closed, resolved_at set); T3 was reopened and has no resolved_at.
    # Median (even) of 3600 and 7200 = (3600 + 7200) / 2 = 5400.
    assert times == TicketTimes(
        created=5,
        responded=3,
        median_first_response_seconds=120.0,
        resolved=2,
        median_resolution_seconds=5400.0,
    )


async def test_medians_of_odd_and_even_counts(db: AsyncSession) -> None:
    user = await customer(db)
    # Responses 1000, 10, 35, 20 (even): sorted 10, 20, 35, 1000 -> (20 + 35) / 2 = 27.5.
    # Resolutions 5000, 100, 300 (odd): sorted 100, 300, 5000 -> 300.
    await ticket(db, user, utc(2, 8), response=1000, resolution=5000, status="resolved")
    await ticket(db, user, utc(2, 9), response=10, resolution=100, status="closed")
    await ticket(db, user, utc(3, 9), response=35, resolution=300, status="resolved")
    await ticket(db, user, utc(3, 10), response=20, status="in_progress")
    await db.commit()

    times = await ticket_times(db, PERIOD)

    assert times == TicketTimes(4, 4, 27.5, 3, 300.0)


async def test_a_single_ticket_is_its_own_median_to_the_millisecond(db: AsyncSession) -> None:
    user = await customer(db)
    # 90.25 s to respond; 2 days, 1 hour and 0.5 s to resolve = 176400.5 s.
    await ticket(db, user, utc(2, 6), response=90.25, resolution=176400.5, status="resolved")
    await db.commit()

    times = await ticket_times(db, PERIOD)

    assert times == TicketTimes(1, 1, 90.25, 1, 176400.5)


async def test_medians_are_none_when_no_ticket_qualifies(db: AsyncSession) -> None:
    user = await customer(db)
    await ticket(db, user, utc(2), status="open")
    await ticket(db, user, utc(3), status="pending")
    await db.commit()

    assert await ticket_times(db, PERIOD) == TicketTimes(2, 0, None, 0, None)


async def test_an_empty_range_gives_zeros_and_nones(db: AsyncSession) -> None:
    await boundary_dataset(db)
    empty = Period(date(2026, 11, 10), date(2026, 11, 12))

    assert await ticket_times(db, empty) == TicketTimes(0, 0, None, 0, None)
    assert await tickets_per_agent(db, empty) == AgentWorkload([], 0)


async def test_a_ticket_belongs_to_its_utc_day_whatever_its_offset(db: AsyncSession) -> None:
    user = await customer(db)
    # 2026-11-02T00:30+02:00 = 2026-11-01T22:30Z: on 11-01.
    await ticket(db, user, datetime(2026, 11, 2, 0, 30, tzinfo=PLUS_TWO), response=30)
    # 2026-11-01T21:00-05:00 = 2026-11-02T02:00Z: on 11-02.
    await ticket(db, user, datetime(2026, 11, 1, 21, 0, tzinfo=MINUS_FIVE), response=90)
    await db.commit()

    on_first = await ticket_times(db, Period(date(2026, 11, 1), date(2026, 11, 1)))
    on_second = await ticket_times(db, Period(date(2026, 11, 2), date(2026, 11, 2)))
    both = await ticket_times(db, Period(date(2026, 11, 1), date(2026, 11, 2)))

    assert on_first == TicketTimes(1, 1, 30.0, 0, None)
    assert on_second == TicketTimes(1, 1, 90.0, 0, None)
    # (30 + 90) / 2 = 60.
    assert both == TicketTimes(2, 2, 60.0, 0, None)


# Tickets per agent ------------------------------------------------------------------------


async def workload_dataset(db: AsyncSession) -> dict[str, uuid.UUID]:
    """In PERIOD: Ana 3 (resolved, closed, reopened), Ben 1 (in progress), Dee 1 (closed),
    2 unassigned (one resolved). Outside: Ben the day before, Cy the day after, one
    unassigned at 2026-11-02T01:00+02:00 = 11-01T23:00Z."""
    user = await customer(db)
    ana = await agent(db, "Ana Agent")
    ben = await agent(db, "Ben Agent")
    cy = await agent(db, "Cy Agent")
    dee = await agent(db, "Dee Agent")
    await ticket(db, user, utc(2, 0), assignee_id=ana, status="resolved", resolution=60)
    await ticket(db, user, utc(2, 9), assignee_id=ana, status="closed", resolution=90)
    await ticket(db, user, utc(3, 23, 59, 59), assignee_id=ana, status="open")  # reopened
    await ticket(db, user, utc(3, 9), assignee_id=ben, status="in_progress")
    await ticket(db, user, utc(3, 10), assignee_id=dee, status="closed", resolution=30)
    await ticket(db, user, utc(2, 11), status="open")
    await ticket(db, user, utc(3, 11), status="resolved", resolution=45)
    await ticket(db, user, utc(1, 23, 59, 59), assignee_id=ben, status="resolved", resolution=5)
    await ticket(db, user, utc(4, 0), assignee_id=cy, status="resolved", resolution=5)
    await ticket(db, user, datetime(2026, 11, 2, 1, 0, tzinfo=PLUS_TWO), status="open")
    await db.commit()
    return {"ana": ana, "ben": ben, "cy": cy, "dee": dee}


async def test_tickets_per_agent_busiest_first_with_done_and_unassigned(
    db: AsyncSession,
) -> None:
    ids = await workload_dataset(db)

    workload = await tickets_per_agent(db, PERIOD)

    # Ana 3 assigned, 2 done (resolved + closed; the reopened one is open). Ben and Dee have
    # 1 each, by name; Dee's is closed. Cy has nothing in the period and is not listed.
    assert workload == AgentWorkload(
        agents=[
            AgentTickets(ids["ana"], "Ana Agent", 3, 2),
            AgentTickets(ids["ben"], "Ben Agent", 1, 0),
            AgentTickets(ids["dee"], "Dee Agent", 1, 1),
        ],
        unassigned=2,
    )


async def test_a_reopened_ticket_is_neither_resolved_nor_done(db: AsyncSession) -> None:
    user = await customer(db)
    ana = await agent(db, "Ana Agent")
    # Answered after 50 s, resolved, then reopened: open again with resolved_at cleared.
    await ticket(db, user, utc(2), response=50, assignee_id=ana, status="open")
    await db.commit()

    assert await ticket_times(db, PERIOD) == TicketTimes(1, 1, 50.0, 0, None)
    assert await tickets_per_agent(db, PERIOD) == AgentWorkload(
        [AgentTickets(ana, "Ana Agent", 1, 0)], 0
    )


# The JSON door ----------------------------------------------------------------------------


async def test_the_api_answers_the_same_figures(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    ids = await workload_dataset(db)
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(PATH, params={"from": "2026-11-02", "to": "2026-11-03"})

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"
    body = response.json()
    # Open now (any day): Ana's reopened, Ben's in progress, the two unassigned open ones
    # (one in the period, one outside), all normal priority.
    # Times: 7 tickets in the period; none answered; resolved Ana 60, Ana 90, Dee 30,
    # unassigned 45 -> sorted 30, 45, 60, 90 -> (45 + 60) / 2 = 52.5.
    assert body == {
        "period": {"from": "2026-11-02", "to": "2026-11-03"},
        "open": {
            "total": 4,
            "by_priority": [
                {"value": "low", "count": 0},
                {"value": "normal", "count": 4},
                {"value": "high", "count": 0},
                {"value": "urgent", "count": 0},
            ],
            "by_status": [
                {"value": "open", "count": 3},
                {"value": "pending", "count": 0},
                {"value": "in_progress", "count": 1},
            ],
        },
        "times": {
            "created": 7,
            "responded": 0,
            "median_first_response_seconds": None,
            "resolved": 4,
            "median_resolution_seconds": 52.5,
        },
        "workload": {
            "agents": [
                {"id": str(ids["ana"]), "name": "Ana Agent", "assigned": 3, "done": 2},
                {"id": str(ids["ben"]), "name": "Ben Agent", "assigned": 1, "done": 0},
                {"id": str(ids["dee"]), "name": "Dee Agent", "assigned": 1, "done": 1},
            ],
            "unassigned": 2,
        },
    }
    assert body == {
        "period": PERIOD.as_json(),
        "open": plain(await open_tickets(db)),
        "times": plain(await ticket_times(db, PERIOD)),
        "workload": plain(await tickets_per_agent(db, PERIOD)),
    }


async def test_the_api_answers_an_empty_range(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await signed_in(client, await make_staff(db, "analyst"))

    response = await client.get(PATH, params={"from": "2026-11-01", "to": "2026-11-01"})

    assert response.status_code == 200
    assert response.json() == {
        "period": {"from": "2026-11-01", "to": "2026-11-01"},
        "open": plain(NO_OPEN),
        "times": {
            "created": 0,
            "responded": 0,
            "median_first_response_seconds": None,
            "resolved": 0,
            "median_resolution_seconds": None,
        },
        "workload": {"agents": [], "unassigned": 0},
    }
