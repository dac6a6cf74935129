"""What staff may do to money: adjust a balance, refund a purchase, reverse a transaction.

Each is a new posted transaction through `ledger.postings.post`, never an edit, and each
refusal is a `LedgerRefusedError` whose message says what to do instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from ledger.postings import LedgerRefusedError, Posted, Posting, post
from models.payments import TransactionStatus, TransactionType, Wallet, WalletTransaction

REFUND_COUNTS = (TransactionStatus.PENDING, TransactionStatus.POSTED)
"""Refunds that use up a purchase's refundable amount (a pending one may still post)."""


async def adjust(
    db: AsyncSession,
    wallet_id: uuid.UUID,
    amount: Decimal,
    reason: str,
    key: str,
    now: datetime,
) -> Posted:
    """A manual credit (amount > 0) or debit (amount < 0) with the reason staff gave."""
    if not reason.strip():
        raise LedgerRefusedError("An adjustment needs a reason.")
    posting = Posting(
        wallet_id, TransactionType.ADJUSTMENT, amount, reason.strip(), None, None, key
    )
    return await post(db, posting, now)


async def refund(
    db: AsyncSession,
    purchase: WalletTransaction,
    amount: Decimal,
    reason: str,
    key: str,
    now: datetime,
) -> Posted:
    """Give back part or all of a posted purchase, never more than is left to refund."""
    if purchase.type != TransactionType.PURCHASE or purchase.status != TransactionStatus.POSTED:
        raise LedgerRefusedError(
            f"{purchase.reference} is a {purchase.status} {purchase.type}: "
            "only posted purchases can be refunded."
        )

    async def within_what_is_left(db: AsyncSession, _wallet: Wallet) -> None:
        if await _reversal_of(db, purchase.id) is not None:
            raise LedgerRefusedError(f"{purchase.reference} was reversed: nothing to refund.")
        left = await refundable(db, purchase)
        if left <= 0:
            raise LedgerRefusedError(f"{purchase.reference} is already refunded in full.")
        if amount <= 0:
            raise LedgerRefusedError("A refund amount must be more than zero.")
        if amount > left:
            raise LedgerRefusedError(
                f"Only {left} {purchase.currency} of {purchase.reference} is left to refund."
            )

    posting = Posting(
        purchase.wallet_id,
        TransactionType.REFUND,
        amount,
        reason.strip() or f"Refund of {purchase.reference}",
        purchase.id,
        purchase.merchant_id,
        key,
    )
    return await post(db, posting, now, within_what_is_left)


async def reverse(
    db: AsyncSession, original: WalletTransaction, reason: str, key: str, now: datetime
) -> Posted:
    """Undo a posted transaction with one of the opposite amount; once per transaction."""
    if original.status != TransactionStatus.POSTED:
        raise LedgerRefusedError(
            f"{original.reference} is {original.status}: it never moved money to reverse."
        )
    if original.type == TransactionType.REVERSAL:
        raise LedgerRefusedError(
            f"{original.reference} is itself a reversal: make an adjustment instead."
        )

    async def not_yet_corrected(db: AsyncSession, _wallet: Wallet) -> None:
        earlier = await _reversal_of(db, original.id)
        if earlier is not None:
            raise LedgerRefusedError(f"{original.reference} was already reversed by {earlier}.")
        if await refunded(db, original.id) > 0:
            raise LedgerRefusedError(
                f"{original.reference} has refunds: reverse those, or make an adjustment."
            )

    posting = Posting(
        original.wallet_id,
        TransactionType.REVERSAL,
        -original.amount,
        reason.strip() or f"Reversal of {original.reference}",
        original.id,
        original.merchant_id,
        key,
    )
    return await post(db, posting, now, not_yet_corrected)


async def refundable(db: AsyncSession, purchase: WalletTransaction) -> Decimal:
    """What is left to refund of a purchase."""
    return -purchase.amount - await refunded(db, purchase.id)


async def refunded(db: AsyncSession, purchase_id: uuid.UUID) -> Decimal:
    """The amount refunded so far on a purchase, leaving out refunds that were reversed."""
    refund_row = aliased(WalletTransaction)
    reversal = aliased(WalletTransaction)
    total = await db.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(refund_row.amount), 0)).where(
            refund_row.related_transaction_id == purchase_id,
            refund_row.type == TransactionType.REFUND,
            refund_row.status.in_(REFUND_COUNTS),
            ~sa.exists().where(
                reversal.related_transaction_id == refund_row.id,
                reversal.type == TransactionType.REVERSAL,
            ),
        )
    )
    return Decimal(total)


async def _reversal_of(db: AsyncSession, transaction_id: uuid.UUID) -> str | None:
    return await db.scalar(
        sa.select(WalletTransaction.reference).where(
            WalletTransaction.related_transaction_id == transaction_id,
            WalletTransaction.type == TransactionType.REVERSAL,
        )
    )
