"""The database itself refuses rows that break a rule, on SQLite and on PostgreSQL.

Each case starts from a valid row, breaks one rule, and checks the insert is refused and
nothing was written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tests import rows
from tests.rows import NOW, Row


@dataclass(frozen=True)
class Parents:
    user: uuid.UUID
    admin: uuid.UUID
    wallet: uuid.UUID
    ticket: uuid.UUID
    campaign: uuid.UUID
    purchase: uuid.UUID


@pytest.fixture
async def parents(db: AsyncSession) -> Parents:
    user = await rows.insert(db, "users", rows.user_row())
    admin = await rows.insert(db, "admin_users", await rows.admin_row(db))
    wallet = await rows.insert(db, "wallets", rows.wallet_row(user["id"], balance=Decimal("10")))
    merchant = await rows.insert(db, "merchants", rows.merchant_row())
    purchase = await rows.insert(
        db,
        "wallet_transactions",
        rows.transaction_row(
            wallet["id"], type="purchase", amount=Decimal("-5.00"), merchant_id=merchant["id"]
        ),
    )
    ticket = await rows.insert(db, "support_tickets", rows.ticket_row(user["id"]))
    campaign = await rows.insert(db, "ai_campaigns", rows.campaign_row())
    await db.commit()
    return Parents(
        user["id"], admin["id"], wallet["id"], ticket["id"], campaign["id"], purchase["id"]
    )


BROKEN: dict[str, Callable[[Parents], tuple[str, Row]]] = {
    # users
    "user email not lower case": lambda p: ("users", rows.user_row(email="Ada@Example.com")),
    "user country not ISO": lambda p: ("users", rows.user_row(country="us")),
    "user unknown status": lambda p: ("users", rows.user_row(status="banned")),
    "user unknown kyc status": lambda p: ("users", rows.user_row(kyc_status="maybe")),
    "user deactivated without date": lambda p: ("users", rows.user_row(status="deactivated")),
    "user active with deactivation date": lambda p: ("users", rows.user_row(deactivated_at=NOW)),
    "user without email": lambda p: ("users", rows.user_row(email=None)),
    # admin_users (role and email checks need an existing role: see the async cases below)
    # roles
    "role name not a slug": lambda p: ("roles", rows.role_row(name="Support Team")),
    "role empty name": lambda p: ("roles", rows.role_row(name="")),
    # admin_sessions
    "session expires before issue": lambda p: (
        "admin_sessions",
        rows.session_row(p.admin, expires_at=NOW - timedelta(seconds=1)),
    ),
    "session unknown kind": lambda p: ("admin_sessions", rows.session_row(p.admin, kind="cli")),
    "session for missing staff": lambda p: ("admin_sessions", rows.session_row(uuid.uuid4())),
    # merchants
    "merchant cashback above 100": lambda p: (
        "merchants",
        rows.merchant_row(cashback_rate=Decimal("100.01")),
    ),
    "merchant cashback negative": lambda p: (
        "merchants",
        rows.merchant_row(cashback_rate=Decimal("-0.50")),
    ),
    "merchant unknown status": lambda p: ("merchants", rows.merchant_row(status="closed")),
    "merchant unknown category": lambda p: ("merchants", rows.merchant_row(category="casino")),
    "merchant rejected without reason": lambda p: (
        "merchants",
        rows.merchant_row(status="rejected"),
    ),
    "merchant email not lower case": lambda p: (
        "merchants",
        rows.merchant_row(contact_email="Shop@Example.com"),
    ),
    # support_tickets
    "ticket unknown status": lambda p: ("support_tickets", rows.ticket_row(p.user, status="lost")),
    "ticket unknown priority": lambda p: (
        "support_tickets",
        rows.ticket_row(p.user, priority="asap"),
    ),
    "ticket unknown category": lambda p: (
        "support_tickets",
        rows.ticket_row(p.user, category="billing"),
    ),
    "ticket unknown channel": lambda p: ("support_tickets", rows.ticket_row(p.user, channel="fax")),
    "ticket empty subject": lambda p: ("support_tickets", rows.ticket_row(p.user, subject="")),
    "ticket answered before it was opened": lambda p: (
        "support_tickets",
        rows.ticket_row(p.user, first_response_at=NOW - timedelta(minutes=1)),
    ),
    "ticket resolved before it was opened": lambda p: (
        "support_tickets",
        rows.ticket_row(p.user, resolved_at=NOW - timedelta(days=1)),
    ),
    "ticket for missing customer": lambda p: ("support_tickets", rows.ticket_row(uuid.uuid4())),
    # ticket_messages
    "message unknown author type": lambda p: (
        "ticket_messages",
        rows.message_row(p.ticket, author_type="bot"),
    ),
    "message internal note by customer": lambda p: (
        "ticket_messages",
        rows.message_row(p.ticket, is_internal=True),
    ),
    "message agent without author": lambda p: (
        "ticket_messages",
        rows.message_row(p.ticket, author_type="agent"),
    ),
    "message empty body": lambda p: ("ticket_messages", rows.message_row(p.ticket, body="")),
    "message on missing ticket": lambda p: ("ticket_messages", rows.message_row(uuid.uuid4())),
    # feature_flags
    "flag key not lower case": lambda p: ("feature_flags", rows.flag_row(key="New-Checkout")),
    "flag rollout above 100": lambda p: (
        "feature_flags",
        rows.flag_row(rollout_percentage=Decimal("100.01")),
    ),
    "flag rollout negative": lambda p: (
        "feature_flags",
        rows.flag_row(rollout_percentage=Decimal("-1")),
    ),
    "flag ends before it starts": lambda p: (
        "feature_flags",
        rows.flag_row(starts_at=NOW, ends_at=NOW - timedelta(hours=1)),
    ),
    "flag revision zero": lambda p: ("feature_flags", rows.flag_row(revision=0)),
    "flag unknown type": lambda p: ("feature_flags", rows.flag_row(flag_type="temporary")),
    # ai_campaigns
    "campaign negative budget": lambda p: (
        "ai_campaigns",
        rows.campaign_row(budget=Decimal("-0.01")),
    ),
    "campaign negative spend": lambda p: ("ai_campaigns", rows.campaign_row(spend=Decimal("-1"))),
    "campaign currency not ISO": lambda p: ("ai_campaigns", rows.campaign_row(currency="usd")),
    "campaign ends before it starts": lambda p: (
        "ai_campaigns",
        rows.campaign_row(starts_at=NOW, ends_at=NOW - timedelta(days=1)),
    ),
    "campaign scheduled without start": lambda p: (
        "ai_campaigns",
        rows.campaign_row(status="scheduled"),
    ),
    "campaign unknown status": lambda p: ("ai_campaigns", rows.campaign_row(status="running")),
    "campaign unknown channel": lambda p: ("ai_campaigns", rows.campaign_row(channel="tv")),
    # campaign_performance
    "performance negative impressions": lambda p: (
        "campaign_performance",
        rows.performance_row(p.campaign, impressions=-1, clicks=0),
    ),
    "performance more clicks than impressions": lambda p: (
        "campaign_performance",
        rows.performance_row(p.campaign, impressions=10, clicks=11),
    ),
    "performance negative spend": lambda p: (
        "campaign_performance",
        rows.performance_row(p.campaign, spend=Decimal("-1.00")),
    ),
    "performance negative revenue": lambda p: (
        "campaign_performance",
        rows.performance_row(p.campaign, revenue=Decimal("-1.00")),
    ),
    "performance for missing campaign": lambda p: (
        "campaign_performance",
        rows.performance_row(uuid.uuid4()),
    ),
    # ai_models
    "model unknown provider": lambda p: ("ai_models", rows.ai_model_row(provider="acme")),
    "model unknown purpose": lambda p: ("ai_models", rows.ai_model_row(purpose="poetry")),
    "model unknown status": lambda p: ("ai_models", rows.ai_model_row(status="live")),
    # dashboard_analytics
    "rollup empty metric": lambda p: ("dashboard_analytics", rows.rollup_row(metric="")),
    # audit_logs
    "audit sequence zero": lambda p: ("audit_logs", rows.audit_row(sequence=0)),
    "audit empty action": lambda p: ("audit_logs", rows.audit_row(action="")),
    "audit actor missing": lambda p: ("audit_logs", rows.audit_row(actor_id=uuid.uuid4())),
    # settings
    "setting empty key": lambda p: ("settings", rows.setting_row(key="")),
    # wallets
    "wallet negative balance": lambda p: (
        "wallets",
        rows.wallet_row(p.user, currency="EUR", balance=Decimal("-0.01")),
    ),
    "wallet currency not ISO": lambda p: ("wallets", rows.wallet_row(p.user, currency="eur")),
    "wallet unknown status": lambda p: (
        "wallets",
        rows.wallet_row(p.user, currency="EUR", status="open"),
    ),
    "wallet for missing user": lambda p: ("wallets", rows.wallet_row(uuid.uuid4())),
    # wallet_transactions
    "transaction zero amount": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, amount=Decimal("0.00")),
    ),
    "transaction negative fee": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, fee=Decimal("-0.01")),
    ),
    "transaction deposit with negative amount": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, amount=Decimal("-5.00")),
    ),
    "transaction purchase with positive amount": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, type="purchase"),
    ),
    "transaction posted without posted_at": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, posted_at=None),
    ),
    "transaction pending with posted_at": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, status="pending"),
    ),
    "transaction refund without original": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, type="refund"),
    ),
    "transaction unknown type": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, type="gift"),
    ),
    "transaction unknown status": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, status="settled"),
    ),
    "transaction currency not ISO": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, currency="$"),
    ),
    "transaction on missing wallet": lambda p: (
        "wallet_transactions",
        rows.transaction_row(uuid.uuid4()),
    ),
    # payment_methods
    "card last four too short": lambda p: (
        "payment_methods",
        rows.payment_method_row(p.user, last_four="424"),
    ),
    "card expiry month 13": lambda p: (
        "payment_methods",
        rows.payment_method_row(p.user, exp_month=13),
    ),
    "card expiry year 1999": lambda p: (
        "payment_methods",
        rows.payment_method_row(p.user, exp_year=1999),
    ),
    "card without expiry": lambda p: (
        "payment_methods",
        rows.payment_method_row(p.user, exp_month=None, exp_year=None),
    ),
    "payment method unknown kind": lambda p: (
        "payment_methods",
        rows.payment_method_row(p.user, kind="crypto"),
    ),
}


UNIQUE: dict[str, Callable[[Parents], tuple[str, Row, Row]]] = {
    "user email": lambda p: (
        "users",
        rows.user_row(email="same@example.com"),
        rows.user_row(email="same@example.com"),
    ),
    "user phone": lambda p: (
        "users",
        rows.user_row(phone="+15550001"),
        rows.user_row(phone="+15550001"),
    ),
    "role name": lambda p: ("roles", rows.role_row(name="auditor"), rows.role_row(name="auditor")),
    "session token hash": lambda p: (
        "admin_sessions",
        rows.session_row(p.admin, token_hash="a" * 64),
        rows.session_row(p.admin, token_hash="a" * 64),
    ),
    "merchant contact email": lambda p: (
        "merchants",
        rows.merchant_row(contact_email="shop@example.com"),
        rows.merchant_row(contact_email="shop@example.com"),
    ),
    "ticket reference": lambda p: (
        "support_tickets",
        rows.ticket_row(p.user, reference="TCK-SAME0001"),
        rows.ticket_row(p.user, reference="TCK-SAME0001"),
    ),
    "flag key": lambda p: (
        "feature_flags",
        rows.flag_row(key="dark-mode"),
        rows.flag_row(key="dark-mode"),
    ),
    "model name and version": lambda p: (
        "ai_models",
        rows.ai_model_row(name="writer", version="1"),
        rows.ai_model_row(name="writer", version="1"),
    ),
    "one performance row per campaign and day": lambda p: (
        "campaign_performance",
        rows.performance_row(p.campaign),
        rows.performance_row(p.campaign),
    ),
    "one rollup per day, metric and dimension": lambda p: (
        "dashboard_analytics",
        rows.rollup_row(metric="signups"),
        rows.rollup_row(metric="signups"),
    ),
    "audit sequence": lambda p: ("audit_logs", rows.audit_row(), rows.audit_row()),
    "audit row hash": lambda p: (
        "audit_logs",
        rows.audit_row(row_hash="f" * 64),
        rows.audit_row(sequence=2, row_hash="f" * 64),
    ),
    "setting key": lambda p: ("settings", rows.setting_row(key="a.b"), rows.setting_row(key="a.b")),
    "one wallet per user and currency": lambda p: (
        "wallets",
        rows.wallet_row(p.user, currency="GBP"),
        rows.wallet_row(p.user, currency="GBP"),
    ),
    "transaction reference": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, reference="TXN-1"),
        rows.transaction_row(p.wallet, reference="TXN-1"),
    ),
    "transaction idempotency key": lambda p: (
        "wallet_transactions",
        rows.transaction_row(p.wallet, idempotency_key="k-1"),
        rows.transaction_row(p.wallet, idempotency_key="k-1"),
    ),
    "one default payment method per user": lambda p: (
        "payment_methods",
        rows.payment_method_row(p.user, is_default=True),
        rows.payment_method_row(p.user, is_default=True),
    ),
}


async def assert_refused(db: AsyncSession, table: str, row: Row) -> None:
    async def write() -> None:
        await rows.insert(db, table, row)
        await db.commit()

    before = await rows.count(db, table)
    with pytest.raises(IntegrityError):
        await write()
    await db.rollback()
    assert await rows.count(db, table) == before


@pytest.mark.parametrize("case", list(BROKEN))
async def test_database_refuses_broken_row(db: AsyncSession, parents: Parents, case: str) -> None:
    table, row = BROKEN[case](parents)
    await assert_refused(db, table, row)


@pytest.mark.parametrize("case", list(UNIQUE))
async def test_database_refuses_duplicate(db: AsyncSession, parents: Parents, case: str) -> None:
    table, first, second = UNIQUE[case](parents)
    await rows.insert(db, table, first)
    await db.commit()

    await assert_refused(db, table, second)


async def test_staff_account_rules(db: AsyncSession) -> None:
    await rows.insert(db, "admin_users", await rows.admin_row(db, email="sam@example.com"))
    await db.commit()

    await assert_refused(db, "admin_users", await rows.admin_row(db, email="sam@example.com"))
    await assert_refused(db, "admin_users", await rows.admin_row(db, email="Sam@Example.com"))
    await assert_refused(db, "admin_users", await rows.admin_row(db, failed_login_count=-1))
    await assert_refused(db, "admin_users", await rows.admin_row(db, role_id=uuid.uuid4()))


VALID: dict[str, Callable[[Parents], Row]] = {
    "users": lambda p: rows.user_row(),
    "roles": lambda p: rows.role_row(),
    "admin_sessions": lambda p: rows.session_row(p.admin),
    "merchants": lambda p: rows.merchant_row(),
    "support_tickets": lambda p: rows.ticket_row(p.user),
    "ticket_messages": lambda p: rows.message_row(
        p.ticket, author_type="agent", author_admin_id=p.admin, is_internal=True
    ),
    "feature_flags": lambda p: rows.flag_row(),
    "ai_campaigns": lambda p: rows.campaign_row(),
    "campaign_performance": lambda p: rows.performance_row(p.campaign),
    "ai_models": lambda p: rows.ai_model_row(),
    "dashboard_analytics": lambda p: rows.rollup_row(),
    "audit_logs": lambda p: rows.audit_row(),
    "settings": lambda p: rows.setting_row(),
    "wallets": lambda p: rows.wallet_row(p.user, currency="EUR"),
    "wallet_transactions": lambda p: rows.transaction_row(
        p.wallet, type="refund", amount=Decimal("5.00"), related_transaction_id=p.purchase
    ),
    "payment_methods": lambda p: rows.payment_method_row(
        p.user, kind="bank_account", brand="Chase", exp_month=None, exp_year=None
    ),
}


@pytest.mark.parametrize("table", list(VALID))
async def test_the_starting_rows_are_valid(db: AsyncSession, parents: Parents, table: str) -> None:
    """So that each refusal above is down to the one rule its case breaks."""
    before = await rows.count(db, table)
    await rows.insert(db, table, VALID[table](parents))
    await db.commit()

    assert await rows.count(db, table) == before + 1
