"""Deleting: customers and merchants are never deleted (deactivated by an action that asks
why), a row others need stays (with why)."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from models import AdminUser, AIModel, Merchant, Role, User
from tests import staff
from tests.admin_views.screens import audit_for, count, token


async def delete(client: httpx.AsyncClient, slug: str, pk: object) -> httpx.Response:
    return await client.request(
        "DELETE", f"/admin/{slug}/delete?pks={pk}", headers={"X-CSRF-Token": await token(client)}
    )


@pytest.mark.parametrize(("slug", "model"), [("users", User), ("merchants", Merchant)])
async def test_customers_and_merchants_are_never_deleted(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, slug: str, model: type
) -> None:
    row = await db.scalar(sa.select(model).where(model.deactivated_at.is_(None)).limit(1))
    rows_before = await count(db, model)
    page = (await client.get(f"/admin/{slug}/details/{row.id}")).text

    response = await delete(client, slug, row.id)

    assert "#modal-delete" not in page, "no Delete button: Deactivate (with a reason) instead"
    assert f"/admin/{slug}/action/deactivate" in page
    assert response.status_code == 403
    assert await count(db, model) == rows_before
    await db.refresh(row)
    assert row.deactivated_at is None
    assert await audit_for(db, "delete", row.id) == []


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
