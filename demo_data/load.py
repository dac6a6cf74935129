"""Write the demo dataset into a migrated database, all of it or none of it."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth.passwords import hash_password
from core.database import Database
from demo_data.generate import STAFF_EMAIL_DOMAIN, AuditHead, DemoData, Staff
from models import Base
from models.ops import AuditLog
from models.people import AdminUser, Role

INSERT_CHUNK = 1_000
CUSTOMER_DATA_TABLES = (
    "users",
    "merchants",
    "wallets",
    "wallet_transactions",
    "support_tickets",
    "feature_flags",
    "ai_campaigns",
)
"""Rows in any of these mean the database already holds data worth keeping."""


class SeedRefusedError(Exception):
    """Seeding would overwrite data; the message says how to proceed."""


async def has_customer_data(session: AsyncSession) -> bool:
    for table in CUSTOMER_DATA_TABLES:
        if await session.scalar(sa.select(sa.literal(1)).select_from(sa.table(table)).limit(1)):
            return True
    return False


KEPT_BY_FORCE = frozenset({"roles", "admin_users", "audit_logs"})
"""`--force` keeps roles, staff accounts, and the audit trail, which is never deleted."""


async def clear_demo_data(session: AsyncSession) -> None:
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in KEPT_BY_FORCE:
            await session.execute(sa.delete(table))


async def existing_demo_staff(session: AsyncSession) -> list[Staff]:
    found = await session.execute(
        sa.select(AdminUser.id, AdminUser.email, Role.name)
        .join(Role, AdminUser.role_id == Role.id)
        .where(AdminUser.email.endswith(f"@{STAFF_EMAIL_DOMAIN}"))
        .order_by(AdminUser.email)
    )
    return [Staff(*row) for row in found]


async def audit_head(session: AsyncSession) -> AuditHead | None:
    head = (
        await session.execute(
            sa.select(AuditLog.sequence, AuditLog.row_hash, AuditLog.created_at)
            .order_by(AuditLog.sequence.desc())
            .limit(1)
        )
    ).first()
    return AuditHead(*head) if head else None


async def seed_demo(
    database: Database,
    *,
    users: int,
    seed: int,
    bcrypt_rounds: int,
    force: bool = False,
    on_rows: Callable[[int], None] = lambda _count: None,
) -> Counter[str]:
    """Seed `users` customers and everything around them; return rows written per table.

    Refuses when customer data exists unless `force`, which first clears it.
    """
    async with database.session() as session, session.begin():
        if await has_customer_data(session):
            if not force:
                raise SeedRefusedError(
                    "the database already holds data; pass --force to replace it with demo data."
                )
            await clear_demo_data(session)
        role_ids = dict((await session.execute(sa.select(Role.name, Role.id))).all())
        # Demo staff get a password nobody knows: they show up in screens, nobody signs in.
        unusable_hash = await hash_password(secrets.token_urlsafe(32), bcrypt_rounds)
        data = DemoData(
            users,
            role_ids=role_ids,
            password_hash=unusable_hash,
            seed=seed,
            staff=await existing_demo_staff(session),
            audit_head=await audit_head(session),
        )
        written: Counter[str] = Counter()
        for batch in data.batches():
            table = Base.metadata.tables[batch.table]
            for start in range(0, len(batch.rows), INSERT_CHUNK):
                chunk = batch.rows[start : start + INSERT_CHUNK]
                await session.execute(sa.insert(table), chunk)
                on_rows(len(chunk))
            written[batch.table] += len(batch.rows)
    return written
