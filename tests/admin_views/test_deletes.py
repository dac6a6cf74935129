"""Deleting: customers and merchants are deactivated, a row others need stays (with why)."""

from __future__ import annotations

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdminUser, AIModel, Merchant, Role, User
from tests import staff
from tests.admin_views.screens import audit_for, count, token


async def delete(client: httpx.AsyncClient, slug: str, pk: object) -> httpx.Response:
    return await client.request(
        "DELETE", f"/admin/{slug}/delete?pks={pk}", headers={"X-CSRF-Token": await token(client)}
    )


async def test_deleting_a_customer_deactivates_them(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    user = await db.scalar(sa.select(User).where(User.status == "active").limit(1))
    users = await count(db, User)

    response = await delete(client, "users", user.id)

    assert response.status_code == 200
    assert await count(db, User) == users
    await db.refresh(user)
    assert user.status == "deactivated"
    assert user.deactivated_at is not None
    [entry] = await audit_for(db, "deactivate", user.id)
    assert entry.after["status"] == "deactivated"
    assert await audit_for(db, "delete", user.id) == []


async def test_deleting_a_merchant_deactivates_it(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    merchant = await db.scalar(sa.select(Merchant).limit(1))

    await delete(client, "merchants", merchant.id)

    await db.refresh(merchant)
    assert merchant.deactivated_at is not None
    page = (await client.get("/admin/merchants/list")).text
    assert '<meta name="delete-means" content="deactivate">' in page


async def test_a_delete_blocked_by_other_rows_says_what_blocks_it(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    role = await db.scalar(sa.select(Role).where(Role.name == "support"))
    members = await count(db, AdminUser, AdminUser.role_id == role.id)

    response = await delete(client, "roles", role.id)
    listing = await client.get(response.text)

    assert response.status_code == 200
    assert "error=" in response.text
    assert f"still referred to by {members} admin users" in listing.text
    assert 'class="alert alert-danger"' in listing.text
    assert await count(db, Role, Role.id == role.id) == 1
    assert await audit_for(db, "delete", role.id) == []


async def test_a_row_nothing_needs_is_deleted(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    model = AIModel(name="unused", provider="other", version="0", purpose="copywriting")
    db.add(model)
    await db.commit()

    response = await delete(client, "ai-models", model.id)

    assert response.status_code == 200
    assert await count(db, AIModel, AIModel.id == model.id) == 0
    [entry] = await audit_for(db, "delete", model.id)
    assert entry.before["name"] == "unused"
