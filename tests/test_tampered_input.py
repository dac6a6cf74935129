"""Tampered input is refused with a 400 (or a 404 for an id that names no row, or the field's
message on a form), never a 500, and nothing is written: key-paging cursors of the wrong
types, page sizes below one, malformed ids on every screen, a 40-digit amount, a token with
an absurd expiry signed with the real key."""

from __future__ import annotations

import base64
import json
import re
import uuid
from datetime import timedelta
from decimal import Decimal

import httpx
import jwt
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from auth import tokens
from core.settings import Settings
from models import AuditLog, Wallet
from models.base import utcnow
from tests import discovered, rows, staff
from tests.admin_views.screens import act, audit_for, count, field_error
from tests.admin_views.test_money_actions import form_key
from tests.ledger.conftest import make_ledger

NEXT = re.compile(r'<a class="page-link" href="([^"]*after=[^"]*)">')
DAMAGED = "That page link is damaged: go back to the first page."


def cursor(*values: object) -> str:
    """A cursor as a tamperer would write one: any JSON, base64url without padding."""
    text = json.dumps(list(values))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


SOME_ID = str(rows.named_id("some_id"))
WRONG_TYPES = {
    "text for a timestamp": cursor("yesterday", SOME_ID),
    "a number for an id": cursor("2026-01-01T00:00:00+00:00", "12"),
    "numbers where text goes": cursor(5, 7),
    "old typed pairs with a wrong kind": cursor(["int", "5"], ["UUID", SOME_ID]),
    "a lone surrogate": cursor("\ud800", SOME_ID),
    "one value short": cursor(SOME_ID),
    "not a list": cursor({"after": SOME_ID}),
    "not JSON": "bm90IGpzb24",
    "not base64": "%%%",
}
"""Cursors whose values do not fit a list sorted by its timestamp then its id."""


@pytest.fixture
async def superadmin(client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    return await staff.signed_in(client, await staff.make_staff(db, "superadmin"))


@pytest.mark.parametrize("slug", ["users", "wallet-transactions"])
async def test_a_cursor_of_the_wrong_types_is_a_400(
    superadmin: httpx.AsyncClient, slug: str
) -> None:
    answers = {}
    for case, value in WRONG_TYPES.items():
        for direction in ("after", "before"):
            response = await superadmin.get(f"/admin/{slug}/list", params={direction: value})
            answers[f"{case} ({direction})"] = (response.status_code, DAMAGED in response.text)

    assert answers == dict.fromkeys(answers, (400, True))


def both_shapes(kind: str, value: str) -> list[str]:
    """A cursor holding `value` then an id, as links write it (a list of texts) and as they
    wrote it before (pairs of the value's Python type and its text)."""
    return [cursor(value, SOME_ID), cursor([kind, value], ["UUID", SOME_ID])]


@pytest.mark.parametrize(
    ("slug", "sort_by", "kind", "value"),
    [
        ("wallet-transactions", "amount", "Decimal", "1e400"),
        ("wallet-transactions", "amount", "Decimal", "NaN"),
        ("wallet-transactions", "amount", "Decimal", "Infinity"),
        ("wallet-transactions", "amount", "Decimal", "1" * 20),
        ("wallet-transactions", "amount", "Decimal", "twelve"),
        ("wallets", "balance", "Decimal", "-Infinity"),
        ("feature-flags", "rollout_percentage", "Decimal", "1000"),
        ("users", "email", "str", "ann\x00@example.com"),
        ("users", "email", "str", "\udfff"),
        ("users", "created_at", "datetime", "2026-13-45"),
        ("users", "created_at", "datetime", "0001-01-01T00:00:00+14:00"),
        ("campaign-performance", "day", "date", "2026-02-30"),
    ],
)
async def test_a_sorted_list_refuses_a_cursor_its_column_cannot_hold(
    superadmin: httpx.AsyncClient, slug: str, sort_by: str, kind: str, value: str
) -> None:
    for sent in both_shapes(kind, value):
        response = await superadmin.get(
            f"/admin/{slug}/list", params={"sortBy": sort_by, "sort": "desc", "after": sent}
        )

        assert response.status_code == 400
        assert DAMAGED in response.text


@pytest.mark.parametrize(
    "value", ["9" * 30, str(2**63), "1.5", "twelve", "True", "\u0663", "2026-01-01T00:00:00"]
)
async def test_the_audit_trail_refuses_a_sequence_it_cannot_hold(
    superadmin: httpx.AsyncClient, value: str
) -> None:
    for sent in both_shapes("int", value):
        response = await superadmin.get("/admin/audit-logs/list", params={"after": sent})

        assert response.status_code == 400
        assert DAMAGED in response.text


async def test_the_audit_trail_pages_on_by_the_cursor_it_wrote(
    superadmin: httpx.AsyncClient, db: AsyncSession
) -> None:
    await staff.sign_in(superadmin, "nobody@example.com", "a wrong guess")  # one entry more
    newest_first = list(await db.scalars(sa.select(AuditLog.id).order_by(AuditLog.sequence.desc())))
    first = await superadmin.get("/admin/audit-logs/list", params={"pageSize": "1"})
    link = NEXT.search(first.text)
    assert link, "a Next link with a cursor"

    second = await superadmin.get(link[1].replace("&amp;", "&"))

    assert second.status_code == 200
    assert str(newest_first[1]) in second.text
    assert str(newest_first[0]) not in second.text


@pytest.mark.parametrize("page_size", ["0", "-1", "-100"])
async def test_a_page_size_below_one_is_a_400_on_every_list(
    superadmin: httpx.AsyncClient, page_size: str
) -> None:
    answers = {}
    for slug in discovered.SLUGS:
        response = await superadmin.get(f"/admin/{slug}/list", params={"pageSize": page_size})
        answers[slug] = (response.status_code, "Rows per page" in response.text)

    assert answers == dict.fromkeys(answers, (400, True))


MALFORMED_IDS = ["xyz", "1", "9" * 40, "' OR 1=1 --", "0" * 31 + "g", "%00", "a/b"]


@pytest.mark.parametrize("pk", MALFORMED_IDS)
async def test_a_malformed_id_names_no_record_on_every_screen(
    superadmin: httpx.AsyncClient, db: AsyncSession, pk: str
) -> None:
    written = await count(db, AuditLog)
    csrf = await staff.csrf_token(superadmin)
    answers = {}
    for slug in discovered.SLUGS:
        for method, path, params in [
            ("GET", f"/admin/{slug}/details/{pk}", {}),
            ("GET", f"/admin/{slug}/edit/{pk}", {}),
            ("POST", f"/admin/{slug}/edit/{pk}", {}),
            ("DELETE", f"/admin/{slug}/delete", {"pks": pk}),
        ]:
            response = await superadmin.request(
                method,
                path,
                params=params,
                data={"csrf_token": csrf} if method == "POST" else None,
                headers={"X-CSRF-Token": csrf},
            )
            answers[f"{method} {path} {params}"] = response.status_code

    assert {path: status for path, status in answers.items() if status not in (403, 404)} == {}
    assert await count(db, AuditLog) == written


async def test_a_forty_digit_adjustment_is_refused_on_its_field(
    superadmin: httpx.AsyncClient, db: AsyncSession
) -> None:
    ledger = await make_ledger(db)
    key = await form_key(superadmin, "wallets", "adjust", ledger.wallet_id)

    response = await act(
        superadmin,
        "wallets",
        "adjust",
        [ledger.wallet_id],
        direction="credit",
        amount="1" * 40,
        reason="Goodwill for an outage",
        idempotency_key=key,
    )

    assert response.status_code == 400
    assert field_error(response.text, "Between 0.01 and 1,000,000.00 for one action."), (
        response.text[-2000:]
    )
    await db.commit()
    assert await db.scalar(sa.select(Wallet.balance).where(Wallet.id == ledger.wallet_id)) == (
        Decimal("100.00")
    )
    assert await audit_for(db, "action:adjust", ledger.wallet_id) == []


@pytest.mark.parametrize("expires", [10**20, -(10**20), 2**63, 1e300])
async def test_a_token_with_an_absurd_expiry_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings, expires: float
) -> None:
    account = await staff.make_staff(db, "support")
    answer = await client.post(
        "/api/v1/admin/auth/login", json={"email": account.email, "password": staff.PASSWORD}
    )
    good = answer.json()["access_token"]
    claims = jwt.decode(good, options={"verify_signature": False}) | {"exp": expires}
    forged = jwt.encode(claims, str(settings.secret_key), algorithm=tokens.ACCESS_TOKEN_ALGORITHM)

    response = await client.get(
        "/api/v1/admin/auth/me", headers={"Authorization": f"Bearer {forged}"}
    )
    still_good = await client.get(
        "/api/v1/admin/auth/me", headers={"Authorization": f"Bearer {good}"}
    )

    assert response.status_code == 401
    assert response.json()["error"] == "not_authenticated"
    assert still_good.status_code == 200


async def test_a_token_with_an_absurd_issue_time_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, settings: Settings
) -> None:
    account = await staff.make_staff(db, "support")
    now = utcnow()
    claims = {
        "sub": str(account.id),
        "sid": str(uuid.uuid4()),
        "jti": "x",
        "iat": 10**20,
        "exp": int((now + timedelta(minutes=5)).timestamp()),
    }
    forged = jwt.encode(claims, str(settings.secret_key), algorithm=tokens.ACCESS_TOKEN_ALGORITHM)

    response = await client.get(
        "/api/v1/admin/auth/me", headers={"Authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401
