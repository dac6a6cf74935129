"""Long lists say "about N" from PostgreSQL's planner instead of counting; staff can ask for
the exact number. Short lists, and every list on SQLite, are counted."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from admin_views.base import StaffView
from tests import rows, staff

USERS = "/admin/users/list"
SHOWING = re.compile(r"Showing 1 to 25 of (.+?) items")


@pytest.fixture
async def many_users(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, backend: str
) -> int:
    """300 more customers than the seeding made, with fresh planner statistics."""
    await db.execute(
        sa.insert(rows.Base.metadata.tables["users"]), [rows.user_row() for _ in range(300)]
    )
    await db.commit()
    if backend == "postgresql":
        await db.execute(sa.text("ANALYZE users"))
        await db.commit()
    return int(await db.scalar(sa.text("SELECT count(*) FROM users")))


@pytest.fixture
def low_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(StaffView, "estimate_count_above", 100)


def shown_count(page: httpx.Response) -> str:
    assert page.status_code == 200
    found = SHOWING.search(page.text)
    assert found, page.text[-2000:]
    return found[1]


@pytest.mark.usefixtures("low_threshold")
async def test_a_long_list_shows_the_planners_estimate(
    client: httpx.AsyncClient, many_users: int, backend: str
) -> None:
    page = await client.get(USERS)
    if backend == "sqlite":  # no planner statistics: always counted
        assert shown_count(page) == f"{many_users:,}"
        assert 'id="count-exactly"' not in page.text
        return
    # Fresh statistics make the estimate of an unfiltered table the real number.
    assert shown_count(page) == f"about {many_users:,}"
    link = re.search(r'href="([^"]*count=exact[^"]*)" id="count-exactly"', page.text)
    assert link
    exact = await client.get(link[1].replace("&amp;", "&"))
    assert shown_count(exact) == f"{many_users:,}"
    assert 'id="count-exactly"' not in exact.text


@pytest.mark.usefixtures("low_threshold")
async def test_the_estimate_follows_filters_and_pages(
    client: httpx.AsyncClient, many_users: int, backend: str
) -> None:
    second = await client.get(f"{USERS}?page=2")
    assert "Showing 26 to 50 of" in second.text
    # A search the planner expects to find little is counted exactly.
    one = await client.get(f"{USERS}?search=zz-nobody-zz")
    assert "No items found" in one.text or "of 0 items" in one.text
    assert 'id="count-exactly"' not in one.text


async def test_under_the_threshold_lists_are_counted(
    client: httpx.AsyncClient, many_users: int
) -> None:
    page = await client.get(USERS)
    assert shown_count(page) == f"{many_users:,}"
    assert 'id="count-exactly"' not in page.text
