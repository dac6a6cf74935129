"""Long lists say "about N" from PostgreSQL's planner instead of counting; staff can ask for
the exact number. Short lists, and every list on SQLite, are counted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views.base import StaffView
from models import User
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


@pytest.fixture
def statements(app: Starlette) -> Iterator[list[str]]:
    """The SQL the app sends while the test runs."""
    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", keep)
    yield sent
    sa.event.remove(engine, "before_cursor_execute", keep)


def counted(sent: list[str]) -> list[str]:
    return [s for s in sent if re.search(r"count\(\*\)|EXPLAIN", s) and "approval" not in s]


async def test_a_first_page_that_is_not_full_is_not_counted(
    client: httpx.AsyncClient, db: AsyncSession, many_users: int, statements: list[str]
) -> None:
    """An exact search answers one row: the page knows its count without asking."""
    email = await db.scalar(sa.select(User.email).limit(1))

    page = await client.get(USERS, params={"search": email})

    assert page.status_code == 200
    assert email in page.text
    assert re.search(r"Showing 1 to 1 of 1 items", page.text)
    assert counted(statements) == []


async def test_a_full_page_is_still_counted(
    client: httpx.AsyncClient, many_users: int, statements: list[str]
) -> None:
    page = await client.get(USERS)

    assert shown_count(page).replace(",", "").removeprefix("about ").isdigit()
    assert counted(statements), "a full first page asks how many rows there are"
