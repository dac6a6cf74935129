"""Every change under /admin needs this session's CSRF token; every response sends safe headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.middleware import CONTENT_SECURITY_POLICY
from core.settings import Environment, Settings
from models import AdminSession, AdminUser, AIModel, Merchant
from models.base import utcnow
from tests import rows, staff
from tests.clients import client_for


@dataclass
class World:
    merchant_id: Any
    model_id: Any
    locked_id: Any
    account: staff.Account
    session_id: Any


async def merchant_state(db: AsyncSession) -> list[tuple[Any, ...]]:
    await db.rollback()
    columns = (Merchant.name, Merchant.cashback_rate, Merchant.deactivated_at)
    return list((await db.execute(sa.select(*columns))).all())


async def model_state(db: AsyncSession) -> list[tuple[Any, ...]]:
    await db.rollback()
    return list((await db.execute(sa.select(AIModel.id, AIModel.name))).all())


async def staff_state(db: AsyncSession) -> list[tuple[Any, ...]]:
    await db.rollback()
    columns = (
        AdminUser.email,
        AdminUser.locked_until,
        AdminUser.password_hash,
        AdminUser.totp_secret,
    )
    return list((await db.execute(sa.select(*columns))).all())


async def session_state(db: AsyncSession) -> list[tuple[Any, ...]]:
    await db.rollback()
    return list((await db.execute(sa.select(AdminSession.id, AdminSession.revoked_at))).all())


Send = Callable[[httpx.AsyncClient, World, dict[str, str]], Awaitable[httpx.Response]]

MERCHANT_FORM = {
    "name": "Forged Shop",
    "contact_email": "forged@example.com",
    "status": "active",
    "category": "retail",
    "cashback_rate": "9.99",
    "address": "{}",
}

CHANGES: dict[str, tuple[Send, Callable[[AsyncSession], Awaitable[list[tuple[Any, ...]]]]]] = {
    "create": (
        lambda c, w, t: c.post("/admin/merchants/create", data=MERCHANT_FORM | t),
        merchant_state,
    ),
    "edit": (
        lambda c, w, t: c.post(f"/admin/merchants/edit/{w.merchant_id}", data=MERCHANT_FORM | t),
        merchant_state,
    ),
    "delete": (
        lambda c, w, t: c.request(
            "DELETE", f"/admin/ai-models/delete?pks={w.model_id}", headers=t_header(t)
        ),
        model_state,
    ),
    "action": (
        lambda c, w, t: c.post(
            "/admin/admin-users/action/reset-lockout", data={"pks": str(w.locked_id)} | t
        ),
        staff_state,
    ),
    "sign out": (lambda c, w, t: c.post("/admin/logout", data=t), session_state),
    "end own session": (
        lambda c, w, t: c.post(
            "/admin/account/sessions/revoke", data={"session_id": str(w.session_id)} | t
        ),
        session_state,
    ),
    "turn on two-factor": (
        lambda c, w, t: c.post("/admin/account/two-factor", data={"code": "123456"} | t),
        staff_state,
    ),
    "change own password": (
        lambda c, w, t: c.post(
            "/admin/account/password",
            data={
                "current_password": staff.PASSWORD,
                "new_password": "another long passphrase",
                "confirm": "another long passphrase",
            }
            | t,
        ),
        staff_state,
    ),
}


def t_header(token: dict[str, str]) -> dict[str, str]:
    return {"X-CSRF-Token": token["csrf_token"]} if token else {}


@pytest.fixture
async def world(db: AsyncSession, client: httpx.AsyncClient) -> World:
    merchant = await rows.insert(db, "merchants", rows.merchant_row(cashback_rate=Decimal("1.00")))
    # Flags are archived, never deleted: an AI model is a row the screens delete.
    model = await rows.insert(db, "ai_models", rows.ai_model_row())
    locked = await staff.make_staff(db, "support", locked_until=utcnow())
    account = await staff.make_staff(db, "superadmin")
    await db.commit()
    await staff.signed_in(client, account)
    session_id = await db.scalar(
        sa.select(AdminSession.id).where(AdminSession.admin_user_id == account.id)
    )
    return World(merchant["id"], model["id"], locked.id, account, session_id)


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("token", ["missing", "another session's"])
async def test_a_change_without_this_sessions_token_is_refused(
    client: httpx.AsyncClient,
    db: AsyncSession,
    settings: Settings,
    world: World,
    change: str,
    token: str,
) -> None:
    send, state = CHANGES[change]
    presented: dict[str, str] = {}
    if token == "another session's":
        async with client_for(settings) as other:
            await staff.signed_in(other, world.account)
            presented = {"csrf_token": await staff.csrf_token(other)}
    before = await state(db)

    response = await send(client, world, presented)

    assert response.status_code == 403
    assert "CSRF" in response.text
    assert await state(db) == before


@pytest.mark.parametrize("change", ["edit", "delete", "action"])
async def test_the_same_change_with_the_token_goes_through(
    client: httpx.AsyncClient, db: AsyncSession, world: World, change: str
) -> None:
    send, state = CHANGES[change]
    before = await state(db)

    response = await send(client, world, {"csrf_token": await staff.csrf_token(client)})

    assert response.status_code in (200, 302, 303)
    assert await state(db) != before


async def test_an_action_opened_with_get_only_shows_its_page(
    client: httpx.AsyncClient, db: AsyncSession, world: World
) -> None:
    before = await staff_state(db)

    response = await client.get(f"/admin/admin-users/action/reset-lockout?pks={world.locked_id}")

    assert response.status_code == 200
    assert '<form class="card" method="post"' in response.text
    assert await staff_state(db) == before


async def test_a_sign_in_posted_from_another_site_is_refused(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")

    forged = await client.post(
        "/admin/login",
        data={"username": account.email, "password": staff.PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    same_site = await client.post(
        "/admin/login",
        data={"username": account.email, "password": staff.PASSWORD},
        headers={"Origin": "http://testserver"},
    )

    assert forged.status_code == 403
    assert same_site.status_code == 302


@pytest.mark.parametrize(
    "path", ["/healthz", "/admin/login", "/api/v1/admin/auth/me", "/admin/statics/css/main.css"]
)
async def test_every_response_carries_the_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert "http" not in CONTENT_SECURITY_POLICY
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["x-frame-options"] == "DENY"
    assert "strict-transport-security" not in response.headers
    assert len(response.headers["x-request-id"]) >= 8


async def test_production_adds_strict_transport_security(settings: Settings) -> None:
    async with client_for(
        settings, base_url="https://admin.example.com", env=Environment.PRODUCTION
    ) as client:
        response = await client.get("/healthz")

    assert response.headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


async def test_signed_in_pages_are_not_cached(client: httpx.AsyncClient, world: World) -> None:
    page = await client.get("/admin/merchants/list")
    asset = await client.get("/admin/statics/css/main.css")

    assert page.headers["cache-control"] == "no-store"
    assert asset.headers.get("cache-control") != "no-store"
