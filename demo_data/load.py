"""Write the demo dataset into a migrated database, all of it or none of it."""

from __future__ import annotations

import gc
import secrets
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import aclosing, contextmanager
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from analytics.refresh import refresh
from auth.passwords import hash_password
from core.database import Database
from demo_data.ahead import read_ahead
from demo_data.generate import STAFF_EMAIL_DOMAIN, AuditHead, DemoData, Staff
from demo_data.pg_copy import CopyWriter
from demo_data.pg_indexes import indexes_set_aside
from models import Base
from models.base import utcnow
from models.flags import FlagEnvironment
from models.ops import DEFAULT_ACCESS_APPLIED, AuditLog, DashboardAnalytics, RuntimeSetting
from models.people import AdminUser, Role

INSERT_CHUNK = 1_000
READ_AHEAD = 6
"""Batches the generator may run ahead of COPY: one `USER_BATCH` of customers makes six."""
PER_CUSTOMER_TABLES = (
    "users",
    "payment_methods",
    "wallets",
    "wallet_transactions",
    "support_tickets",
    "ticket_messages",
)
"""The tables that grow with `--users`, whose plain indexes are rebuilt after the load."""
INDEX_MEMORY = "512MB"
"""Memory each index build may sort in, for this transaction only."""
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


KEPT_BY_FORCE = frozenset({"roles", "admin_users", "audit_logs", "flag_environments"})
"""`--force` keeps roles, staff accounts, the audit trail, which is never deleted, and the
flag environments (app keys name them); and of the settings, the grants `migrate`
remembers (`DEFAULT_ACCESS_APPLIED`)."""


async def clear_demo_data(session: AsyncSession) -> None:
    """Empty every table but those `--force` keeps.

    On PostgreSQL one TRUNCATE: the ledger refuses row deletes (it is append-only, by
    trigger), and replacing a whole demo is not deleting transactions one by one.
    """
    settings = RuntimeSetting.__table__
    cleared = [
        t
        for t in reversed(Base.metadata.sorted_tables)
        if t.name not in KEPT_BY_FORCE and t is not settings
    ]
    await session.execute(sa.delete(settings).where(settings.c.key != DEFAULT_ACCESS_APPLIED))
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        names = ", ".join(connection.dialect.identifier_preparer.format_table(t) for t in cleared)
        await session.execute(sa.text(f"TRUNCATE {names}"))
        return
    for table in cleared:
        await session.execute(sa.delete(table))


async def existing_demo_staff(session: AsyncSession, now: datetime) -> list[Staff]:
    """Demo staff from an earlier seeding, each as they stand at `now`."""
    found = await session.execute(
        sa.select(
            AdminUser.id, AdminUser.email, Role.name, AdminUser.is_active, AdminUser.locked_until
        )
        .join(Role, AdminUser.role_id == Role.id)
        .where(AdminUser.email.endswith(f"@{STAFF_EMAIL_DOMAIN}"))
        .order_by(AdminUser.email)
    )
    return [
        Staff(
            staff_id,
            email,
            role,
            "disabled" if not active else "locked" if locked and locked > now else "active",
        )
        for staff_id, email, role, active, locked in found
    ]


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
    now: datetime | None = None,
) -> Counter[str]:
    """Seed `users` customers and everything around them; return rows written per table.

    Refuses when customer data exists unless `force`, which first clears it. `now` (the
    current time by default) is the moment the data is generated as of. On PostgreSQL rows
    go in with COPY, the plain indexes of the big tables rebuilt after; on SQLite with
    inserts. Either way in one transaction, so a failure leaves nothing behind.
    """
    async with database.session() as session, session.begin():
        postgres = database.engine.dialect.name == "postgresql"
        if postgres:
            # One long bulk job: a --force clear of millions of rows must not trip the
            # per-statement timeout meant for the screens.
            await session.execute(sa.text("SET LOCAL statement_timeout = 0"))
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
            staff=await existing_demo_staff(session, now or utcnow()),
            audit_head=await audit_head(session),
            now=now,
            environment_ids=dict(
                (await session.execute(sa.select(FlagEnvironment.key, FlagEnvironment.id))).all()
            ),
        )
        if postgres:
            written = await _copy_batches(await session.connection(), data, on_rows)
            # Fresh statistics, or the planner guesses one row per table for what follows.
            for table in PER_CUSTOMER_TABLES:
                await session.execute(sa.text(f"ANALYZE {table}"))
        else:
            written = await _insert_batches(session, data, on_rows)
        await refresh(session, data.now)
        written["dashboard_analytics"] = await session.scalar(
            sa.select(sa.func.count()).select_from(DashboardAnalytics)
        )
        return written


async def _copy_batches(
    connection: AsyncConnection, data: DemoData, on_rows: Callable[[int], None]
) -> Counter[str]:
    """PostgreSQL: one COPY per batch, the next batch made in a worker thread meanwhile."""
    await connection.execute(sa.text(f"SET LOCAL maintenance_work_mem = '{INDEX_MEMORY}'"))
    copy = await CopyWriter.open(connection)
    prepared = (copy.prepare(Base.metadata.tables[b.table], b.rows) for b in data.batches())
    written: Counter[str] = Counter()
    async with (
        indexes_set_aside(connection, PER_CUSTOMER_TABLES),
        aclosing(read_ahead(prepared, READ_AHEAD)) as batches,
    ):
        with cycle_collection_paused():
            async for batch in batches:
                on_rows(await copy.copy(batch))
                written[batch.table.name] += len(batch.records)
    return written


@contextmanager
def cycle_collection_paused() -> Iterator[None]:
    """No cyclic garbage collection while millions of short-lived rows pass through.

    The rows hold no cycles, so reference counting frees them all the same; the collector
    would only keep walking the batches in flight, costing a fifth of the Python time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def _insert_batches(
    session: AsyncSession, data: DemoData, on_rows: Callable[[int], None]
) -> Counter[str]:
    written: Counter[str] = Counter()
    for batch in data.batches():
        table = Base.metadata.tables[batch.table]
        for start in range(0, len(batch.rows), INSERT_CHUNK):
            chunk = batch.rows[start : start + INSERT_CHUNK]
            await session.execute(sa.insert(table), chunk)
            on_rows(len(chunk))
        written[batch.table] += len(batch.rows)
    return written
