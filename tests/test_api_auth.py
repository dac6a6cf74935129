"""The staff JSON API: tokens, rotation with theft detection, and clear 4xx bodies."""

from __future__ import annotations

import httpx
import jwt
import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import Environment, Settings
from models import AdminSession, AdminUser
from tests import staff
from tests.clients import client_for
from tests.databases import TEST_SECRET_KEY
from tests.staff import PASSWORD

LOGIN = "/api/v1/admin/auth/login"
REFRESH = "/api/v1/admin/auth/refresh"
ME = "/api/v1/admin/auth/me"
LOGOUT = "/api/v1/admin/auth/logout"


async def log_in(client: httpx.AsyncClient, email: str, **extra: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": PASSWORD, **extra})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_login_returns_an_access_token_and_a_refresh_token(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "analyst")

    response = await log_in(client, account.email.upper())

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 1800
    claims = jwt.decode(body["access_token"], str(TEST_SECRET_KEY), algorithms=["HS256"])
    assert claims["sub"] == str(account.id)
    assert claims["email"] == account.email
    assert claims["role"] == "analyst"
    assert claims["exp"] - claims["iat"] == 1800
    assert len(claims["jti"]) == 32
    assert body["refresh_token"].startswith(claims["sid"] + ".")
    stored = await db.scalar(sa.select(AdminSession.token_hash))
    assert body["refresh_token"].split(".", 1)[1] not in stored


async def test_me_answers_with_a_valid_token_only(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    access = (await log_in(client, account.email)).json()["access_token"]
    forged = jwt.encode(
        {"sub": str(account.id), "sid": "x", "exp": 9999999999, "iat": 0, "jti": "x"},
        "not-our-key-" + "x" * 40,
        algorithm="HS256",
    )

    me = await client.get(ME, headers=bearer(access))
    anonymous = await client.get(ME)
    with_forged = await client.get(ME, headers=bearer(forged))

    assert me.status_code == 200
    assert me.json()["email"] == account.email
    assert me.json()["role"] == "support"
    assert "support_tickets:*" in me.json()["permissions"]
    assert anonymous.status_code == with_forged.status_code == 401
    assert anonymous.json()["error"] == "not_authenticated"
    assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_refresh_rotates_and_reusing_an_old_token_ends_the_session(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    first = (await log_in(client, account.email)).json()

    rotated = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    second = rotated.json()
    still_in = await client.get(ME, headers=bearer(second["access_token"]))
    reused = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    after_theft = await client.get(ME, headers=bearer(second["access_token"]))
    newest = await client.post(REFRESH, json={"refresh_token": second["refresh_token"]})

    assert rotated.status_code == 200
    assert second["refresh_token"] != first["refresh_token"]
    assert still_in.status_code == 200
    assert reused.status_code == 401
    assert reused.json()["error"] == "invalid_refresh_token"
    assert after_theft.status_code == 401
    assert newest.status_code == 401
    await db.rollback()
    assert await db.scalar(sa.select(AdminSession.revoked_reason)) == "refresh token reused"


async def test_a_made_up_refresh_token_is_refused_without_harm(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    tokens = (await log_in(client, account.email)).json()
    session_id = tokens["refresh_token"].split(".")[0]

    guessed = await client.post(REFRESH, json={"refresh_token": f"{session_id}.guess"})

    assert guessed.status_code == 401
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 200


async def test_logout_ends_the_tokens(client: httpx.AsyncClient, db: AsyncSession) -> None:
    account = await staff.make_staff(db, "support")
    tokens = (await log_in(client, account.email)).json()

    out = await client.post(LOGOUT, headers=bearer(tokens["access_token"]))

    assert out.status_code == 204
    assert (await client.get(ME, headers=bearer(tokens["access_token"]))).status_code == 401
    refreshed = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 401
    assert [e.action for e in await staff.audit_entries(db)][-1] == "logout"


async def test_a_logout_with_the_browser_cookie_needs_the_csrf_token(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """Another site's page can make the browser send the cookie, never the page's token."""
    account = await staff.make_staff(db, "support")
    await staff.signed_in(client, account)
    token = await staff.csrf_token(client)

    forged = await client.post(LOGOUT)
    still_in = await client.get("/admin/account")
    out = await client.post(LOGOUT, headers={"X-CSRF-Token": token})
    after = await client.get("/admin/account")

    assert forged.status_code == 403
    assert forged.json()["error"] == "csrf_failed"
    assert still_in.status_code == 200, "the forged request did not sign the browser out"
    assert out.status_code == 204
    assert after.status_code in (302, 303), "the real one did"


async def test_a_disabled_account_stops_at_once(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    account = await staff.make_staff(db, "support")
    access = (await log_in(client, account.email)).json()["access_token"]
    await db.execute(sa.update(AdminUser).values(is_active=False))
    await db.commit()

    assert (await client.get(ME, headers=bearer(access))).status_code == 401


async def test_the_api_follows_the_same_lockout(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    for _ in range(settings.lockout_threshold):
        wrong = await client.post(
            LOGIN, json={"email": account.email, "password": "nope nope nope"}
        )
        assert wrong.status_code == 401
    locked = await log_in(client, account.email)

    assert locked.status_code == 401
    assert locked.json() == wrong.json()
    assert wrong.json()["error"] == "invalid_credentials"


async def test_too_many_failures_from_one_address_is_429(
    db: AsyncSession, settings: Settings
) -> None:
    async with client_for(settings, login_ip_limit=2) as client:
        for n in range(2):
            await client.post(LOGIN, json={"email": f"x{n}@example.com", "password": "nope nope"})
        response = await client.post(LOGIN, json={"email": "y@example.com", "password": "nope"})

    assert response.status_code == 429
    assert response.json()["error"] == "too_many_attempts"
    assert int(response.headers["retry-after"]) > 0


async def test_two_factor_accounts_send_a_code(client: httpx.AsyncClient, db: AsyncSession) -> None:
    secret = pyotp.random_base32()
    account = await staff.make_staff(db, "superadmin", totp_secret=secret)

    without = await log_in(client, account.email)
    wrong = await log_in(client, account.email, totp_code="000000")
    right = await log_in(client, account.email, totp_code=pyotp.TOTP(secret).now())

    assert without.status_code == 401
    assert without.json()["error"] == "totp_required"
    assert wrong.status_code == 401
    assert right.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'{"email": "a@example.com"}', "application/json", "'password' is required"),
        (b'{"email": 42, "password": "x"}', "application/json", "'email' must be a string"),
        (b'{"email": null, "password": "x"}', "application/json", "'email' is required"),
        (
            b'{"email": "' + b"a" * 300 + b'", "password": "x"}',
            "application/json",
            "'email' is longer than 255",
        ),
        (b"", "application/json", "not valid JSON"),
        ("\udcff".encode("utf-8", "surrogatepass"), "application/json", "not valid JSON"),
        # Each once a 500: PostgreSQL refuses text holding NUL, and no driver (nor bcrypt)
        # can encode a lone surrogate.
        (
            b'{"email": "a\\u0000b@example.com", "password": "x"}',
            "application/json",
            "'email' must not contain a NUL character",
        ),
        (
            b'{"email": "a\\ud800b@example.com", "password": "x"}',
            "application/json",
            "'email' is not valid Unicode text",
        ),
        (
            b'{"email": "a@example.com", "password": "x\\udfff"}',
            "application/json",
            "'password' is not valid Unicode text",
        ),
    ],
)
async def test_bad_input_is_a_clear_400(
    client: httpx.AsyncClient, db: AsyncSession, body: bytes, content_type: str, message: str
) -> None:
    response = await client.post(LOGIN, content=body, headers={"Content-Type": content_type})

    assert response.status_code == 400
    assert response.json()["error"] in ("parse_error", "invalid_request")
    assert message in response.json()["message"]
    assert await db.scalar(sa.select(sa.func.count()).select_from(AdminSession)) == 0


async def test_unknown_fields_are_ignored(client: httpx.AsyncClient, db: AsyncSession) -> None:
    account = await staff.make_staff(db, "support")

    response = await client.post(
        LOGIN, json={"email": account.email, "password": PASSWORD, "device": "ios", "v": 2}
    )

    assert response.status_code == 200


async def test_wrong_methods_and_paths_answer_json(client: httpx.AsyncClient) -> None:
    wrong_method = await client.get(LOGIN)
    unknown = await client.get("/api/v1/admin/nope")

    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "not_found"


async def test_demo_credentials_exist_only_in_development(settings: Settings) -> None:
    async with client_for(settings) as development:
        shown = await development.get("/api/v1/admin/auth/demo-credentials")
    async with client_for(
        settings, base_url="https://a.example", env=Environment.PRODUCTION
    ) as prod:
        hidden = await prod.get("/api/v1/admin/auth/demo-credentials")

    assert shown.status_code == 200
    assert shown.json()["email"] == "admin@example.com"
    assert shown.json()["password"] is None
    assert hidden.status_code == 404
