"""On PostgreSQL the database itself keeps the ledger append-only, whoever connects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from core.database import Database
from tests import rows
from tests.ledger.conftest import Ledger

REFUSED = "wallet_transactions is append-only"


@pytest.fixture
async def connection(backend: str, clean_database: Database) -> AsyncIterator[AsyncConnection]:
    if backend != "postgresql":
        pytest.skip("the trigger is PostgreSQL's; on SQLite only the application keeps the rules")
    async with clean_database.engine.connect() as connection:
        yield connection


async def refused(connection: AsyncConnection, statement: str, **values: object) -> str:
    with pytest.raises(DBAPIError) as caught:
        async with connection.begin():
            await connection.execute(sa.text(statement), values)
    return str(caught.value.orig)


async def posted_amount(connection: AsyncConnection, transaction_id: object) -> Decimal:
    async with connection.begin():
        return await connection.scalar(
            sa.text("SELECT amount FROM wallet_transactions WHERE id = :id"), {"id": transaction_id}
        )


@pytest.mark.parametrize(
    "change",
    [
        "amount = amount * 2",
        "fee = fee + 1",
        "type = 'adjustment'",
        "reference = 'TXN-20260101-EDITED00'",
        "description = 'quietly changed'",
        "created_at = created_at - interval '1 day'",
        "status = 'cancelled', posted_at = NULL",
    ],
)
async def test_a_posted_transaction_cannot_be_changed(
    connection: AsyncConnection, ledger: Ledger, change: str
) -> None:
    message = await refused(
        connection, f"UPDATE wallet_transactions SET {change} WHERE id = :id", id=ledger.purchase_id
    )

    assert "append-only" in message or "cannot change" in message, message
    assert await posted_amount(connection, ledger.purchase_id) == Decimal("-40.00")


async def test_no_transaction_can_be_deleted(connection: AsyncConnection, ledger: Ledger) -> None:
    message = await refused(
        connection, "DELETE FROM wallet_transactions WHERE id = :id", id=ledger.purchase_id
    )

    assert f"{REFUSED}: DELETE refused" in message
    assert await posted_amount(connection, ledger.purchase_id) == Decimal("-40.00")


async def test_a_pending_transaction_settles_once(
    connection: AsyncConnection, ledger: Ledger, clean_database: Database
) -> None:
    async with clean_database.session() as db:
        pending = await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(ledger.wallet_id, status="pending", posted_at=None),
        )
        await db.commit()
    settle = "UPDATE wallet_transactions SET status = :status, posted_at = now() WHERE id = :id"

    async with connection.begin():
        await connection.execute(sa.text(settle), {"status": "posted", "id": pending["id"]})
    message = await refused(connection, settle, status="failed", id=pending["id"])

    assert "is posted and cannot change" in message
