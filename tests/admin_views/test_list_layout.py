"""What a list page offers beyond its rows: related rows linked only for staff who may open
them, a Filters button that counts the filters in use, and sort links that start again."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from models import SupportTicket
from tests import staff
from tests.admin_views.anchors import anchors, named

TICKETS = "/admin/support-tickets/list"


def in_column(page: str, label: str) -> list[str]:
    """The targets of the links inside the list's cells of the column labelled `label`."""
    return [str(a.href) for a in anchors(page) if a.within and a.within[-1] == label]


async def assigned_tickets(db: AsyncSession) -> int:
    await db.rollback()
    stmt = sa.select(sa.func.count()).where(SupportTicket.assignee_id.is_not(None))
    return int(await db.scalar(stmt) or 0)


async def test_a_related_row_the_staff_member_may_not_open_is_named_without_a_link(
    client: httpx.AsyncClient, db: AsyncSession, seeded: Database
) -> None:
    """Support staff see who a ticket is assigned to, but staff accounts are not theirs to open."""
    assert await assigned_tickets(db)
    await staff.signed_in(client, await staff.make_staff(db, "support"))

    page = (await client.get(TICKETS, params={"pageSize": "100"})).text

    assert 'data-label="Assignee"' in page
    assert in_column(page, "Assignee") == []
    assert in_column(page, "Customer"), "customers are theirs to open"
    assert all("/admin/customers/" in href for href in in_column(page, "Customer"))
    assert not [a for a in anchors(page) if a.href == ""], "no link goes nowhere"


async def test_staff_who_may_open_the_related_row_get_a_link(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    page = (await client.get(TICKETS, params={"pageSize": "100"})).text

    links = in_column(page, "Assignee")
    assert len(links) == await assigned_tickets(db)
    assert all("/admin/admin-users/details/" in href for href in links)
    opened = await client.get(links[0])
    assert opened.status_code == 200


async def test_the_filters_button_counts_the_filters_in_use_and_the_panel_opens_for_them(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    plain = (await client.get("/admin/users/list")).text
    filtered = (
        await client.get(
            "/admin/users/list",
            params={"status": "active", "kyc_status": "__all", "created_at_from": "2020-01-01"},
        )
    ).text

    assert 'id="filters-toggle"' in plain
    assert 'id="filters-in-use"' not in plain
    assert 'class="collapse border-bottom" id="list-filters"' in plain, "closed by default"
    # "All" is no filter; a date range counts once.
    assert '<span class="badge bg-primary text-white ms-2" id="filters-in-use">2</span>' in filtered
    assert 'class="collapse show border-bottom" id="list-filters"' in filtered


async def test_sorting_starts_again_at_the_first_page(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    page = (await client.get("/admin/users/list", params={"page": "2", "pageSize": "5"})).text

    sort = named(page, "Email")
    assert sort.href is not None
    query = parse_qs(urlsplit(sort.href).query)
    assert query == {"pageSize": ["5"], "sortBy": ["email"], "sort": ["asc"]}
    assert (await client.get(sort.href)).status_code == 200


async def test_the_sorted_column_says_its_direction_and_turns_it(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    """Clicked as rendered: a column's label sorts ascending, then the sorted column's label
    turns the direction, each keeping the filters."""
    first = (await client.get("/admin/users/list", params={"status": "active"})).text
    ascending_href = named(first, "Email").href
    assert ascending_href is not None

    ascending = (await client.get(ascending_href)).text
    assert 'aria-sort="ascending"' in ascending
    descending_href = named(ascending, "Email").href
    assert descending_href is not None
    assert parse_qs(urlsplit(descending_href).query) == {
        "status": ["active"],
        "sortBy": ["email"],
        "sort": ["desc"],
    }

    descending = (await client.get(descending_href)).text
    assert 'aria-sort="descending"' in descending
    back = named(descending, "Email").href
    assert back is not None
    assert parse_qs(urlsplit(back).query)["sort"] == ["asc"]
    assert "aria-sort" not in str(named(descending, "Created").attrs)
