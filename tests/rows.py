"""Valid rows for every table, written with Core inserts, for tests to start from and break."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AIModel, AuditLog, Base, Role

Row = dict[str, Any]
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def named_id(name: str) -> uuid.UUID:
    """The same id for `name` in every process: ids that end up in test names must be, for
    the suite's workers to collect the same tests."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"swipesavvy-tests/{name}")


def _unique() -> str:
    return uuid.uuid4().hex[:10]


async def insert(session: AsyncSession, table: str, row: Row) -> Row:
    await session.execute(sa.insert(Base.metadata.tables[table]), [row])
    return row


async def count(session: AsyncSession, table: str) -> int:
    return int(await session.scalar(sa.select(sa.func.count()).select_from(sa.table(table))))


async def role_id(session: AsyncSession, name: str = "support") -> uuid.UUID:
    return (await session.execute(sa.select(Role.id).where(Role.name == name))).scalar_one()


def user_row(**overrides: Any) -> Row:
    tag = _unique()
    return {
        "id": uuid.uuid4(),
        "email": f"user.{tag}@example.com",
        "phone": f"+1{tag[:9]}",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "date_of_birth": date(1990, 5, 17),
        "country": "US",
        "status": "active",
        "kyc_status": "verified",
        "email_verified": True,
        "last_active_at": NOW,
        "deactivated_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


async def admin_row(session: AsyncSession, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "email": f"staff.{_unique()}@example.com",
        "full_name": "Sam Staff",
        "password_hash": "$2b$04$" + "x" * 53,
        "role_id": await role_id(session),
        "is_active": True,
        "failed_login_count": 0,
        "locked_until": None,
        "last_login_at": None,
        "last_login_ip": None,
        "password_changed_at": NOW,
        "totp_secret": None,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def role_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "name": f"role-{_unique()}",
        "description": "",
        "permissions": ["users:view"],
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def session_row(admin_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "admin_user_id": admin_id,
        "kind": "browser",
        "token_hash": uuid.uuid4().hex * 2,
        "expires_at": NOW + timedelta(hours=12),
        "last_seen_at": None,
        "revoked_at": None,
        "revoked_reason": None,
        "ip_address": "127.0.0.1",
        "user_agent": "pytest",
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def merchant_row(**overrides: Any) -> Row:
    tag = _unique()
    return {
        "id": uuid.uuid4(),
        "name": f"Shop {tag}",
        "legal_name": None,
        "contact_email": f"shop.{tag}@example.com",
        "phone": None,
        "website": None,
        "status": "active",
        "category": "retail",
        "cashback_rate": Decimal("1.50"),
        "tags": ["local"],
        "address": {"city": "Austin"},
        "rejection_reason": None,
        "approved_at": NOW,
        "deactivated_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def ticket_row(user_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "reference": f"TCK-{_unique()[:8].upper()}",
        "user_id": user_id,
        "subject": "Card declined",
        "description": "It was declined twice.",
        "status": "open",
        "priority": "normal",
        "category": "payments",
        "channel": "in_app",
        "assignee_id": None,
        "tags": [],
        "first_response_at": None,
        "resolved_at": None,
        "closed_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def message_row(ticket_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "ticket_id": ticket_id,
        "author_type": "customer",
        "author_admin_id": None,
        "body": "Hello, I need help.",
        "is_internal": False,
        "created_at": NOW,
    } | overrides


def flag_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "key": f"flag-{_unique()}",
        "name": "A flag",
        "description": "",
        "flag_type": "release",
        "enabled": True,
        "rollout_percentage": Decimal("25.00"),
        "platforms": ["ios"],
        "min_app_version": None,
        "max_app_version": None,
        "allow_list": [],
        "deny_list": [],
        "rules": [],
        "variants": [],
        "default_value": None,
        "starts_at": None,
        "ends_at": None,
        "revision": 1,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def ai_model_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "name": f"model-{_unique()}",
        "provider": "internal",
        "version": "1.0.0",
        "purpose": "copywriting",
        "status": "active",
        "config": {},
        "metrics": {},
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def campaign_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "name": f"Campaign {_unique()}",
        "description": "",
        "status": "draft",
        "channel": "push",
        "audience": {},
        "budget": Decimal("1000.00"),
        "spend": Decimal("0.00"),
        "currency": "USD",
        "starts_at": None,
        "ends_at": None,
        "ai_model_id": None,
        "created_by_id": None,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def performance_row(campaign_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "campaign_id": campaign_id,
        "day": date(2026, 10, 31),
        "impressions": 1000,
        "clicks": 50,
        "conversions": 5,
        "spend": Decimal("20.00"),
        "revenue": Decimal("75.00"),
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def rollup_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "day": date(2026, 10, 31),
        "metric": f"metric-{_unique()}",
        "dimension": "",
        "value": Decimal("12.5000"),
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def audit_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "sequence": 1,
        "actor_id": None,
        "actor_email": None,
        "action": "create",
        "entity_type": "merchants",
        "entity_id": None,
        "before": None,
        "after": {"name": "Shop"},
        "ip_address": None,
        "user_agent": None,
        "request_id": None,
        "prev_hash": "0" * 64,
        "row_hash": uuid.uuid4().hex * 2,
        "created_at": NOW,
    } | overrides


def setting_row(**overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "key": f"setting.{_unique()}",
        "value": {"on": True},
        "description": "",
        "is_secret": False,
        "updated_by_id": None,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def wallet_row(user_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "currency": "USD",
        "balance": Decimal("0.00"),
        "status": "active",
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def transaction_row(wallet_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "reference": f"TXN-{_unique()}",
        "wallet_id": wallet_id,
        "type": "deposit",
        "status": "posted",
        "amount": Decimal("25.00"),
        "fee": Decimal("0.00"),
        "currency": "USD",
        "description": "",
        "merchant_id": None,
        "payment_method_id": None,
        "related_transaction_id": None,
        "idempotency_key": None,
        "posted_at": NOW,
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


def payment_method_row(user_id: uuid.UUID, **overrides: Any) -> Row:
    return {
        "id": uuid.uuid4(),
        "user_id": user_id,
        "kind": "card",
        "brand": "visa",
        "last_four": "4242",
        "exp_month": 12,
        "exp_year": 2030,
        "holder_name": "Ada Lovelace",
        "is_default": False,
        "status": "active",
        "created_at": NOW,
        "updated_at": NOW,
    } | overrides


async def ai_models_written(db: AsyncSession) -> tuple[int, int]:
    """(AI models, their audit entries) as committed: a save's row and its entry, or neither."""
    await db.rollback()
    models = await db.scalar(sa.select(sa.func.count()).select_from(AIModel))
    entries = await db.scalar(
        sa.select(sa.func.count()).where(AuditLog.entity_type == AIModel.__tablename__)
    )
    return int(models or 0), int(entries or 0)
