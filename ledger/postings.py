"""Posting money to a wallet: one rule book for every door that moves money.

Each posting locks its wallet row, checks the rules against the balance it then sees,
and writes the transaction and the new balance in the caller's database transaction, so
both commit or neither does and two postings to one wallet never interleave. Corrections
are new transactions (refunds, reversals, adjustments): nothing is ever edited.

An idempotency key makes a posting happen once: the same key again (a double click, a
retry after a timeout) finds the first transaction instead of making a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.locks import take_sqlite_write_lock
from models.payments import (
    TransactionStatus,
    TransactionType,
    Wallet,
    WalletStatus,
    WalletTransaction,
    new_transaction_reference,
)

CENT = Decimal("0.01")


class LedgerRefusedError(Exception):
    """A posting breaks a rule; the message says which, and nothing was written."""


@dataclass(frozen=True)
class Posting:
    wallet_id: uuid.UUID
    type: TransactionType
    amount: Decimal
    """Signed: credits positive, debits negative."""
    description: str
    related_transaction_id: uuid.UUID | None = None
    merchant_id: uuid.UUID | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Posted:
    transaction: WalletTransaction
    replayed: bool
    """True when the idempotency key had already been used: nothing new was written."""


Rule = Callable[[AsyncSession, Wallet], Awaitable[None]]
"""A further check made with the wallet locked; raises LedgerRefusedError to refuse."""


async def post(
    db: AsyncSession, posting: Posting, now: datetime, rule: Rule | None = None
) -> Posted:
    """Write `posting` as a posted transaction and move the wallet's balance by its amount.

    In this order, with the wallet locked: a used idempotency key answers the earlier
    transaction; a wallet that is not active refuses; then `rule`; the amount must be whole
    cents, not zero; a debit may not take the balance below zero.
    """
    wallet = await locked_wallet(db, posting.wallet_id)
    if posting.idempotency_key is not None:
        earlier = await db.scalar(
            sa.select(WalletTransaction).where(
                WalletTransaction.idempotency_key == posting.idempotency_key
            )
        )
        if earlier is not None:
            return Posted(_same_posting(earlier, posting), replayed=True)
    if wallet.status != WalletStatus.ACTIVE:
        raise LedgerRefusedError(f"The wallet is {wallet.status}: it accepts no postings.")
    if rule is not None:
        await rule(db, wallet)
    if posting.amount == 0 or posting.amount != posting.amount.quantize(CENT):
        raise LedgerRefusedError("An amount must be a non-zero number of cents.")
    if wallet.balance + posting.amount < 0:
        raise LedgerRefusedError(
            f"A debit of {-posting.amount} {wallet.currency} would take the balance of "
            f"{wallet.balance} {wallet.currency} below zero."
        )
    transaction = WalletTransaction(
        reference=new_transaction_reference(now),
        wallet_id=wallet.id,
        type=posting.type,
        status=TransactionStatus.POSTED,
        amount=posting.amount,
        fee=Decimal("0.00"),
        currency=wallet.currency,
        description=posting.description,
        merchant_id=posting.merchant_id,
        related_transaction_id=posting.related_transaction_id,
        idempotency_key=posting.idempotency_key,
        posted_at=now,
        created_at=now,
        updated_at=now,
    )
    db.add(transaction)
    wallet.balance = wallet.balance + posting.amount
    await db.flush()
    return Posted(transaction, replayed=False)


async def locked_wallet(db: AsyncSession, wallet_id: uuid.UUID) -> Wallet:
    """The wallet, read fresh and locked against other postings until the transaction ends."""
    await take_sqlite_write_lock(db, Wallet.__table__)
    wallet = await db.scalar(
        sa.select(Wallet)
        .where(Wallet.id == wallet_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if wallet is None:
        raise LedgerRefusedError("The wallet no longer exists.")
    return wallet


def _same_posting(earlier: WalletTransaction, posting: Posting) -> WalletTransaction:
    """The earlier transaction, if it answered the same request: same wallet, kind and
    original. The amount may differ: "refund all that is left" is nothing on a repeat."""
    if (earlier.wallet_id, earlier.type, earlier.related_transaction_id) != (
        posting.wallet_id,
        posting.type,
        posting.related_transaction_id,
    ):
        raise LedgerRefusedError(
            "This form was already used for a different change. Open it again to make a new one."
        )
    return earlier
