"""One customer at a glance: their wallets, their open tickets, and their money lately.

Every question is answered by an index on the customer's id (or their wallets' ids), so a
customer with 10,000 transactions costs what one with ten does; the money summary reads
only the last 90 days, in one grouped query.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.support import OPEN_STATUSES
from models.payments import TransactionStatus, TransactionType, Wallet, WalletTransaction
from models.support import SupportTicket

SHORT_DAYS, LONG_DAYS = 30, 90
"""The two windows the money summary totals over."""


@dataclass(frozen=True)
class MoneySummary:
    """One currency's movements: posted money in and out over 30 and 90 days, refunds
    received and payments that failed over 90 days."""

    currency: str
    in_30: Decimal
    out_30: Decimal
    in_90: Decimal
    out_90: Decimal
    refunds: int
    refunded: Decimal
    failed: int


async def wallets(db: AsyncSession, user_id: uuid.UUID) -> list[Wallet]:
    """The customer's wallets, one per currency, in currency order."""
    return list(
        await db.scalars(
            sa.select(Wallet).where(Wallet.user_id == user_id).order_by(Wallet.currency)
        )
    )


async def open_tickets(db: AsyncSession, user_id: uuid.UUID) -> int:
    stmt = sa.select(sa.func.count()).where(
        SupportTicket.user_id == user_id, SupportTicket.status.in_(OPEN_STATUSES)
    )
    return int(await db.scalar(stmt) or 0)


CENT = Decimal("0.01")


def _total(
    condition: sa.ColumnElement[bool], value: sa.ColumnElement[Decimal]
) -> sa.ColumnElement[Decimal]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)


def _money(value: object) -> Decimal:
    """SQLite may sum money as a float; read it back to the cent."""
    return Decimal(str(value)).quantize(CENT)


async def money_summary(
    db: AsyncSession, wallet_ids: list[uuid.UUID], now: datetime
) -> list[MoneySummary]:
    """Per currency, over the customer's wallets; currencies without a movement in 90 days
    are left out."""
    if not wallet_ids:
        return []
    txn = WalletTransaction
    short = now - timedelta(days=SHORT_DAYS)
    posted = txn.status == TransactionStatus.POSTED
    credit, debit = posted & (txn.amount > 0), posted & (txn.amount < 0)
    recent = txn.created_at >= short
    refund = posted & (txn.type == TransactionType.REFUND)
    failed = txn.status == TransactionStatus.FAILED
    stmt = (
        sa.select(
            txn.currency,
            _total(credit & recent, txn.amount),
            _total(debit & recent, -txn.amount),
            _total(credit, txn.amount),
            _total(debit, -txn.amount),
            sa.func.count().filter(refund),
            _total(refund, txn.amount),
            sa.func.count().filter(failed),
        )
        .where(txn.wallet_id.in_(wallet_ids), txn.created_at >= now - timedelta(days=LONG_DAYS))
        .group_by(txn.currency)
        .order_by(txn.currency)
    )
    return [
        MoneySummary(
            currency,
            _money(in_30),
            _money(out_30),
            _money(in_90),
            _money(out_90),
            int(refunds),
            _money(refunded),
            int(failed_count),
        )
        for currency, in_30, out_30, in_90, out_90, refunds, refunded, failed_count in (
            await db.execute(stmt)
        )
    ]
