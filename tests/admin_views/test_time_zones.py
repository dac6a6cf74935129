"""Times read in the signed-in staff member's zone, in one format: `3 Dec 2026, 14:05`,
relative on lists with the exact local time on hover; dates (`3 Dec 2026`) never shift."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.shared.formatting import (
    clock,
    column_formatter,
    day,
    exact,
    moment,
    timestamp,
    zone_name,
)
from core import time_zones
from models import User
from tests import rows, staff

KNOWN = datetime(2026, 11, 1, 15, 30, tzinfo=UTC)
"""A Sunday afternoon in UTC; already Monday 2 November in Tokyo."""
DETAILS_LINK = re.compile(r'href="([^"]*/admin/customers/[^"]+)"')


def test_a_moment_reads_in_the_zone_being_shown() -> None:
    assert exact(KNOWN) == "1 Nov 2026, 15:30"  # outside a request: UTC
    with time_zones.showing("Asia/Tokyo"):
        assert exact(KNOWN) == "2 Nov 2026, 00:30"
        assert clock(KNOWN) == "00:30"
        assert zone_name() == "Asia/Tokyo"
    assert zone_name() == "UTC"  # the block's zone does not leak past it


def test_daylight_saving_changes_move_the_local_time_not_the_moment() -> None:
    with time_zones.showing("America/New_York"):  # clocks went forward 8 Mar 2026, 02:00
        assert exact(datetime(2026, 3, 8, 6, 59, tzinfo=UTC)) == "8 Mar 2026, 01:59"
        assert exact(datetime(2026, 3, 8, 7, 0, tzinfo=UTC)) == "8 Mar 2026, 03:00"
    with time_zones.showing("Europe/Paris"):  # back 25 Oct 2026, 03:00 -> 02:00
        assert exact(datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) == "25 Oct 2026, 02:30"
        assert exact(datetime(2026, 10, 25, 1, 30, tzinfo=UTC)) == "25 Oct 2026, 02:30"
        assert exact(datetime(2026, 12, 3, 13, 5, tzinfo=UTC)) == "3 Dec 2026, 14:05"


def test_a_date_is_the_same_day_in_every_zone() -> None:
    with time_zones.showing("Pacific/Kiritimati"):  # UTC+14
        assert day(date(2026, 12, 3)) == "3 Dec 2026"
        assert day("2026-12-03") == "3 Dec 2026"
    assert day(None) == ""
    formatter = column_formatter(User.__table__.c.date_of_birth)
    assert formatter is not None
    assert formatter(User(date_of_birth=date(1990, 5, 17)), "date_of_birth") == "17 May 1990"


def test_naive_and_iso_text_moments_are_utc() -> None:
    with time_zones.showing("Asia/Tokyo"):
        assert exact(datetime(2026, 11, 1, 15, 30)) == "2 Nov 2026, 00:30"
        assert exact("2026-11-01T15:30:00+00:00") == "2 Nov 2026, 00:30"
        assert exact(None) == ""


def test_a_timestamp_is_relative_with_the_exact_local_time_on_hover() -> None:
    with time_zones.showing("Europe/Paris"):
        shown = timestamp(datetime(2026, 12, 3, 13, 5, tzinfo=UTC), KNOWN.replace(month=12, day=3))
        exact_shown = moment(datetime(2026, 12, 3, 13, 5, tzinfo=UTC))
    assert shown == Markup(
        '<time datetime="2026-12-03T13:05:00+00:00" title="3 Dec 2026, 14:05 (Europe/Paris)">'
        "2 hours ago</time>"
    )
    assert exact_shown == Markup(
        '<time datetime="2026-12-03T13:05:00+00:00" title="3 Dec 2026, 14:05 (Europe/Paris)">'
        "3 Dec 2026, 14:05</time>"
    )
    assert timestamp(None) == Markup("")


def test_an_unknown_zone_shows_utc_rather_than_failing() -> None:
    with time_zones.showing("Mars/Olympus_Mons"):
        assert zone_name() == "UTC"
    assert not time_zones.is_zone("localtime")  # the server's own setting is no place
    assert time_zones.is_zone("Asia/Tokyo")


@pytest.mark.parametrize(
    ("zone", "local"),
    [("Asia/Tokyo", "2 Nov 2026, 00:30"), ("UTC", "1 Nov 2026, 15:30")],
)
async def test_list_and_detail_pages_show_times_in_the_staff_members_zone(
    client: httpx.AsyncClient, db: AsyncSession, zone: str, local: str
) -> None:
    user = await rows.insert(
        db,
        "users",
        rows.user_row(
            last_active_at=KNOWN, created_at=KNOWN - timedelta(days=30), date_of_birth=None
        ),
    )
    ticket = await rows.insert(db, "support_tickets", rows.ticket_row(user["id"]))
    await rows.insert(db, "ticket_messages", rows.message_row(ticket["id"], created_at=KNOWN))
    await db.commit()
    await staff.signed_in(client, await staff.make_staff(db, "superadmin", time_zone=zone))
    hover = f'datetime="2026-11-01T15:30:00+00:00" title="{local} ({zone})"'

    listing = (await client.get("/admin/users/list", params={"search": user["email"]})).text
    assert hover in listing
    link = DETAILS_LINK.search(listing)
    assert link, listing[:2000]
    details = (await client.get(link[1].replace("&amp;", "&"))).text
    assert hover in details

    thread = (await client.get(f"/admin/support-tickets/details/{ticket['id']}")).text
    assert f"{hover}>{local}</time>" in thread


async def test_a_date_column_reads_as_a_date(client: httpx.AsyncClient, db: AsyncSession) -> None:
    user = await rows.insert(db, "users", rows.user_row(date_of_birth=date(1990, 5, 17)))
    await db.commit()
    await staff.signed_in(client, await staff.make_staff(db, "superadmin", time_zone="Asia/Tokyo"))
    details = (await client.get(f"/admin/users/details/{user['id']}")).text
    assert "17 May 1990" in details
    assert "1990-05-17" not in details
