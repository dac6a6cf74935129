"""An export carries what a reader needs beside ids: the currency with every amount, the
customer's email, the merchant's and the wallet's names."""

from __future__ import annotations

import csv
import io
import json

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import Merchant, User, Wallet, WalletTransaction
from tests import staff


async def test_transactions_export_names_currency_customer_wallet_and_merchant(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    expected = {
        reference: (currency, email, merchant or "", f"{currency} wallet of {first} {last}")
        for reference, currency, email, first, last, merchant in await db.execute(
            sa.select(
                WalletTransaction.reference,
                WalletTransaction.currency,
                User.email,
                User.first_name,
                User.last_name,
                Merchant.name,
            )
            .join(Wallet, Wallet.id == WalletTransaction.wallet_id)
            .join(User, User.id == Wallet.user_id)
            .outerjoin(Merchant, Merchant.id == WalletTransaction.merchant_id)
        )
    }
    assert len({currency for currency, *_ in expected.values()}) > 1, "several currencies"

    response = await client.get("/admin/wallet-transactions/export/csv")
    exported = list(csv.DictReader(io.StringIO(response.text)))

    assert response.status_code == 200
    assert {
        row["Reference"]: (row["Currency"], row["Customer email"], row["Merchant"], row["Wallet"])
        for row in exported
    } == expected


async def test_money_exports_carry_their_currency_in_json_too(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    balances = {
        str(wallet_id): currency
        for wallet_id, currency in await db.execute(sa.select(Wallet.id, Wallet.currency))
    }

    wallets = json.loads((await client.get("/admin/wallets/export/json")).text)
    performance = json.loads((await client.get("/admin/campaign-performance/export/json")).text)

    assert wallets, "the demo has wallets"
    assert all(row["currency"] and row["user.email"] for row in wallets)
    assert {row["currency"] for row in wallets} == set(balances.values())
    assert performance, "the demo has campaign days"
    assert all(row["campaign.currency"] for row in performance)
