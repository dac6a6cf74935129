"""A record page's related panels: the newest rows, and how many there are in all (counted
only when the panel is full: fewer rows than it holds are all there are)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from tests import rows, staff
from tests.admin_views.anchors import anchors

PANEL_ROWS = 20
"""The wallet page's Transactions panel holds this many (admin_views/payments.py)."""


@pytest.mark.parametrize("made", [0, 3, PANEL_ROWS, PANEL_ROWS + 7])
async def test_a_panel_shows_the_newest_rows_and_how_many_there_are(
    client: httpx.AsyncClient, db: AsyncSession, made: int
) -> None:
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    wallet = await rows.insert(db, "wallets", rows.wallet_row((await user(db))["id"]))
    made_rows = [
        await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(wallet["id"], created_at=rows.NOW - timedelta(minutes=n)),
        )
        for n in range(made)
    ]
    await db.commit()

    page = (await client.get(f"/admin/wallets/details/{wallet['id']}")).text

    assert re.search(rf"Transactions\s*<span[^>]*>\({made}\)</span>", page)
    shown = [a.href or "" for a in anchors(page)]
    shown = [href for href in shown if "/admin/wallet-transactions/details/" in href]
    newest = [str(row["id"]) for row in made_rows[:PANEL_ROWS]]
    assert [href.rsplit("/", 1)[1] for href in shown] == newest


async def test_a_record_page_loads_its_row_once(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """SQLAdmin's details route asks for the row twice (to check it may be viewed, then to
    show it); the page loads it once."""
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))
    wallet = await rows.insert(db, "wallets", rows.wallet_row((await user(db))["id"]))
    await db.commit()
    sent: list[str] = []

    def keep(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    engine = app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        page = await client.get(f"/admin/wallets/details/{wallet['id']}")
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)

    assert page.status_code == 200
    # The row comes with the rows its label names joined to it (its customer).
    loads = r"FROM wallets(\s+LEFT OUTER JOIN [^()]*?)?\s+WHERE wallets.id ="
    assert len([s for s in sent if re.search(loads, s)]) == 1


async def user(db: AsyncSession) -> rows.Row:
    return await rows.insert(db, "users", rows.user_row())
