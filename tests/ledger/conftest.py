"""A customer's wallet holding 100.00 USD from one posted deposit, and a purchase of 40.00
taken from a second wallet, for the ledger tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from models import WalletTransaction
from tests import rows


@dataclass(frozen=True)
class Ledger:
    wallet_id: uuid.UUID
    """Balance 100.00: one posted deposit."""
    purchase_id: uuid.UUID
    """A posted purchase of 40.00 from `shop_wallet_id` (balance 60.00 after it)."""
    shop_wallet_id: uuid.UUID


async def make_ledger(db: AsyncSession) -> Ledger:
    user = await rows.insert(db, "users", rows.user_row())
    wallet = await rows.insert(
        db, "wallets", rows.wallet_row(user["id"], balance=Decimal("100.00"))
    )
    await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(wallet["id"]) | {"amount": Decimal("100.00")},
    )
    shop_wallet = await rows.insert(
        db, "wallets", rows.wallet_row(user["id"], currency="EUR", balance=Decimal("60.00"))
    )
    await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(shop_wallet["id"], amount=Decimal("100.00"), currency="EUR"),
    )
    merchant = await rows.insert(db, "merchants", rows.merchant_row(status="active"))
    purchase = await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(
            shop_wallet["id"],
            type="purchase",
            amount=Decimal("-40.00"),
            currency="EUR",
            merchant_id=merchant["id"],
        ),
    )
    await db.commit()
    return Ledger(wallet["id"], purchase["id"], shop_wallet["id"])


@pytest.fixture
async def ledger(clean_database: Database) -> Ledger:
    async with clean_database.session() as db:
        return await make_ledger(db)


async def transaction(db: AsyncSession, transaction_id: uuid.UUID) -> WalletTransaction:
    found = await db.get(WalletTransaction, transaction_id)
    assert found is not None
    return found
