"""Signing in to the admin screens: one generic refusal, lockout, limits, second factor."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import bcrypt
import httpx
import pyotp
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

import auth.login
import auth.passwords
from auth.login import lockout_duration
from core.settings import Settings
from models import AdminUser
from models.base import utcnow
from tests import staff
from tests.clients import client_for
from tests.staff import PASSWORD


async def reload(db: AsyncSession, account: staff.Account) -> AdminUser:
    await db.rollback()
    admin = await db.get(AdminUser, account.id, populate_existing=True)
    assert admin is not None
    return admin


async def test_sign_in_starts_a_session_and_is_audited(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")

    response = await staff.sign_in(client, account.email)

    assert response.status_code == 302
    assert response.headers["location"] == "/admin/"
    assert (await client.get("/admin/support-tickets/list")).status_code == 200
    [entry] = await staff.audit_entries(db, "login.success")
    assert entry.actor_id == account.id
    assert entry.entity_id == str(account.id)
    assert entry.ip_address == "127.0.0.1"
    assert entry.request_id == response.headers["x-request-id"]
    assert entry.user_agent.startswith("python-httpx/")


@pytest.mark.parametrize(
    "case", ["wrong password", "unknown email", "disabled account", "locked account"]
)
async def test_every_refusal_reads_the_same(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, case: str
) -> None:
    good = await staff.make_staff(db, "support", email="good@example.com")
    await staff.make_staff(db, "support", email="off@example.com", is_active=False)
    locked = await staff.make_staff(db, "support", email="locked@example.com")
    for _ in range(settings.lockout_threshold):  # a lock holds against the client that failed
        await staff.sign_in(client, locked.email, "guesses until it locks")
    reference = await staff.sign_in(client, good.email, "not the password at all")
    email, password = {
        "wrong password": ("good@example.com", "another wrong password"),
        "unknown email": ("nobody@example.com", PASSWORD),
        "disabled account": ("off@example.com", PASSWORD),
        "locked account": ("locked@example.com", PASSWORD),
    }[case]

    response = await staff.sign_in(client, email, password)

    assert response.status_code == reference.status_code == 400
    assert response.text == reference.text
    assert "Email or password is incorrect" in response.text
    assert "swipesavvy_session" not in response.headers.get("set-cookie", "")


async def test_an_unknown_email_costs_the_same_bcrypt_work(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await staff.make_staff(db, "support")
    checked: list[tuple[str, str]] = []
    original = auth.login.verify_password

    async def spy(password: str, password_hash: str) -> bool:
        checked.append((password, password_hash))
        return await original(password, password_hash)

    monkeypatch.setattr(auth.login, "verify_password", spy)

    await staff.sign_in(client, "nobody@example.com", "some password here")
    await staff.sign_in(client, account.email, "some password here")

    assert len(checked) == 2
    costs = {auth.passwords.hash_rounds(password_hash) for _, password_hash in checked}
    assert costs == {settings.bcrypt_rounds}


async def test_password_hashing_runs_off_the_event_loop(
    client: httpx.AsyncClient, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    account = await staff.make_staff(db, "support")
    threads: list[threading.Thread] = []
    original = bcrypt.checkpw

    def spy(password: bytes, hashed: bytes) -> bool:
        threads.append(threading.current_thread())
        return original(password, hashed)

    monkeypatch.setattr(auth.passwords.bcrypt, "checkpw", spy)

    await staff.sign_in(client, account.email)

    assert threads
    assert all(thread is not threading.main_thread() for thread in threads)


async def test_five_failures_lock_the_account(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")

    for _ in range(settings.lockout_threshold):
        assert (
            await staff.sign_in(client, account.email, "wrong password, sorry")
        ).status_code == 400
    locked = await staff.sign_in(client, account.email)

    assert locked.status_code == 400
    admin = await reload(db, account)
    assert admin.lockout_count == 1
    assert admin.locked_until is not None
    expected = timedelta(seconds=settings.lockout_s)
    assert abs((admin.locked_until - utcnow()) - expected) < timedelta(seconds=30)
    assert len(await staff.audit_entries(db, "login.lockout")) == 1
    refused = await staff.audit_entries(db, "login.refused")
    assert refused[-1].after == {"reason": "account locked"}


async def test_a_lockout_expires_and_a_good_sign_in_clears_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(
        db,
        "support",
        locked_until=utcnow() - timedelta(seconds=1),
        lockout_count=2,
        failed_login_count=3,
    )

    response = await staff.sign_in(client, account.email)

    assert response.status_code == 302
    admin = await reload(db, account)
    assert (admin.locked_until, admin.lockout_count, admin.failed_login_count) == (None, 0, 0)


async def test_repeated_lockouts_last_longer(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(
        db, "support", lockout_count=1, locked_until=utcnow() - timedelta(seconds=1)
    )

    for _ in range(settings.lockout_threshold):
        await staff.sign_in(client, account.email, "wrong password, sorry")

    admin = await reload(db, account)
    assert admin.lockout_count == 2
    assert admin.locked_until is not None
    expected = timedelta(seconds=2 * settings.lockout_s)
    assert abs((admin.locked_until - utcnow()) - expected) < timedelta(seconds=30)


def test_lockouts_double_up_to_a_ceiling(settings: Settings) -> None:
    minutes = [lockout_duration(settings, n).total_seconds() / 60 for n in range(1, 7)]

    assert minutes == [15, 30, 60, 120, 120, 120]


async def test_a_superadmin_can_lift_a_lockout(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    locked = await staff.make_staff(
        db, "support", locked_until=utcnow() + timedelta(hours=2), lockout_count=4
    )
    boss = await staff.make_staff(db, "superadmin")
    async with client_for(settings) as other:
        await staff.signed_in(other, boss)
        token = await staff.csrf_token(other)
        lifted = await other.post(
            "/admin/admin-users/action/reset-lockout",
            data={"pks": str(locked.id), "csrf_token": token},
        )

    assert lifted.status_code == 303
    assert (await staff.sign_in(client, locked.email)).status_code == 302


async def test_never_more_than_100_guesses_an_hour_whatever_the_lockout_settings(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with client_for(settings, lockout_threshold=10_000, login_ip_limit=10_000) as client:
        for _ in range(auth.login.MAX_FAILURES_PER_HOUR):
            await staff.sign_in(client, account.email, "wrong password, sorry")
        refused = await staff.sign_in(client, account.email)

    assert refused.status_code == 400
    assert (await staff.audit_entries(db, "login.refused"))[-1].after == {
        "reason": "account locked"
    }


async def test_one_address_failing_too_often_is_refused(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with client_for(settings, login_ip_limit=3) as client:
        for n in range(3):
            await staff.sign_in(client, f"guess{n}@example.com", "wrong password, sorry")
        refused = await staff.sign_in(client, account.email)

    assert refused.status_code == 400
    assert (await staff.audit_entries(db, "login.refused"))[-1].after == {
        "reason": "too many failures from this address"
    }


@pytest.mark.parametrize(
    ("requested", "landing"),
    [
        ("/admin/merchants/list?page=2", "/admin/merchants/list?page=2"),
        ("https://evil.example/phish", "/admin/"),
        ("//evil.example/phish", "/admin/"),
        ("/\\evil.example", "/admin/"),
        ("javascript:alert(1)", "/admin/"),
        ("/api/v1/admin/auth/me", "/admin/"),
    ],
)
async def test_sign_in_returns_only_to_pages_of_the_admin(
    client: httpx.AsyncClient, db: AsyncSession, requested: str, landing: str
) -> None:
    account = await staff.make_staff(db, "superadmin")

    response = await staff.sign_in(client, account.email, next=requested)

    assert response.status_code == 302
    assert response.headers["location"] == landing


async def test_an_outdated_hash_is_upgraded_at_the_next_good_sign_in(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")  # hashed at cost 4
    async with client_for(settings, bcrypt_rounds=5) as client:
        await staff.sign_in(client, account.email)

    admin = await reload(db, account)
    assert admin.password_hash.startswith("$2b$05$")
    assert bcrypt.checkpw(PASSWORD.encode(), admin.password_hash.encode())


async def test_two_factor_asks_for_a_code_and_each_code_works_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    secret = pyotp.random_base32()
    account = await staff.make_staff(db, "superadmin", totp_secret=secret)

    first = await staff.sign_in(client, account.email)
    pending = re.search(r'name="pending" value="([^"]+)"', first.text)
    wrong = await client.post("/admin/login", data={"pending": pending[1], "code": "000000"})
    code = pyotp.TOTP(secret).now()
    right = await client.post("/admin/login", data={"pending": pending[1], "code": code})
    replay = await client.post("/admin/login", data={"pending": pending[1], "code": code})

    assert first.status_code == 200
    assert "swipesavvy_session" not in first.headers.get("set-cookie", "")
    assert wrong.status_code == 400
    assert right.status_code == 302
    assert replay.status_code == 400
    failures = await staff.audit_entries(db, "login.failure")
    assert [entry.after["reason"] for entry in failures] == ["wrong two-factor code"] * 2


async def test_a_forged_second_step_is_refused(client: httpx.AsyncClient, db: AsyncSession) -> None:
    account = await staff.make_staff(db, "superadmin", totp_secret=pyotp.random_base32())

    response = await client.post(
        "/admin/login", data={"pending": f"{account.id}.forged", "code": account.code()}
    )

    assert response.status_code == 400
    assert (await client.get("/admin/users/list")).status_code == 302


async def test_staff_enrol_in_two_factor_from_their_account_page(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)

    page = await client.get("/admin/account/two-factor")
    secret = re.search(r'<code id="totp-key">([A-Z2-7 ]+)</code>', page.text)[1].replace(" ", "")
    token = await staff.csrf_token(client)
    enabled = await client.post(
        "/admin/account/two-factor",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": token},
    )

    assert "<svg" in page.text
    assert enabled.status_code == 303
    admin = await reload(db, account)
    assert admin.totp_secret == secret
    assert [e.action for e in await staff.audit_entries(db)][-1] == "two_factor.enable"
    async with client_for(settings) as fresh:
        needs_code = await staff.sign_in(fresh, account.email)
    assert 'name="pending"' in needs_code.text


async def test_required_roles_must_enrol_before_anything_else(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "superadmin")
    async with client_for(settings, totp_required_roles=frozenset({"superadmin"})) as client:
        await staff.signed_in(client, account)
        elsewhere = await client.get("/admin/users/list")
        enrolment = await client.get("/admin/account/two-factor")
        api = await client.post(
            "/api/v1/admin/auth/login", json={"email": account.email, "password": PASSWORD}
        )

    assert elsewhere.status_code == 302
    assert elsewhere.headers["location"] == "/admin/account/two-factor"
    assert enrolment.status_code == 200
    assert "Your role must use two-factor sign-in" in enrolment.text
    assert api.status_code == 403
    assert api.json()["error"] == "two_factor_enrolment_required"
