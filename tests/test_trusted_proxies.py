"""Behind a trusted proxy the client is the one in X-Forwarded-For: for the sign-in limits,
sessions and the audit trail. From anyone else the header is ignored, and no client's failures
lock out another client or the account's owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app import create_app
from core.settings import ConfigError, Settings, load_settings
from models import AdminSession, AdminUser
from tests import staff

PROXIES = ("127.0.0.0/8", "10.0.0.0/8")
"""ASGITransport's requests come from 127.0.0.1: the proxy in front, in these tests."""
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"
COLLEAGUE = "198.51.100.99"
WRONG = "wrong password, sorry"


@asynccontextmanager
async def served(settings: Settings, **overrides: Any) -> AsyncIterator[Starlette]:
    app = create_app(replace(settings, **overrides))
    try:
        yield app
    finally:
        await app.state.database.dispose()


@asynccontextmanager
async def browser(
    app: Starlette, forwarded_for: str | None = None, peer: str = "127.0.0.1"
) -> AsyncIterator[httpx.AsyncClient]:
    """One client's browser, connecting from `peer`; a proxy there says who the client is in
    X-Forwarded-For."""
    transport = httpx.ASGITransport(app=app, client=(peer, 50_000))
    headers = {"x-forwarded-for": forwarded_for} if forwarded_for else {}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=headers
    ) as client:
        yield client


async def reload(db: AsyncSession, account: staff.Account) -> AdminUser:
    await db.rollback()
    admin = await db.get(AdminUser, account.id, populate_existing=True)
    assert admin is not None
    return admin


async def refusal_reasons(db: AsyncSession) -> list[tuple[str | None, Any]]:
    return [(e.ip_address, e.after) for e in await staff.audit_entries(db, "login.refused")]


async def test_thirty_failures_from_one_client_do_not_stop_another(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with served(settings, trusted_proxies=PROXIES) as app:
        async with browser(app) as attacker:
            for n in range(30):
                # Whatever the attacker writes in the header, the proxy appends the address
                # it sees; the rightmost untrusted entry is the client.
                attacker.headers["x-forwarded-for"] = f"192.0.2.{n}, {ATTACKER}"
                refused = await staff.sign_in(attacker, f"guess{n}@example.com", WRONG)
                assert refused.status_code == 400
            blocked = await staff.sign_in(attacker, account.email)
        async with browser(app, COLLEAGUE) as colleague:
            signed_in = await staff.sign_in(colleague, account.email)

    assert blocked.status_code == 400
    assert signed_in.status_code == 302
    failures = await staff.audit_entries(db, "login.failure")
    assert len(failures) == 30
    assert {entry.ip_address for entry in failures} == {ATTACKER}
    assert await refusal_reasons(db) == [
        (ATTACKER, {"reason": "too many failures from this address"})
    ]
    [success] = await staff.audit_entries(db, "login.success")
    assert success.ip_address == COLLEAGUE
    session_ips = await db.scalars(
        sa.select(AdminSession.ip_address).where(AdminSession.admin_user_id == account.id)
    )
    assert list(session_ips) == [COLLEAGUE]


@pytest.mark.parametrize("two_factor", [True, False], ids=["with a code", "password only"])
async def test_failures_on_an_account_do_not_lock_out_its_owner(
    db: AsyncSession, settings: Settings, two_factor: bool
) -> None:
    secret = pyotp.random_base32() if two_factor else None
    owner = await staff.make_staff(db, "superadmin", totp_secret=secret)
    async with served(settings, trusted_proxies=PROXIES) as app:
        async with browser(app, ATTACKER) as attacker:
            for _ in range(30):
                assert (await staff.sign_in(attacker, owner.email, WRONG)).status_code == 400
            still_refused = await staff.sign_in(attacker, owner.email)
        locked = await reload(db, owner)
        async with browser(app, OWNER) as owners_browser:
            await staff.signed_in(owners_browser, owner)
            home = await owners_browser.get("/admin/")

    assert locked.locked_until is not None
    assert still_refused.status_code == 400
    assert "pending" not in still_refused.text
    assert home.status_code == 200
    admin = await reload(db, owner)
    assert (admin.locked_until, admin.last_login_ip) == (None, OWNER)
    failures = await staff.audit_entries(db, "login.failure")
    assert [entry.ip_address for entry in failures] == [ATTACKER] * settings.lockout_threshold
    assert {entry.ip_address for entry in await staff.audit_entries(db, "login.refused")} == {
        ATTACKER
    }


async def test_a_locked_account_still_refuses_the_client_that_failed(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with (
        served(settings, trusted_proxies=PROXIES) as app,
        browser(app, ATTACKER) as attacker,
    ):
        for _ in range(settings.lockout_threshold):
            await staff.sign_in(attacker, account.email, WRONG)
        # Another hop in front of the client changes nothing: 10.0.0.7 is a trusted proxy.
        attacker.headers["x-forwarded-for"] = f"{ATTACKER}, 10.0.0.7"
        right_password = await staff.sign_in(attacker, account.email)

    assert right_password.status_code == 400
    assert await refusal_reasons(db) == [(ATTACKER, {"reason": "account locked"})]
    assert await staff.audit_entries(db, "login.success") == []


async def test_the_audit_trail_records_the_forwarded_client_and_scheme(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with (
        served(settings, trusted_proxies=PROXIES) as app,
        browser(app, f"{OWNER}, 10.0.0.7") as client,
    ):
        client.headers["x-forwarded-proto"] = "https"
        await staff.signed_in(client, account)
        token = await staff.csrf_token(client)
        signed_out = await client.post("/admin/logout", data={"csrf_token": token})

    assert signed_out.headers["location"] == "https://testserver/admin/login"
    [success] = await staff.audit_entries(db, "login.success")
    [logout] = await staff.audit_entries(db, "logout")
    assert (success.ip_address, logout.ip_address) == (OWNER, OWNER)


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    async with served(settings, trusted_proxies=PROXIES, login_ip_limit=3) as app:
        async with browser(app, peer="192.0.2.50") as forger:
            forger.headers["x-forwarded-proto"] = "https"
            for n in range(3):
                # A new address in the header for each guess buys no more guesses.
                forger.headers["x-forwarded-for"] = f"203.0.113.{n}"
                await staff.sign_in(forger, f"guess{n}@example.com", WRONG)
            refused = await staff.sign_in(forger, account.email)
            login_page = await forger.get("/admin/")
        # The client whose address was forged, through the real proxy, was charged nothing.
        async with browser(app, "203.0.113.0") as forged:
            signed_in = await staff.sign_in(forged, account.email)

    assert refused.status_code == 400
    assert login_page.headers["location"].startswith("http://testserver/admin/login")
    failures = await staff.audit_entries(db, "login.failure")
    assert {entry.ip_address for entry in failures} == {"192.0.2.50"}
    assert await refusal_reasons(db) == [
        ("192.0.2.50", {"reason": "too many failures from this address"})
    ]
    assert signed_in.status_code == 302
    [success] = await staff.audit_entries(db, "login.success")
    assert success.ip_address == "203.0.113.0"


async def test_without_trusted_proxies_the_connection_is_the_client(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    client.headers["x-forwarded-for"] = OWNER

    assert (await staff.sign_in(client, account.email)).status_code == 302
    [success] = await staff.audit_entries(db, "login.success")
    assert success.ip_address == "127.0.0.1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("10.0.0.300", "TRUSTED_PROXIES: '10.0.0.300' is not an IP address or network"),
        ("10.0.0.1/8", "TRUSTED_PROXIES: '10.0.0.1/8' is not an IP address or network"),
        ("*", "TRUSTED_PROXIES: '*' is not an IP address or network"),
        ("proxy.internal", "TRUSTED_PROXIES: 'proxy.internal' is not an IP address or network"),
    ],
)
def test_a_proxy_that_is_not_an_address_is_refused_in_one_line(
    tmp_path: Path, value: str, message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(
            {"TRUSTED_PROXIES": value},
            env_file=tmp_path / ".env",
            secret_key_file=tmp_path / "key",
        )

    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)
    assert not (tmp_path / "key").exists()


def test_proxies_are_read_as_a_list_of_addresses_and_networks(tmp_path: Path) -> None:
    settings = load_settings(
        {"TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16,fd00::/8"},
        env_file=tmp_path / ".env",
        secret_key_file=tmp_path / "key",
    )

    assert settings.trusted_proxies == ("10.0.0.5/32", "10.1.0.0/16", "fd00::/8")
