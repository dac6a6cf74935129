"""The ledger's rules, through the functions every door uses (both databases)."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.database import Database
from ledger import corrections
from ledger.postings import LedgerRefusedError, Posting, post
from ledger.verify import mismatches
from models import Wallet, WalletTransaction
from models.base import utcnow
from models.payments import TransactionType
from tests.ledger.conftest import Ledger, transaction


async def balance(db: AsyncSession, wallet_id: uuid.UUID) -> Decimal:
    await db.commit()
    return Decimal(await db.scalar(sa.select(Wallet.balance).where(Wallet.id == wallet_id)))


async def postings(db: AsyncSession, wallet_id: uuid.UUID) -> int:
    await db.commit()
    return int(
        await db.scalar(
            sa.select(sa.func.count())
            .select_from(WalletTransaction)
            .where(WalletTransaction.wallet_id == wallet_id)
        )
    )


async def balanced(db: AsyncSession) -> bool:
    await db.commit()
    return [found async for found in mismatches(db)] == []


def key() -> str:
    return str(uuid.uuid4())


async def test_a_credit_and_a_debit_move_the_balance_and_write_one_transaction_each(
    db: AsyncSession, ledger: Ledger
) -> None:
    credit = await corrections.adjust(
        db, ledger.wallet_id, Decimal("12.34"), "goodwill", key(), utcnow()
    )
    debit = await corrections.adjust(
        db, ledger.wallet_id, Decimal("-2.34"), "fee back", key(), utcnow()
    )
    await db.commit()

    assert await balance(db, ledger.wallet_id) == Decimal("110.00")
    assert (credit.transaction.amount, debit.transaction.amount) == (
        Decimal("12.34"),
        Decimal("-2.34"),
    )
    assert credit.transaction.status == "posted"
    assert credit.transaction.type == TransactionType.ADJUSTMENT
    assert credit.transaction.reference.startswith("TXN-")
    assert credit.transaction.description == "goodwill"
    assert await balanced(db)


@pytest.mark.parametrize("status", ["frozen", "closed"])
async def test_a_frozen_or_closed_wallet_accepts_nothing(
    db: AsyncSession, ledger: Ledger, status: str
) -> None:
    await db.execute(sa.update(Wallet).where(Wallet.id == ledger.wallet_id).values(status=status))
    await db.commit()

    for amount in (Decimal("5.00"), Decimal("-5.00")):
        with pytest.raises(LedgerRefusedError, match=f"The wallet is {status}"):
            await corrections.adjust(db, ledger.wallet_id, amount, "try", key(), utcnow())
        await db.rollback()

    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await postings(db, ledger.wallet_id) == 1


async def test_a_debit_may_not_take_the_balance_below_zero(
    db: AsyncSession, ledger: Ledger
) -> None:
    with pytest.raises(LedgerRefusedError, match=r"of 100\.00 USD below zero"):
        await corrections.adjust(
            db, ledger.wallet_id, Decimal("-100.01"), "too much", key(), utcnow()
        )
    await db.rollback()
    emptied = await corrections.adjust(
        db, ledger.wallet_id, Decimal("-100.00"), "all", key(), utcnow()
    )
    await db.commit()

    assert emptied.transaction.amount == Decimal("-100.00")
    assert await balance(db, ledger.wallet_id) == Decimal("0.00")
    assert await postings(db, ledger.wallet_id) == 2


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("0.001"), Decimal("1.005")])
async def test_an_amount_must_be_whole_cents_and_not_zero(
    db: AsyncSession, ledger: Ledger, amount: Decimal
) -> None:
    with pytest.raises(LedgerRefusedError, match="non-zero number of cents"):
        await corrections.adjust(db, ledger.wallet_id, amount, "odd", key(), utcnow())
    await db.rollback()

    assert await postings(db, ledger.wallet_id) == 1


async def test_an_adjustment_needs_a_reason(db: AsyncSession, ledger: Ledger) -> None:
    with pytest.raises(LedgerRefusedError, match="needs a reason"):
        await corrections.adjust(db, ledger.wallet_id, Decimal("1.00"), "  ", key(), utcnow())


async def test_the_same_key_again_answers_the_first_transaction(
    db: AsyncSession, ledger: Ledger
) -> None:
    once = key()
    first = await corrections.adjust(db, ledger.wallet_id, Decimal("5.00"), "once", once, utcnow())
    first_id = first.transaction.id
    await db.commit()
    again = await corrections.adjust(db, ledger.wallet_id, Decimal("5.00"), "once", once, utcnow())
    again_id = again.transaction.id
    await db.commit()

    assert (first.replayed, again.replayed) == (False, True)
    assert again_id == first_id
    assert await balance(db, ledger.wallet_id) == Decimal("105.00")
    assert await postings(db, ledger.wallet_id) == 2


async def test_a_key_used_for_another_wallet_is_refused(db: AsyncSession, ledger: Ledger) -> None:
    once = key()
    await corrections.adjust(db, ledger.wallet_id, Decimal("5.00"), "once", once, utcnow())
    await db.commit()

    with pytest.raises(LedgerRefusedError, match="already used for a different change"):
        await corrections.adjust(db, ledger.shop_wallet_id, Decimal("5.00"), "x", once, utcnow())
    await db.rollback()

    assert await balance(db, ledger.shop_wallet_id) == Decimal("60.00")


async def test_a_purchase_is_refunded_in_parts_never_beyond_its_amount(
    db: AsyncSession, ledger: Ledger
) -> None:
    purchase = await transaction(db, ledger.purchase_id)
    merchant_id = purchase.merchant_id

    part = await corrections.refund(db, purchase, Decimal("15.00"), "damaged", key(), utcnow())
    made = (part.transaction.related_transaction_id, part.transaction.merchant_id)
    made_as = (part.transaction.type, part.transaction.currency)
    await db.commit()
    purchase = await transaction(db, ledger.purchase_id)
    with pytest.raises(LedgerRefusedError, match=r"Only 25\.00 EUR of .* is left to refund"):
        await corrections.refund(db, purchase, Decimal("25.01"), "more", key(), utcnow())
    await db.rollback()
    purchase = await transaction(db, ledger.purchase_id)
    rest = await corrections.refund(db, purchase, Decimal("25.00"), "rest", key(), utcnow())
    assert rest.transaction.amount == Decimal("25.00")
    await db.commit()
    purchase = await transaction(db, ledger.purchase_id)
    with pytest.raises(LedgerRefusedError, match="already refunded in full"):
        await corrections.refund(db, purchase, Decimal("0.01"), "again", key(), utcnow())
    await db.rollback()

    assert made == (ledger.purchase_id, merchant_id)
    assert made_as == ("refund", "EUR")
    assert await balance(db, ledger.shop_wallet_id) == Decimal("100.00")
    assert await balanced(db)


async def test_only_a_posted_purchase_can_be_refunded(db: AsyncSession, ledger: Ledger) -> None:
    deposit = await db.scalar(
        sa.select(WalletTransaction).where(WalletTransaction.wallet_id == ledger.wallet_id)
    )
    assert deposit is not None

    with pytest.raises(LedgerRefusedError, match="only posted purchases can be refunded"):
        await corrections.refund(db, deposit, Decimal("1.00"), "no", key(), utcnow())


async def test_a_transaction_is_reversed_once_and_a_reversal_is_not_reversed(
    db: AsyncSession, ledger: Ledger
) -> None:
    purchase = await transaction(db, ledger.purchase_id)

    reversal = await corrections.reverse(db, purchase, "charged twice", key(), utcnow())
    made = (reversal.transaction.id, reversal.transaction.amount, reversal.transaction.type)
    await db.commit()
    with pytest.raises(LedgerRefusedError, match="was already reversed by TXN-"):
        await corrections.reverse(
            db, await transaction(db, ledger.purchase_id), "again", key(), utcnow()
        )
    await db.rollback()
    with pytest.raises(LedgerRefusedError, match="itself a reversal"):
        await corrections.reverse(db, await transaction(db, made[0]), "undo", key(), utcnow())
    await db.rollback()
    with pytest.raises(LedgerRefusedError, match="was reversed: nothing to refund"):
        await corrections.refund(
            db, await transaction(db, ledger.purchase_id), Decimal("1.00"), "and", key(), utcnow()
        )
    await db.rollback()

    assert made[1:] == (Decimal("40.00"), "reversal")
    assert await balance(db, ledger.shop_wallet_id) == Decimal("100.00")
    assert await balanced(db)


async def test_a_refunded_purchase_is_not_reversed_but_a_reversed_refund_frees_its_amount(
    db: AsyncSession, ledger: Ledger
) -> None:
    purchase = await transaction(db, ledger.purchase_id)
    refund = await corrections.refund(db, purchase, Decimal("40.00"), "all", key(), utcnow())
    refund_id = refund.transaction.id
    await db.commit()

    with pytest.raises(LedgerRefusedError, match="has refunds"):
        await corrections.reverse(
            db, await transaction(db, ledger.purchase_id), "both?", key(), utcnow()
        )
    await db.rollback()
    await corrections.reverse(db, await transaction(db, refund_id), "in error", key(), utcnow())
    await db.commit()

    purchase = await transaction(db, ledger.purchase_id)
    assert await corrections.refundable(db, purchase) == Decimal("40.00")
    assert await balance(db, ledger.shop_wallet_id) == Decimal("60.00")
    assert await balanced(db)


async def test_reversing_a_credit_may_not_overdraw(db: AsyncSession, ledger: Ledger) -> None:
    deposit = await db.scalar(
        sa.select(WalletTransaction).where(WalletTransaction.wallet_id == ledger.wallet_id)
    )
    assert deposit is not None
    deposit_id = deposit.id
    await corrections.adjust(db, ledger.wallet_id, Decimal("-50.00"), "spent", key(), utcnow())
    await db.commit()

    with pytest.raises(LedgerRefusedError, match="below zero"):
        await corrections.reverse(db, await transaction(db, deposit_id), "x", key(), utcnow())
    await db.rollback()

    assert await balance(db, ledger.wallet_id) == Decimal("50.00")


async def test_a_refusal_leaves_nothing_behind_in_the_callers_transaction(
    clean_database: Database, ledger: Ledger
) -> None:
    async def credit_then_overdraw(db: AsyncSession) -> None:
        async with db.begin():
            for amount in (Decimal("1.00"), Decimal("-500.00")):
                posting = Posting(ledger.wallet_id, TransactionType.ADJUSTMENT, amount, "a")
                await post(db, posting, utcnow())

    async with clean_database.session() as db:
        with pytest.raises(LedgerRefusedError):
            await credit_then_overdraw(db)

        assert await balance(db, ledger.wallet_id) == Decimal("100.00")
        assert await postings(db, ledger.wallet_id) == 1
