"""Staff accounts and signed-in clients for tests, through the same doors staff use."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import bcrypt
import httpx
import pyotp
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdminSession, AuditLog
from tests import rows
from tests.databases import TEST_BCRYPT_ROUNDS

PASSWORD = "correct horse battery staple"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


@dataclass
class Account:
    id: uuid.UUID
    email: str
    role: str
    totp_secret: str | None = None

    def code(self) -> str:
        assert self.totp_secret is not None
        return pyotp.TOTP(self.totp_secret).now()


async def make_staff(
    db: AsyncSession,
    role: str = "superadmin",
    *,
    email: str | None = None,
    password: str = PASSWORD,
    totp_secret: str | None = None,
    **overrides: Any,
) -> Account:
    email = email or f"{role}.{uuid.uuid4().hex[:8]}@example.com"
    password_hash = bcrypt.hashpw(password.encode(), bcrypt.gensalt(TEST_BCRYPT_ROUNDS)).decode()
    row = await rows.admin_row(
        db,
        email=email,
        password_hash=password_hash,
        role_id=await rows.role_id(db, role),
        totp_secret=totp_secret,
        **overrides,
    )
    await rows.insert(db, "admin_users", row)
    await db.commit()
    return Account(row["id"], email, role, totp_secret)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    return await client.post(
        "/admin/login", data={"username": email, "password": password, **extra}
    )


async def signed_in(client: httpx.AsyncClient, account: Account) -> httpx.AsyncClient:
    response = await sign_in(client, account.email)
    if account.totp_secret:
        pending = re.search(r'name="pending" value="([^"]+)"', response.text)
        assert pending, response.text
        response = await client.post(
            "/admin/login", data={"pending": pending[1], "code": account.code()}
        )
    assert response.status_code == 302, response.text
    return client


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The token the signed-in page carries, read the way the browser's script reads it."""
    page = await client.get("/admin/account")
    found = CSRF_META.search(page.text)
    assert found, page.text[:500]
    assert found[1]
    return found[1]


async def audit_entries(db: AsyncSession, action: str | None = None) -> list[AuditLog]:
    query = sa.select(AuditLog).order_by(AuditLog.sequence)
    if action:
        query = query.where(AuditLog.action == action)
    await db.commit()  # a fresh snapshot (the app wrote through its own connections)
    return list(await db.scalars(query))


async def live_sessions(db: AsyncSession, admin_id: uuid.UUID) -> int:
    await db.rollback()
    return int(
        await db.scalar(
            sa.select(sa.func.count()).where(
                AdminSession.admin_user_id == admin_id, AdminSession.revoked_at.is_(None)
            )
        )
    )
