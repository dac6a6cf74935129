"""Find wallets whose balance is not the sum of their posted transactions."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models.payments import TransactionStatus, Wallet, WalletTransaction


@dataclass(frozen=True)
class Mismatch:
    wallet_id: uuid.UUID
    currency: str
    balance: Decimal
    posted: Decimal
    """The sum of the wallet's posted transactions: what the balance should be."""

    @property
    def difference(self) -> Decimal:
        return self.balance - self.posted


async def mismatches(db: AsyncSession) -> AsyncIterator[Mismatch]:
    """Every wallet out of balance, streamed: one pass over the ledger, grouped by wallet."""
    posted = (
        sa.select(
            WalletTransaction.wallet_id,
            sa.func.sum(WalletTransaction.amount).label("total"),
        )
        .where(WalletTransaction.status == TransactionStatus.POSTED)
        .group_by(WalletTransaction.wallet_id)
        .subquery()
    )
    total = sa.func.coalesce(posted.c.total, 0)
    stmt = (
        sa.select(
            Wallet.id, Wallet.currency, Wallet.balance, sa.type_coerce(total, Wallet.balance.type)
        )
        .outerjoin(posted, posted.c.wallet_id == Wallet.id)
        .where(Wallet.balance != total)
        .order_by(Wallet.id)
    )
    async for wallet_id, currency, balance, should_be in await db.stream(stmt):
        yield Mismatch(wallet_id, currency, balance, should_be)
