"""`swipesavvy-admin ledger verify`: every wallet against its posted transactions."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Settings
from models import Wallet
from tests import rows
from tests.ledger.conftest import Ledger
from tests.test_cli import invoke


async def test_a_balanced_ledger_passes(settings: Settings, ledger: Ledger) -> None:
    result = await invoke(settings, "ledger", "verify")

    assert result.exit_code == 0, result.output
    assert "ledger balanced" in result.stdout


async def test_a_wallet_whose_balance_was_edited_is_named_and_the_command_fails(
    settings: Settings, db: AsyncSession, ledger: Ledger
) -> None:
    await db.execute(
        sa.update(Wallet).where(Wallet.id == ledger.wallet_id).values(balance=Decimal("90.00"))
    )
    await db.commit()

    result = await invoke(settings, "ledger", "verify")

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"wallet {ledger.wallet_id} (USD): balance 90.00, posted transactions 100.00, off by -10.00"
    ]
    assert "ledger out of balance: 1 wallets differ" in result.stderr


async def test_pending_and_failed_transactions_do_not_count(
    settings: Settings, db: AsyncSession, ledger: Ledger
) -> None:
    for status in ("pending", "failed", "cancelled"):
        await rows.insert(
            db,
            "wallet_transactions",
            rows.transaction_row(ledger.wallet_id, status=status, posted_at=None),
        )
    await db.commit()

    result = await invoke(settings, "ledger", "verify")

    assert result.exit_code == 0, result.output
