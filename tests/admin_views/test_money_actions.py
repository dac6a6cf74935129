"""Staff money actions through the screens: adjust a balance, refund, reverse.

Each needs its own permission, is audited, refuses bad input on the field with nothing
written, and happens once however often its form is submitted.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Wallet, WalletTransaction
from tests import staff
from tests.admin_views.screens import act, audit_for, count, field_error
from tests.ledger.conftest import Ledger, make_ledger

TYPED_AS = "Enter digits, with at most two decimals after a point: 12, 12.5 or 12.50."
STORABLE = "Remove the control characters (such as NUL) from this text: they cannot be stored."
KEY = re.compile(
    r'name="idempotency_key"[^>]*value="([0-9a-f]{32})"|value="([0-9a-f]{32})"[^>]*name="idempotency_key"'
)


@pytest.fixture
async def ledger(db: AsyncSession, boss: staff.Account) -> Ledger:
    return await make_ledger(db)


async def form_key(client: httpx.AsyncClient, slug: str, name: str, pk: uuid.UUID) -> str:
    """Open the action's form, as the button does, and read the key it carries."""
    form = await act(client, slug, name, [pk])
    assert form.status_code == 200, form.text[:300]
    found = KEY.search(form.text)
    assert found, form.text
    return found[1] or found[2]


async def submitted(
    client: httpx.AsyncClient, slug: str, name: str, pk: uuid.UUID, **fields: str
) -> httpx.Response:
    """Open the action's form and submit it filled in, with the key it carries."""
    key = await form_key(client, slug, name, pk)
    return await act(client, slug, name, [pk], idempotency_key=key, **fields)


async def balance(db: AsyncSession, wallet_id: uuid.UUID) -> Decimal:
    await db.commit()
    return Decimal(await db.scalar(sa.select(Wallet.balance).where(Wallet.id == wallet_id)))


async def flashed(client: httpx.AsyncClient, response: httpx.Response) -> str:
    assert response.status_code == 303, response.text[:500]
    return (await client.get(response.headers["location"])).text


async def test_an_adjustment_submitted_twice_moves_money_once_and_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    key = await form_key(client, "wallets", "adjust", ledger.wallet_id)
    fields = {
        "direction": "credit",
        "amount": "12.50",
        "reason": "Goodwill for outage",
        "idempotency_key": key,
    }

    first = await act(client, "wallets", "adjust", [ledger.wallet_id], **fields)
    first_page = await flashed(client, first)
    again = await act(client, "wallets", "adjust", [ledger.wallet_id], **fields)
    again_page = await flashed(client, again)

    made = await count(db, WalletTransaction, WalletTransaction.wallet_id == ledger.wallet_id)
    assert await balance(db, ledger.wallet_id) == Decimal("112.50")
    assert made == 2
    reference = await db.scalar(
        sa.select(WalletTransaction.reference).where(
            WalletTransaction.wallet_id == ledger.wallet_id,
            WalletTransaction.type == "adjustment",
        )
    )
    assert f"Made {reference}" in first_page
    assert f"already made {reference}; nothing new was done" in again_page
    [entry] = await audit_for(db, "action:adjust", ledger.wallet_id)
    assert entry.after["transaction"] == reference
    assert (entry.before["balance"], entry.after["balance"]) == ("100.00", "112.50")
    assert entry.after["description"] == "Goodwill for outage"


async def test_a_debit_beyond_the_balance_is_refused_with_nothing_written(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    key = await form_key(client, "wallets", "adjust", ledger.wallet_id)

    response = await act(
        client,
        "wallets",
        "adjust",
        [ledger.wallet_id],
        direction="debit",
        amount="100.01",
        reason="Chargeback fee",
        idempotency_key=key,
    )

    assert "below zero" in await flashed(client, response)
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await audit_for(db, "action:adjust", ledger.wallet_id) == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "12.50", "reason": ""}, "This field is required."),
        ({"amount": "12.50", "reason": "ok"}, "Field must be between 5 and 255 characters long."),
        ({"amount": "", "reason": "Goodwill"}, "This field is required."),
        ({"amount": "NaN", "reason": "Goodwill"}, TYPED_AS),
        ({"amount": "Infinity", "reason": "Goodwill"}, TYPED_AS),
        ({"amount": "1.005", "reason": "Goodwill"}, TYPED_AS),
        ({"amount": "-5", "reason": "Goodwill"}, "Between 0.01 and 1,000,000.00 for one action."),
        (
            {"amount": "1000000.01", "reason": "Goodwill"},
            "Between 0.01 and 1,000,000.00 for one action.",
        ),
        ({"amount": "twelve", "reason": "Goodwill"}, TYPED_AS),
        ({"amount": "5", "reason": "Goodwill\x00"}, STORABLE),
        ({"amount": "5", "reason": "Good\x1bwill"}, STORABLE),
    ],
)
async def test_a_bad_adjustment_is_refused_on_its_field_and_writes_nothing(
    client: httpx.AsyncClient,
    db: AsyncSession,
    ledger: Ledger,
    fields: dict[str, str],
    message: str,
) -> None:
    key = await form_key(client, "wallets", "adjust", ledger.wallet_id)

    response = await act(
        client,
        "wallets",
        "adjust",
        [ledger.wallet_id],
        direction="credit",
        idempotency_key=key,
        **fields,
    )

    assert response.status_code == 400
    assert field_error(response.text, message), response.text
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await audit_for(db, "action:adjust", ledger.wallet_id) == []


async def test_a_damaged_form_key_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    response = await act(
        client,
        "wallets",
        "adjust",
        [ledger.wallet_id],
        direction="credit",
        amount="5.00",
        reason="Goodwill",
        idempotency_key="../../etc/passwd",
    )

    assert response.status_code == 400
    assert "This form is damaged" in response.text
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")


async def test_an_empty_refund_amount_refunds_all_that_is_left_and_then_nothing_more(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    slug = "wallet-transactions"
    pk = ledger.purchase_id
    await submitted(client, slug, "refund", pk, amount="15.00", reason="Damaged item")
    rest = await submitted(client, slug, "refund", pk, amount="", reason="Returned")
    rest_page = await flashed(client, rest)
    more = await submitted(client, slug, "refund", pk, amount="", reason="Again")

    assert "Made TXN-" in rest_page
    assert "already refunded in full" in await flashed(client, more)
    refunds = sorted(
        await db.scalars(
            sa.select(WalletTransaction.amount).where(
                WalletTransaction.related_transaction_id == ledger.purchase_id
            )
        )
    )
    assert refunds == [Decimal("15.00"), Decimal("25.00")]
    assert await balance(db, ledger.shop_wallet_id) == Decimal("100.00")
    assert len(await audit_for(db, "action:refund", ledger.purchase_id)) == 2


async def test_a_transaction_is_reversed_once_through_the_screen(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    slug = "wallet-transactions"
    pk = ledger.purchase_id
    first = await submitted(client, slug, "reverse", pk, reason="Charged twice")
    first_page = await flashed(client, first)
    second = await submitted(client, slug, "reverse", pk, reason="Charged twice")

    assert "Made TXN-" in first_page
    assert "was already reversed by TXN-" in await flashed(client, second)
    assert await balance(db, ledger.shop_wallet_id) == Decimal("100.00")
    [entry] = await audit_for(db, "action:reverse", ledger.purchase_id)
    assert entry.after["amount"] == "40.00"
    assert entry.after["type"] == "reversal"


@pytest.mark.parametrize(
    ("role", "slug", "name"),
    [
        ("operations", "wallets", "adjust"),
        ("support", "wallets", "adjust"),
        ("support", "wallet-transactions", "refund"),
        ("analyst", "wallet-transactions", "reverse"),
    ],
)
async def test_money_actions_need_their_own_permission(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger, role: str, slug: str, name: str
) -> None:
    target = ledger.wallet_id if slug == "wallets" else ledger.purchase_id
    account = await staff.make_staff(db, role)
    await staff.signed_in(client, account)

    response = await act(
        client,
        slug,
        name,
        [target],
        direction="credit",
        amount="5.00",
        reason="Not allowed",
        idempotency_key=uuid.uuid4().hex,
    )

    assert response.status_code == 403
    assert await count(db, WalletTransaction) == await count(db, WalletTransaction)
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await balance(db, ledger.shop_wallet_id) == Decimal("60.00")


async def test_money_moves_one_row_at_a_time(
    client: httpx.AsyncClient, db: AsyncSession, ledger: Ledger
) -> None:
    both = [ledger.wallet_id, ledger.shop_wallet_id]

    response = await act(
        client,
        "wallets",
        "adjust",
        both,
        direction="credit",
        amount="5.00",
        reason="Goodwill for both",
        idempotency_key=uuid.uuid4().hex,
    )

    assert "Adjust balance applies to one wallet at a time" in await flashed(client, response)
    assert await balance(db, ledger.wallet_id) == Decimal("100.00")
    assert await balance(db, ledger.shop_wallet_id) == Decimal("60.00")


async def test_a_money_form_shows_what_it_acts_on(
    client: httpx.AsyncClient, ledger: Ledger
) -> None:
    wallet_form = await act(client, "wallets", "adjust", [ledger.wallet_id])
    refund_form = await act(client, "wallet-transactions", "refund", [ledger.purchase_id])

    assert re.search(r"<dt[^>]*>Balance</dt><dd[^>]*>100\.00 USD</dd>", wallet_form.text)
    assert re.search(r"<dt[^>]*>Amount</dt><dd[^>]*>-40\.00 EUR</dd>", refund_form.text)
    assert re.search(r"<dt[^>]*>Left to refund</dt><dd[^>]*>40\.00 EUR</dd>", refund_form.text)
