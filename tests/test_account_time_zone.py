"""My account: each staff member picks the time zone every page shows times in."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdminUser
from tests import rows, staff

FORM = re.compile(r'<form class="card mt-3" method="post" action="([^"]+)" id="time-zone-form">')
FORM_TOKEN = re.compile(r'id="time-zone-form">.*?name="csrf_token" value="([^"]+)"', re.DOTALL)


async def submit_zone(client: httpx.AsyncClient, zone: str) -> httpx.Response:
    """Choose `zone` in the form the account page renders, and send it."""
    page = (await client.get("/admin/account")).text
    action, token = FORM.search(page), FORM_TOKEN.search(page)
    assert action, page[:2000]
    assert token, page[:2000]
    return await client.post(action[1], data={"time_zone": zone, "csrf_token": token[1]})


async def stored_zone(db: AsyncSession, account: staff.Account) -> str:
    await db.commit()  # a fresh snapshot: the app wrote through its own connection
    return str(await db.scalar(sa.select(AdminUser.time_zone).where(AdminUser.id == account.id)))


async def test_a_new_staff_member_reads_utc_and_the_picker_offers_every_area(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)
    page = (await client.get("/admin/account")).text
    assert await stored_zone(db, account) == "UTC"
    assert re.search(r'<option value="UTC" selected>UTC \(UTC\+00:00\)</option>', page)
    for area in ("Africa", "America", "Asia", "Australia", "Europe", "Pacific"):
        assert f'<optgroup label="{area}">' in page
    assert '<option value="Asia/Tokyo">Tokyo (UTC+09:00)</option>' in page


async def test_picking_a_zone_stores_it_audits_it_and_every_page_follows(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)

    response = await submit_zone(client, "Asia/Tokyo")

    assert response.status_code == 303
    assert await stored_zone(db, account) == "Asia/Tokyo"
    [entry] = await staff.audit_entries(db, "time_zone.change")
    assert (entry.actor_id, entry.entity_id) == (account.id, str(account.id))
    assert (entry.before, entry.after) == ({"time_zone": "UTC"}, {"time_zone": "Asia/Tokyo"})
    page = (await client.get(response.headers["location"])).text
    assert "Times now show in Asia/Tokyo." in page
    assert '<option value="Asia/Tokyo" selected>' in page
    assert '<dd class="col-8" id="own-time-zone">Asia/Tokyo</dd>' in page
    assert '(Asia/Tokyo)">' in page  # this session's times, already in the new zone


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "localtime", "", "Asia/Tokyo<script>"])
async def test_a_zone_that_is_not_one_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: AsyncSession, zone: str
) -> None:
    account = await staff.make_staff(db, "support", time_zone="Europe/Paris")
    await staff.signed_in(client, account)

    response = await submit_zone(client, zone)

    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    message = (
        f"“{zone}” is not a time zone we know; pick one from the list."
        if zone
        else "Pick a time zone from the list."
    )
    assert str(escape(message)) in page
    assert "Asia/Tokyo<script>" not in page  # shown as text, never as markup
    assert await stored_zone(db, account) == "Europe/Paris"
    assert await staff.audit_entries(db, "time_zone.change") == []


async def test_changing_the_zone_needs_the_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)
    response = await client.post("/admin/account/time-zone", data={"time_zone": "Asia/Tokyo"})
    assert response.status_code == 403
    assert await stored_zone(db, account) == "UTC"


async def test_the_database_fills_in_utc_for_rows_written_without_a_zone(
    db: AsyncSession,
) -> None:
    """What the migration's server default gives rows written by code that predates it."""
    row = await rows.admin_row(db)
    older = sa.Table(
        "admin_users",
        sa.MetaData(),
        *(sa.Column(c.name, c.type) for c in AdminUser.__table__.columns if c.name in row),
    )
    await db.execute(sa.insert(older), [row])
    assert await db.scalar(sa.select(AdminUser.time_zone).where(AdminUser.id == row["id"])) == "UTC"
