"""Next and Previous follow cursors: the same rows as numbered pages, no repeats or gaps,
also among rows that share a sort value."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import User
from tests import rows, staff
from tests.admin_views.screens import ROW_ID

SAME_MOMENT = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NEXT = re.compile(r'<a class="page-link" href="([^"]*after=[^"]*)">')
PREVIOUS = re.compile(r'<a class="page-link" href="([^"]*before=[^"]*)">')


async def page_ids(client: httpx.AsyncClient, url: str) -> tuple[list[str], str]:
    response = await client.get(url.replace("&amp;", "&"))
    assert response.status_code == 200, response.text[:300]
    return ROW_ID.findall(response.text), response.text


async def test_next_and_previous_walk_the_same_rows_as_page_numbers(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    # 60 customers signed up at the same instant: only the id tells them apart.
    await db.execute(sa.insert(User), [rows.user_row(created_at=SAME_MOMENT) for _ in range(60)])
    await db.commit()
    total = int(await db.scalar(sa.select(sa.func.count()).select_from(User)))
    pages = -(-total // 25)
    numbered = [
        (await page_ids(client, f"/admin/users/list?page={n}"))[0] for n in range(1, pages + 1)
    ]
    walked, html = await page_ids(client, "/admin/users/list")
    seen = [walked]
    for _ in range(pages - 1):
        link = NEXT.search(html)
        assert link, "a Next link with a cursor"
        walked, html = await page_ids(client, link[1])
        seen.append(walked)
    assert seen == numbered
    everyone = [pk for page in seen for pk in page]
    assert len(everyone) == len(set(everyone)) == total
    assert NEXT.search(html) is None  # the last page has no next
    back = PREVIOUS.search(html)
    assert back
    previous, _ = await page_ids(client, back[1])
    assert previous == numbered[-2]


async def test_a_sorted_list_pages_by_key_too(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    await db.execute(sa.insert(User), [rows.user_row() for _ in range(30)])
    await db.commit()
    url = "/admin/users/list?sortBy=email&sort=asc&pageSize=25"
    first, html = await page_ids(client, url)
    link = NEXT.search(html)
    assert link, "a Next link with a cursor"
    second, _ = await page_ids(client, link[1])
    numbered, _ = await page_ids(client, f"{url}&page=2")
    assert second == numbered
    assert not set(first) & set(second)


async def test_a_damaged_cursor_is_a_clear_400(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    for cursor in ("not-base64!", "WzFd", "eyJhIjoxfQ"):
        response = await client.get(f"/admin/users/list?page=2&after={cursor}")
        assert response.status_code == 400
        assert "damaged" in response.text


async def test_a_sort_on_a_nullable_column_pages_by_offset(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    await db.execute(sa.insert(User), [rows.user_row(last_active_at=None) for _ in range(30)])
    await db.commit()
    response = await client.get("/admin/users/list?sortBy=last_active_at&sort=desc&pageSize=25")
    assert response.status_code == 200
    assert "page=2" in response.text  # there is a second page
    assert NEXT.search(response.text) is None  # numbered pages only
