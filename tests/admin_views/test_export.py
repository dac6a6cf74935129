"""CSV and JSON exports: what the list shows (search, filters, sort), streamed, without
secrets, with spreadsheet formulas neutralised, audited."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views.shared import export
from admin_views.shared.export import neutralise
from models import AdminUser, Merchant, RuntimeSetting, User
from tests import rows, staff
from tests.admin_views.anchors import anchors
from tests.admin_views.screens import listing


def parse_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_csv_export_follows_filters_search_and_sort(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    active = list(
        await db.scalars(sa.select(User.email).where(User.status == "active").order_by(User.email))
    )

    response = await client.get(
        "/admin/users/export/csv", params={"status": "active", "sortBy": "email", "sort": "asc"}
    )
    searched = await client.get("/admin/users/export/csv", params={"search": active[0]})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment;" in response.headers["content-disposition"]
    exported = parse_csv(response.text)
    assert [row["Email"] for row in exported] == active
    assert {row["Status"] for row in exported} == {"active"}
    assert [row["Email"] for row in parse_csv(searched.text)] == [active[0]]


async def test_json_export_matches_the_list(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    total, _ = await listing(client, "wallet-transactions", type="purchase")

    response = await client.get(
        "/admin/wallet-transactions/export/json", params={"type": "purchase"}
    )

    assert response.status_code == 200
    exported = json.loads(response.text)
    assert len(exported) == total
    assert {row["type"] for row in exported} == {"purchase"}
    assert all(row["amount"].startswith("-") for row in exported)


async def test_exports_leave_secrets_out(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    await rows.insert(
        db, "settings", rows.setting_row(key="webhooks.secret", value="whsec_123", is_secret=True)
    )
    await db.commit()
    hashes = list(await db.scalars(sa.select(AdminUser.password_hash)))

    staff_csv = (await client.get("/admin/admin-users/export/csv")).text
    staff_json = (await client.get("/admin/admin-users/export/json")).text
    settings_csv = (await client.get("/admin/settings/export/csv")).text

    for text in (staff_csv, staff_json):
        assert "password" not in text.lower()
        assert "totp" not in text.lower()
        assert not any(h in text for h in hashes)
    assert "whsec_123" not in settings_csv
    assert "webhooks.secret" in settings_csv


async def test_csv_cells_cannot_run_as_formulas(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    await db.execute(
        sa.update(Merchant)
        .where(Merchant.id == await db.scalar(sa.select(Merchant.id).limit(1)))
        .values(name='=HYPERLINK("http://evil.example","Click")')
    )
    await db.commit()

    exported = parse_csv((await client.get("/admin/merchants/export/csv")).text)

    names = [row["Name"] for row in exported]
    assert '\'=HYPERLINK("http://evil.example","Click")' in names
    assert not any(name.startswith("=") for name in names)


def test_only_text_that_would_run_is_changed() -> None:
    assert [neutralise(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "\tx", "plain", -5)] == [
        "'=1+1",
        "'+1",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        "plain",
        -5,
    ]


async def test_exports_are_audited_with_the_query(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    await client.get("/admin/users/export/csv", params={"status": "suspended"})

    [entry] = await staff.audit_entries(db, "export")
    assert entry.entity_type == "users"
    assert entry.after == {"format": "csv", "query": {"status": "suspended"}}
    assert entry.actor_id == boss.id


async def test_an_unknown_export_format_is_404(
    client: httpx.AsyncClient, boss: staff.Account
) -> None:
    assert (await client.get("/admin/users/export/xlsx")).status_code == 404


async def test_a_secret_setting_value_is_masked_not_dropped(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    await db.execute(sa.update(RuntimeSetting).values(is_secret=True))
    await db.commit()

    exported = json.loads((await client.get("/admin/settings/export/json")).text)

    assert exported
    assert {row["value"] for row in exported} == {"***"}


async def test_csv_cells_hold_json_for_lists_and_words_for_booleans(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    exported = parse_csv((await client.get("/admin/feature-flags/export/csv")).text)

    platforms = {row["Platforms"] for row in exported}
    assert '["ios", "android"]' in platforms
    assert {row["Enabled"] for row in exported} <= {"true", "false"}


async def test_an_export_is_sent_in_pieces_as_rows_are_read(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Rows go out a batch at a time, so a million-row export never sits in memory whole."""
    monkeypatch.setattr(export, "BATCH", 5)
    users = int(await db.scalar(sa.select(sa.func.count()).select_from(User)) or 0)
    cookie = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    scope = {
        "type": "http",
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/admin/users/export/csv",
        "raw_path": b"/admin/users/export/csv",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"cookie", cookie.encode())],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
    }
    sent: list[dict[str, Any]] = []

    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, Any]:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client never hangs up: the response ends it
        raise AssertionError("unreachable")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    pieces = [m["body"] for m in sent if m["type"] == "http.response.body" and m.get("body")]
    assert len(pieces) >= users // 5  # the header and each batch of five rows as it came
    assert len(parse_csv(b"".join(pieces).decode())) == users


async def test_the_export_links_carry_the_lists_search_filters_and_sort(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    """Export from a filtered, searched, sorted list: the links as rendered give its rows."""
    active = list(await db.scalars(sa.select(User).where(User.status == "active")))
    term = active[0].last_name
    shown = {
        "status": "active",
        "search": term,
        "sortBy": "email",
        "sort": "desc",
    }
    page = await client.get(
        "/admin/users/list", params={**shown, "page": "1", "pageSize": "50", "count": "exact"}
    )
    total, ids = await listing(client, "users", **shown)

    links = {a.attrs["data-export"]: a.href for a in anchors(page.text) if "data-export" in a.attrs}
    assert set(links) == {"csv", "json"}
    for href in links.values():
        assert href is not None
        assert parse_qs(urlsplit(href).query) == {name: [value] for name, value in shown.items()}
    exported_csv = parse_csv((await client.get(str(links["csv"]))).text)
    exported_json = json.loads((await client.get(str(links["json"]))).text)

    matching = sorted(
        (u for u in active if term.lower() in f"{u.email} {u.first_name} {u.last_name}".lower()),
        key=lambda user: user.email,
        reverse=True,
    )
    assert 0 < total == len(ids) == len(matching) < len(active), "the list is narrowed"
    assert [row["Email"] for row in exported_csv] == [user.email for user in matching]
    assert [row["email"] for row in exported_json] == [user.email for user in matching]
