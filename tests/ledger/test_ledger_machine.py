"""Random sequences of credits, debits, purchases, refunds, reversals and repeated
submissions; after every step the ledger balances and the wallet never goes below zero.

A Hypothesis state machine keeps its own account of the wallet (balance, what each
purchase has left to refund, what was reversed) and checks that the ledger accepts
exactly what the rules allow and refuses the rest, on both databases.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import settings as run_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    MultipleResults,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from core.database import Database
from core.settings import Settings
from ledger import corrections
from ledger.postings import LedgerRefusedError, Posted, Posting, post
from ledger.verify import mismatches
from models import Wallet, WalletTransaction
from models.base import utcnow
from models.payments import TransactionType
from tests import rows

AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300.00"), places=2)


@dataclass
class Made:
    """What the machine expects of one transaction it made."""

    id: uuid.UUID
    amount: Decimal
    type: TransactionType
    key: str
    refunded: Decimal = Decimal("0.00")
    reversed: bool = False
    refunds: list[Made] = field(default_factory=list)
    refund_of: Made | None = None


class LedgerMachine(RuleBasedStateMachine):
    loop: asyncio.AbstractEventLoop
    database: Database

    made = Bundle("made")

    def __init__(self) -> None:
        super().__init__()
        self.balance = Decimal("0.00")
        self.count = 0
        self.wallet_id = uuid.uuid4()
        self.merchant_id = uuid.uuid4()

    def run(self, work: Awaitable[Any]) -> Any:
        return self.loop.run_until_complete(work)

    def posting(self, call: Any) -> Posted | LedgerRefusedError:
        async def go() -> Posted | LedgerRefusedError:
            async with self.database.session() as db:
                try:
                    posted = await call(db)
                except LedgerRefusedError as refused:
                    await db.rollback()
                    return refused
                made = Posted(posted.transaction, posted.replayed)
                await db.commit()
                return made

        return self.run(go())

    def accepted(self, result: Posted | LedgerRefusedError, made: Made) -> Made:
        assert isinstance(result, Posted), result
        assert not result.replayed
        self.balance += made.amount
        self.count += 1
        return made

    @initialize()
    def open_wallet(self) -> None:
        async def go() -> None:
            async with self.database.session() as db:
                user = await rows.insert(db, "users", rows.user_row())
                await rows.insert(db, "wallets", rows.wallet_row(user["id"], id=self.wallet_id))
                await rows.insert(db, "merchants", rows.merchant_row(id=self.merchant_id))
                await db.commit()

        self.run(go())

    def _post(
        self, kind: TransactionType, amount: Decimal, key: str
    ) -> Posted | LedgerRefusedError:
        merchant = self.merchant_id if kind == TransactionType.PURCHASE else None
        posting = Posting(self.wallet_id, kind, amount, kind.value, None, merchant, key)
        return self.posting(lambda db: post(db, posting, utcnow()))

    @rule(target=made, amount=AMOUNTS)
    def deposit(self, amount: Decimal) -> Made:
        key = str(uuid.uuid4())
        result = self._post(TransactionType.DEPOSIT, amount, key)
        assert isinstance(result, Posted)
        return self.accepted(
            result, Made(result.transaction.id, amount, TransactionType.DEPOSIT, key)
        )

    @rule(target=made, amount=AMOUNTS, credit=st.booleans())
    def adjust(self, amount: Decimal, credit: bool) -> Made | MultipleResults[Made]:
        signed = amount if credit else -amount
        key = str(uuid.uuid4())
        result = self.posting(
            lambda db: corrections.adjust(db, self.wallet_id, signed, "machine", key, utcnow())
        )
        if self.balance + signed < 0:
            assert isinstance(result, LedgerRefusedError)
            assert "below zero" in str(result)
            return multiple()
        assert isinstance(result, Posted)
        return self.accepted(
            result, Made(result.transaction.id, signed, TransactionType.ADJUSTMENT, key)
        )

    @rule(target=made, amount=AMOUNTS)
    def purchase(self, amount: Decimal) -> Made | MultipleResults[Made]:
        key = str(uuid.uuid4())
        result = self._post(TransactionType.PURCHASE, -amount, key)
        if self.balance < amount:
            assert isinstance(result, LedgerRefusedError)
            return multiple()
        assert isinstance(result, Posted)
        return self.accepted(
            result, Made(result.transaction.id, -amount, TransactionType.PURCHASE, key)
        )

    @rule(target=made, original=made, amount=AMOUNTS)
    def refund(self, original: Made, amount: Decimal) -> Made | MultipleResults[Made]:
        key = str(uuid.uuid4())
        if original.type != TransactionType.PURCHASE:
            return multiple()

        async def go(db: Any) -> Posted:
            found = await db.get(WalletTransaction, original.id)
            return await corrections.refund(db, found, amount, "machine", key, utcnow())

        result = self.posting(go)
        left = -original.amount - original.refunded
        if original.reversed or left <= 0 or amount > left:
            assert isinstance(result, LedgerRefusedError), (original, amount)
            return multiple()
        assert isinstance(result, Posted), (original, amount, result)
        original.refunded += amount
        made = Made(result.transaction.id, amount, TransactionType.REFUND, key, refund_of=original)
        original.refunds.append(made)
        return self.accepted(result, made)

    @rule(target=made, original=made)
    def reverse(self, original: Made) -> Made | MultipleResults[Made]:
        key = str(uuid.uuid4())

        async def go(db: Any) -> Posted:
            found = await db.get(WalletTransaction, original.id)
            return await corrections.reverse(db, found, "machine", key, utcnow())

        result = self.posting(go)
        allowed = (
            original.type != TransactionType.REVERSAL
            and not original.reversed
            and original.refunded == 0
            and self.balance - original.amount >= 0
        )
        if not allowed:
            assert isinstance(result, LedgerRefusedError), (original, result)
            return multiple()
        assert isinstance(result, Posted), (original, result)
        original.reversed = True
        if original.refund_of is not None:
            original.refund_of.refunded -= original.amount
        made = Made(result.transaction.id, -original.amount, TransactionType.REVERSAL, key)
        return self.accepted(result, made)

    @rule(earlier=made)
    def submit_again(self, earlier: Made) -> None:
        """A double click on an adjustment form: the same key answers the first result."""
        if earlier.type != TransactionType.ADJUSTMENT:
            return
        result = self.posting(
            lambda db: corrections.adjust(
                db, self.wallet_id, earlier.amount, "machine", earlier.key, utcnow()
            )
        )
        assert isinstance(result, Posted)
        assert result.replayed
        assert result.transaction.id == earlier.id

    @invariant()
    def the_ledger_balances(self) -> None:
        async def go() -> tuple[Decimal, int, list[Any]]:
            async with self.database.session() as db:
                balance = await db.scalar(
                    sa.select(Wallet.balance).where(Wallet.id == self.wallet_id)
                )
                count = await db.scalar(
                    sa.select(sa.func.count())
                    .select_from(WalletTransaction)
                    .where(WalletTransaction.wallet_id == self.wallet_id)
                )
                return Decimal(balance or 0), int(count or 0), [m async for m in mismatches(db)]

        balance, count, out_of_balance = self.run(go())
        assert out_of_balance == []
        assert balance >= 0
        assert (balance, count) == (self.balance, self.count)


def test_the_ledger_stays_balanced_through_any_sequence(
    settings: Settings, clean_database: Database
) -> None:
    """Runs in its own event loop (Hypothesis drives the steps synchronously), with its own
    engine on the database `clean_database` has emptied."""
    loop = asyncio.new_event_loop()
    database = Database(settings)
    LedgerMachine.loop, LedgerMachine.database = loop, database
    try:
        run_state_machine_as_test(
            LedgerMachine,
            settings=run_settings(
                max_examples=15,
                stateful_step_count=25,
                deadline=None,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
    finally:
        loop.run_until_complete(database.dispose())
        loop.close()
