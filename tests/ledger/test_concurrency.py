"""Many staff at once on one wallet (PostgreSQL, separate connections): the row lock keeps
the balance exact, never below zero, and one submission makes one transaction."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from ledger import corrections
from ledger.postings import LedgerRefusedError, Posted
from ledger.verify import mismatches
from models import Wallet, WalletTransaction
from models.base import utcnow
from tests.databases import make_settings
from tests.ledger.conftest import Ledger

WRITERS = 50


@pytest.fixture
async def wide_database(backend: str, clean_database: Database) -> Database:
    """A second engine on the same database with room for every writer at once."""
    if backend != "postgresql":
        pytest.skip("SQLite has one writer at a time; the row lock is PostgreSQL's question")
    settings = make_settings(
        clean_database.engine.url.render_as_string(hide_password=False),
        db_pool_size=WRITERS,
    )
    database = Database(settings)
    yield database
    await database.dispose()


async def all_at_once(
    database: Database, work: Callable[[AsyncSession], Awaitable[Posted]], times: int
) -> list[Posted | LedgerRefusedError]:
    start = asyncio.Event()

    async def one() -> Posted | LedgerRefusedError:
        async with database.session() as db:
            await db.connection()  # connected before the start, so all begin together
            await start.wait()
            try:
                posted = await work(db)
            except LedgerRefusedError as refused:
                await db.rollback()
                return refused
            await db.commit()
            return posted

    tasks = [asyncio.create_task(one()) for _ in range(times)]
    await asyncio.sleep(0.2)
    start.set()
    return await asyncio.gather(*tasks)


async def state(database: Database, wallet_id: uuid.UUID) -> tuple[Decimal, int, list[object]]:
    async with database.session() as db:
        balance = await db.scalar(sa.select(Wallet.balance).where(Wallet.id == wallet_id))
        made = await db.scalar(
            sa.select(sa.func.count())
            .select_from(WalletTransaction)
            .where(WalletTransaction.wallet_id == wallet_id)
        )
        return Decimal(balance), int(made), [found async for found in mismatches(db)]


async def test_fifty_concurrent_adjustments_leave_the_exact_balance(
    wide_database: Database, ledger: Ledger
) -> None:
    # The debits total 99.90 of the opening 100.00, so whichever order the row lock grants
    # them in, none is refused for going below zero: every writer must post.
    changes = [
        Decimal("-9.99") if n % 5 == 4 else Decimal("1.01") * (n + 1) for n in range(WRITERS)
    ]
    amounts = iter(changes)

    results = await all_at_once(
        wide_database,
        lambda db: corrections.adjust(
            db, ledger.wallet_id, next(amounts), "load", str(uuid.uuid4()), utcnow()
        ),
        WRITERS,
    )

    assert [type(result) for result in results] == [Posted] * WRITERS, results
    expected = Decimal("100.00") + sum(changes, Decimal("0.00"))
    assert await state(wide_database, ledger.wallet_id) == (expected, 1 + WRITERS, [])


async def test_concurrent_debits_never_overdraw(wide_database: Database, ledger: Ledger) -> None:
    results = await all_at_once(
        wide_database,
        lambda db: corrections.adjust(
            db, ledger.wallet_id, Decimal("-30.00"), "withdraw", str(uuid.uuid4()), utcnow()
        ),
        20,
    )

    made = [result for result in results if isinstance(result, Posted)]
    refused = [result for result in results if isinstance(result, LedgerRefusedError)]
    assert (len(made), len(refused)) == (3, 17)
    assert all("below zero" in str(reason) for reason in refused)
    assert await state(wide_database, ledger.wallet_id) == (Decimal("10.00"), 4, [])


async def test_one_submission_sent_twenty_times_at_once_makes_one_transaction(
    wide_database: Database, ledger: Ledger
) -> None:
    key = str(uuid.uuid4())

    results = await all_at_once(
        wide_database,
        lambda db: corrections.adjust(db, ledger.wallet_id, Decimal("7.00"), "once", key, utcnow()),
        20,
    )

    assert (
        sorted(result.replayed for result in results if isinstance(result, Posted))
        == [False] + [True] * 19
    )
    assert await state(wide_database, ledger.wallet_id) == (Decimal("107.00"), 2, [])
