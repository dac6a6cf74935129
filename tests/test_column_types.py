"""Portable column types behave the same on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import FeatureFlag, Merchant, User, Wallet, WalletTransaction
from tests import rows


async def test_money_is_exact_in_sql_sums(db: AsyncSession) -> None:
    user = await rows.insert(db, "users", rows.user_row())
    wallet = await rows.insert(db, "wallets", rows.wallet_row(user["id"]))
    for _ in range(3):
        await rows.insert(
            db, "wallet_transactions", rows.transaction_row(wallet["id"], amount=Decimal("0.10"))
        )
    await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(wallet["id"], amount=Decimal("123456789012.34")),
    )
    await db.commit()

    total = await db.scalar(sa.select(sa.func.sum(WalletTransaction.amount)))
    large = await db.scalar(
        sa.select(WalletTransaction.amount).where(WalletTransaction.amount > Decimal("1000"))
    )

    assert total == Decimal("123456789012.64")
    assert isinstance(total, Decimal)
    assert large == Decimal("123456789012.34")


async def test_money_is_read_back_with_two_places(db: AsyncSession) -> None:
    user = await rows.insert(db, "users", rows.user_row())
    await rows.insert(db, "wallets", rows.wallet_row(user["id"], balance=Decimal("7")))
    await db.commit()

    balance = await db.scalar(sa.select(Wallet.balance))

    assert str(balance) == "7.00"


async def test_percentages_keep_two_places(db: AsyncSession) -> None:
    await rows.insert(db, "merchants", rows.merchant_row(cashback_rate=Decimal("2.35")))
    await rows.insert(db, "feature_flags", rows.flag_row(rollout_percentage=Decimal("33.33")))
    await db.commit()

    assert await db.scalar(sa.select(Merchant.cashback_rate)) == Decimal("2.35")
    assert await db.scalar(sa.select(FeatureFlag.rollout_percentage)) == Decimal("33.33")


async def test_timestamps_come_back_as_aware_utc(db: AsyncSession) -> None:
    pacific = timezone(timedelta(hours=-8))
    await rows.insert(
        db,
        "users",
        rows.user_row(
            created_at=datetime(2026, 3, 1, 23, 30, tzinfo=pacific),
            last_active_at=datetime(2026, 3, 2, 10, 0),  # a naive value is taken as UTC
        ),
    )
    await db.commit()

    created, active = (await db.execute(sa.select(User.created_at, User.last_active_at))).one()
    same_day = await db.scalar(
        sa.select(sa.func.count()).where(User.created_at >= datetime(2026, 3, 2, tzinfo=UTC))
    )

    assert created == datetime(2026, 3, 2, 7, 30, tzinfo=UTC)
    assert created.utcoffset() == timedelta(0)
    assert active == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    assert same_day == 1
