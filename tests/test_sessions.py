"""Staff sessions live in the database: revocable, expiring, and never fixed by the client."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth import tokens
from auth.middleware import COOKIE_PURPOSE
from core.settings import Environment, Settings
from models import AdminSession, AdminUser
from models.base import utcnow
from tests import rows, staff
from tests.admin_views.test_four_eyes import decision
from tests.clients import client_for

COOKIE = "swipesavvy_session"


async def test_the_cookie_carries_only_a_signed_random_id(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")

    response = await staff.sign_in(client, account.email)

    header = response.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=")
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header
    assert "Secure" not in header
    value = client.cookies[COOKIE]
    assert account.email not in value
    assert str(account.id) not in value
    token = tokens.unsign(tokens.Keys.of(settings), COOKIE_PURPOSE, value)
    assert token is not None
    stored = await db.scalar(
        sa.select(AdminSession.token_hash).where(AdminSession.admin_user_id == account.id)
    )
    assert stored == tokens.token_hash(token)
    assert token not in stored


async def test_production_cookies_are_secure_and_host_only(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with client_for(
        settings, base_url="https://admin.example.com", env=Environment.PRODUCTION
    ) as client:
        response = await staff.sign_in(client, account.email)
        listing = await client.get("/admin/support-tickets/list")

    header = response.headers["set-cookie"]
    assert header.startswith("__Host-swipesavvy_session=")
    assert "Secure" in header
    assert "Domain" not in header
    assert listing.status_code == 200
    assert listing.headers["strict-transport-security"].startswith("max-age=")


async def test_a_cookie_set_before_sign_in_is_never_kept(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    planted = {"Cookie": f"{COOKIE}=attacker-chosen-value"}

    first = await client.post(
        "/admin/login",
        data={"username": account.email, "password": staff.PASSWORD},
        headers=planted,
    )
    second = await staff.sign_in(client, account.email)

    first_value = first.headers["set-cookie"].split(";")[0]
    second_value = second.headers["set-cookie"].split(";")[0]
    assert "attacker-chosen-value" not in first_value
    assert first_value != second_value
    ids = list(
        await db.scalars(sa.select(AdminSession.id).where(AdminSession.admin_user_id == account.id))
    )
    assert len(ids) == 2


async def test_a_forged_or_unknown_cookie_is_cleared(client: httpx.AsyncClient) -> None:
    client.cookies.set(COOKIE, "not.signed")

    response = await client.get("/admin/users/list")

    assert response.status_code == 302
    assert f'{COOKIE}=""' in response.headers["set-cookie"]


async def test_sign_out_is_a_post_that_revokes_the_session(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)
    cookie = client.cookies[COOKIE]

    by_link = await client.get("/admin/logout")
    token = await staff.csrf_token(client)
    signed_out = await client.post("/admin/logout", data={"csrf_token": token})
    replayed = await client.get(
        "/admin/support-tickets/list", headers={"Cookie": f"{COOKIE}={cookie}"}
    )

    assert by_link.status_code == 405
    assert signed_out.status_code == 302
    assert signed_out.headers["location"].endswith("/admin/login")
    assert f'{COOKIE}=""' in signed_out.headers["set-cookie"]
    assert replayed.status_code == 302
    assert await staff.live_sessions(db, account.id) == 0
    assert [entry.action for entry in await staff.audit_entries(db)][-1] == "logout"


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("last_seen_at", lambda: utcnow() - timedelta(minutes=31), "idle timeout"),
        ("expires_at", lambda: utcnow() - timedelta(seconds=1), None),
    ],
    ids=["idle for 31 minutes", "past its 12 hours"],
)
async def test_sessions_end_when_idle_or_old(
    client: httpx.AsyncClient, db: AsyncSession, column: str, value: object, reason: str | None
) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)
    await db.execute(
        sa.update(AdminSession)
        .where(AdminSession.admin_user_id == account.id)
        .values({column: value(), "created_at": utcnow() - timedelta(hours=13)})
    )
    await db.commit()

    response = await client.get("/admin/support-tickets/list")

    assert response.status_code == 302
    if reason:
        await db.rollback()
        assert await db.scalar(sa.select(AdminSession.revoked_reason)) == reason


async def test_an_active_session_is_kept_alive(client: httpx.AsyncClient, db: AsyncSession) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)
    await db.execute(sa.update(AdminSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    await db.commit()

    assert (await client.get("/admin/support-tickets/list")).status_code == 200
    await db.rollback()
    seen = await db.scalar(sa.select(AdminSession.last_seen_at))
    assert utcnow() - seen < timedelta(minutes=1)


CHANGES = ["disable", "change role", "change password", "change password from the shell"]


@pytest.mark.parametrize("change", CHANGES)
async def test_account_changes_sign_the_account_out_everywhere(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, change: str
) -> None:
    member = await staff.make_staff(db, "support")
    boss = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, member)
    async with client_for(settings) as other:
        await staff.signed_in(other, member)
        async with client_for(settings) as admin:
            await staff.signed_in(admin, boss)
            token = await staff.csrf_token(admin)
            form = {
                "email": member.email,
                "full_name": "Sam Staff",
                "role": str(await rows.role_id(db, "support")),
                "is_active": "y",
                "csrf_token": token,
            }
            if change == "disable":
                done = await admin.post(
                    "/admin/admin-users/action/disable",
                    data={"pks": str(member.id), "csrf_token": token},
                )
            elif change == "change role":
                # Giving a role waits for a second superadmin (four eyes); it applies once approved.
                form["role"] = str(await rows.role_id(db, "viewer"))
                form["change_reason"] = "Moved to the viewer team"
                done = await admin.post(f"/admin/admin-users/edit/{member.id}", data=form)
                checker = await staff.make_staff(db, "superadmin")
                async with client_for(settings) as second:
                    await staff.signed_in(second, checker)
                    approval, _ = await decision(second, done.headers["location"], "Approve")
                assert approval.status_code == 303
            elif change == "change password":
                form["new_password"] = "a brand new passphrase"
                done = await admin.post(f"/admin/admin-users/edit/{member.id}", data=form)
            else:
                await db.rollback()
                account = await db.get(AdminUser, member.id)
                account.password_changed_at = utcnow()
                await db.commit()
                done = httpx.Response(302)
        first = await client.get("/admin/support-tickets/list")
        second = await other.get("/admin/support-tickets/list")

    assert done.status_code in (302, 303), done.text[:300]
    assert first.status_code == second.status_code == 302
    assert await staff.live_sessions(db, member.id) == 0


async def test_staff_see_and_end_their_own_sessions(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await staff.make_staff(db, "support")
    someone_else = await staff.make_staff(db, "support")
    await staff.signed_in(client, member)
    async with client_for(settings) as laptop, client_for(settings) as stranger:
        await staff.signed_in(laptop, member)
        await staff.signed_in(stranger, someone_else)
        page = await client.get("/admin/account")
        laptop_session, this_session = list(
            await db.scalars(
                sa.select(AdminSession.id)
                .where(AdminSession.admin_user_id == member.id)
                .order_by(AdminSession.created_at.desc())
            )
        )
        theirs = await db.scalar(
            sa.select(AdminSession.id).where(AdminSession.admin_user_id == someone_else.id)
        )
        token = await staff.csrf_token(client)
        await client.post(
            "/admin/account/sessions/revoke",
            data={"session_id": str(laptop_session), "csrf_token": token},
        )
        await client.post(
            "/admin/account/sessions/revoke", data={"session_id": str(theirs), "csrf_token": token}
        )
        laptop_after = await laptop.get("/admin/account")
        stranger_after = await stranger.get("/admin/account")

    assert str(laptop_session) in page.text
    assert str(this_session) in page.text
    assert str(theirs) not in page.text
    assert laptop_after.status_code == 302
    assert stranger_after.status_code == 200
    assert (await client.get("/admin/account")).status_code == 200


async def test_superadmins_end_anyones_session_and_others_cannot(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    member = await staff.make_staff(db, "support")
    boss = await staff.make_staff(db, "superadmin")
    admin_role = await staff.make_staff(db, "admin")
    await staff.signed_in(client, member)
    session_id = await db.scalar(
        sa.select(AdminSession.id).where(AdminSession.admin_user_id == member.id)
    )
    async with client_for(settings) as plain_admin:
        await staff.signed_in(plain_admin, admin_role)
        token = await staff.csrf_token(plain_admin)
        forbidden = await plain_admin.post(
            "/admin/admin-sessions/action/revoke",
            data={"pks": str(session_id), "csrf_token": token},
        )
    still_in = await client.get("/admin/support-tickets/list")
    async with client_for(settings) as superadmin:
        await staff.signed_in(superadmin, boss)
        token = await staff.csrf_token(superadmin)
        revoked = await superadmin.post(
            "/admin/admin-sessions/action/revoke",
            data={"pks": str(session_id), "csrf_token": token},
        )

    assert forbidden.status_code == 403
    assert still_in.status_code == 200
    assert revoked.status_code == 303
    assert (await client.get("/admin/support-tickets/list")).status_code == 302
