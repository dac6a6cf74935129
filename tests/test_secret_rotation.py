"""Rotating SECRET_KEY signs nobody out: what the old key signed is read while it is listed in
SECRET_KEY_PREVIOUS, everything new is signed with the new key, and once the old key is dropped
what it signed is refused cleanly (the sign-in page, a 401), never a 500."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyotp
import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import Secret

from cli.main import cli
from core.settings import VARIABLES, ConfigError, Settings, load_settings
from models import AdminUser
from tests import staff
from tests.clients import client_for

KEY_A = "rotation-key-a-" + "a1" * 20
KEY_B = "rotation-key-b-" + "b2" * 20
KEY_C = "rotation-key-c-" + "c3" * 20
COOKIE = "swipesavvy_session"
ME = "/api/v1/admin/auth/me"
LOGIN = "/api/v1/admin/auth/login"
PENDING = re.compile(r'name="pending" value="([^"]+)"')


@asynccontextmanager
async def app_with_keys(
    settings: Settings, current: str, *previous: str, cookie: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app restarted with these keys, carrying a browser's session cookie."""
    async with client_for(
        settings,
        secret_key=Secret(current),
        secret_key_previous=tuple(map(Secret, previous)),
    ) as client:
        if cookie is not None:
            client.cookies.set(COOKIE, cookie)
        yield client


@dataclass
class Issued:
    """What one app handed out: a browser's cookie and page token, an API access token."""

    cookie: str
    csrf_token: str
    access_token: str


async def issue(client: httpx.AsyncClient, account: staff.Account) -> Issued:
    await staff.signed_in(client, account)
    login = await client.post(LOGIN, json={"email": account.email, "password": staff.PASSWORD})
    assert login.status_code == 200, login.text
    return Issued(
        client.cookies[COOKIE], await staff.csrf_token(client), login.json()["access_token"]
    )


async def change_zone(client: httpx.AsyncClient, token: str, zone: str) -> httpx.Response:
    return await client.post(
        "/admin/account/time-zone", data={"time_zone": zone, "csrf_token": token}
    )


async def stored_zone(db: AsyncSession, account: staff.Account) -> str:
    await db.commit()  # a fresh snapshot: the app wrote through its own connections
    return str(await db.scalar(sa.select(AdminUser.time_zone).where(AdminUser.id == account.id)))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_what_the_old_key_signed_still_works_during_the_window(
    settings: Settings, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    async with app_with_keys(settings, KEY_A) as before:
        old = await issue(before, account)

    async with app_with_keys(settings, KEY_B, KEY_A, cookie=old.cookie) as rotated:
        page = await rotated.get("/admin/account")
        changed = await change_zone(rotated, old.csrf_token, "Asia/Tokyo")
        me = await rotated.get(ME, headers=bearer(old.access_token))
        fresh_token = await staff.csrf_token(rotated)

    assert page.status_code == 200
    assert account.email in page.text
    assert changed.status_code in (302, 303), changed.text
    assert await stored_zone(db, account) == "Asia/Tokyo"
    assert me.status_code == 200
    assert me.json()["email"] == account.email
    assert fresh_token != old.csrf_token, "pages rendered after the rotation carry B's token"


async def test_what_is_issued_after_the_rotation_is_signed_with_the_new_key(
    settings: Settings, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    async with app_with_keys(settings, KEY_B, KEY_A) as rotated:
        new = await issue(rotated, account)

    async with app_with_keys(settings, KEY_A, cookie=new.cookie) as old_only:
        refused_page = await old_only.get("/admin/account")
        refused_api = await old_only.get(ME, headers=bearer(new.access_token))
    async with app_with_keys(settings, KEY_B, cookie=new.cookie) as new_only:
        page = await new_only.get("/admin/account")
        changed = await change_zone(new_only, new.csrf_token, "Europe/Paris")
        me = await new_only.get(ME, headers=bearer(new.access_token))

    assert refused_page.status_code in (302, 303)
    assert refused_api.status_code == 401
    assert page.status_code == 200
    assert changed.status_code in (302, 303)
    assert await stored_zone(db, account) == "Europe/Paris"
    assert me.status_code == 200


async def test_once_the_old_key_is_dropped_what_it_signed_is_refused_cleanly(
    settings: Settings, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    async with app_with_keys(settings, KEY_A) as before:
        old = await issue(before, account)

    async with app_with_keys(settings, KEY_B, cookie=old.cookie) as after:
        page = await after.get("/admin/account")
        sign_in_page = await after.get(page.headers["location"])
        after.cookies.set(COOKIE, old.cookie)
        changed = await change_zone(after, old.csrf_token, "Asia/Tokyo")
        me = await after.get(ME, headers=bearer(old.access_token))

    assert page.status_code in (302, 303)
    assert "/admin/login" in page.headers["location"]
    assert page.headers["set-cookie"].startswith(f'{COOKIE}="";'), "the stale cookie is cleared"
    assert sign_in_page.status_code == 200
    assert 'name="password"' in sign_in_page.text
    assert changed.status_code == 403
    assert await stored_zone(db, account) == "UTC"
    assert me.status_code == 401
    assert me.json()["error"] == "not_authenticated"


async def test_a_second_step_begun_under_the_old_key_finishes_under_the_new(
    settings: Settings, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "admin", totp_secret=pyotp.random_base32())
    async with app_with_keys(settings, KEY_A) as before:
        first_step = await staff.sign_in(before, account.email)
    pending = PENDING.search(first_step.text)
    assert pending, first_step.text[:500]
    second_step = {"pending": pending[1], "code": account.code()}

    async with app_with_keys(settings, KEY_C) as unrelated:
        refused = await unrelated.post("/admin/login", data=second_step)
    async with app_with_keys(settings, KEY_B, KEY_C, KEY_A) as rotated:
        accepted = await rotated.post("/admin/login", data=second_step)

    assert refused.status_code not in (302, 303, 500)
    assert COOKIE not in refused.cookies
    assert accepted.status_code == 302, accepted.text[:500]
    assert COOKIE in accepted.cookies


def test_previous_keys_are_a_comma_separated_list_never_shown(tmp_path: Path) -> None:
    settings = load_settings(
        {"ENV": "production", "SECRET_KEY": KEY_B, "SECRET_KEY_PREVIOUS": f" {KEY_A}, {KEY_C} "},
        env_file=tmp_path / ".env",
    )

    assert [str(key) for key in settings.secret_key_previous] == [KEY_A, KEY_C]
    assert KEY_A not in repr(settings)
    assert KEY_C not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"ENV": "production", "SECRET_KEY": KEY_B, "SECRET_KEY_PREVIOUS": f"{KEY_A},short-7f"},
            "SECRET_KEY_PREVIOUS holds a placeholder or a key shorter than 32 characters: "
            "production accepts only real random keys.",
        ),
        (
            {"ENV": "production", "SECRET_KEY": KEY_B, "SECRET_KEY_PREVIOUS": "changeme"},
            "SECRET_KEY_PREVIOUS holds a placeholder or a key shorter than 32 characters: "
            "production accepts only real random keys.",
        ),
        (
            {"SECRET_KEY": KEY_B, "SECRET_KEY_PREVIOUS": f"{KEY_A},{KEY_B}"},
            "SECRET_KEY_PREVIOUS repeats SECRET_KEY: list only the keys that signed before the "
            "current one.",
        ),
        (
            {"SECRET_KEY": KEY_B, "SECRET_KEY_PREVIOUS": f"{KEY_A}, {KEY_A}"},
            "SECRET_KEY_PREVIOUS lists the same key twice.",
        ),
    ],
    ids=["short", "placeholder", "repeats-current", "twice"],
)
def test_previous_keys_are_held_to_the_same_rules(
    tmp_path: Path, environ: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as error:
        load_settings(environ, env_file=tmp_path / ".env")

    assert str(error.value) == message


def test_a_command_refuses_a_repeated_key_without_showing_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no developer's .env or .secret_key leaks in
    environ = dict.fromkeys(VARIABLES) | {"SECRET_KEY": KEY_A, "SECRET_KEY_PREVIOUS": KEY_A}

    result = CliRunner().invoke(cli, ["migrate"], env=environ)

    assert result.exit_code == 1
    assert result.stderr.startswith("error: SECRET_KEY_PREVIOUS repeats SECRET_KEY")
    assert KEY_A not in result.output
