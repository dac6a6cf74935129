"""The App keys page, as staff use it: from the menu, through the forms as rendered."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from html import unescape
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from admin_views import discover_pages, discover_views
from admin_views.shared.default_access import grant_declared
from flags.key_uses import LAST_USED
from flags.snapshot import CLIENT_KEYS
from models import Base, FeatureFlag
from models.ops import RuntimeSetting
from models.people import Role
from tests import staff
from tests.admin_views.anchors import named
from tests.admin_views.screens import field_error

FEED = "/api/feature-flags/mobile/active"
OFREP = "/ofrep/v1/evaluate/flags"
PAGE = "/admin/app-keys"
SHOWN_ONCE = "Copy it now: it will not be shown again."
NEW_KEY = re.compile(r'id="new-app-key"[^>]*>(ssk_[^<]+)</textarea>')


def rendered_form(page: str, form_id: str) -> tuple[str, dict[str, str]]:
    """The form's action and every input as the browser would send it untouched."""
    found = re.search(rf'<form([^>]*id="{form_id}"[^>]*)>(.*?)</form>', page, re.S)
    assert found, f"no form {form_id}"
    action = re.search(r'action="([^"]*)"', found[1])
    assert action
    fields = {}
    for tag in re.findall(r"<input[^>]*>", found[2]):
        attributes = dict(re.findall(r'([\w-]+)="([^"]*)"', tag))
        if "name" in attributes:
            fields[unescape(attributes["name"])] = unescape(attributes.get("value", ""))
    return unescape(action[1]), fields


async def open_from_menu(client: httpx.AsyncClient) -> httpx.Response:
    home = await client.get("/admin/", follow_redirects=True)
    page = await client.get(unescape(named(home.text, "App keys").href or ""))
    assert page.status_code == 200
    return page


async def make_key(
    client: httpx.AsyncClient, name: str, environment: str | None = None
) -> httpx.Response:
    """Fill in the form as rendered: a name, and an environment its select offers."""
    page = await open_from_menu(client)
    action, fields = rendered_form(page.text, "app-key-create")
    if environment is not None:
        offered = re.search(r'<select[^>]*name="environment"[^>]*>(.*?)</select>', page.text, re.S)
        assert offered, "no environment select"
        assert f'value="{environment}"' in offered[1], f"{environment} is not offered"
        fields["environment"] = environment
    return await client.post(action, data=fields | {"name": name})


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def app_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The mobile app: no staff cookie."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def stored(db: AsyncSession, key: str) -> Any:
    await db.commit()
    return await db.scalar(sa.select(RuntimeSetting.value).where(RuntimeSetting.key == key))


async def every_row(db: AsyncSession) -> str:
    await db.commit()
    dumped = []
    for table in Base.metadata.sorted_tables:
        dumped += [repr(row) for row in (await db.execute(sa.select(table))).all()]
    return "\n".join(dumped)


@contextmanager
def writes(app: Starlette) -> Iterator[list[str]]:
    """Every INSERT, UPDATE or DELETE the app sends while inside."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            seen.append(statement)

    engine = app.state.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


async def test_a_new_key_is_shown_once_works_on_the_feed_and_is_audited_without_it(
    client: httpx.AsyncClient,
    app_client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made = await make_key(client, "ios-production")
    found = NEW_KEY.search(made.text)
    assert found, made.text
    key = found[1]

    with_key = await app_client.get(FEED, headers={"X-API-Key": key})
    without = await app_client.get(FEED)
    reloaded = await client.get(PAGE)
    [entry] = await staff.audit_entries(db, "flags.create_key")

    assert made.status_code == 200
    assert SHOWN_ONCE in made.text
    assert made.headers["cache-control"] == "no-store"
    assert (with_key.status_code, without.status_code) == (200, 401)
    assert key not in reloaded.text
    row = re.search(r'data-key="ios-production">(.*?)</li>', reloaded.text, re.S)
    assert row
    assert "active" in row[1]
    assert boss.email in row[1]
    assert "never" in row[1]
    assert (entry.actor_email, entry.after) == (
        boss.email,
        {"name": "ios-production", "environment": "production"},
    )
    # Nowhere kept: not in the audit trail, the session rows (Flash), settings or logs.
    assert key not in await every_row(db)
    assert key not in caplog.text


async def test_revoking_asks_first_then_the_feed_refuses_the_key_at_once(
    client: httpx.AsyncClient, app_client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    key = NEW_KEY.search((await make_key(client, "android-beta")).text)[1]  # type: ignore[index]
    page = await client.get(PAGE)
    asked = await client.get(unescape(named(page.text, "Revoke…").href or ""))
    action, fields = rendered_form(asked.text, "app-key-revoke")
    still_working = await app_client.get(FEED, headers={"X-API-Key": key})

    revoked = await client.post(action, data=fields)
    refused = await app_client.get(FEED, headers={"X-API-Key": key})
    refused_ofrep = await app_client.post(OFREP, json={}, headers={"X-API-Key": key})
    listed = await client.get(PAGE)
    [entry] = await staff.audit_entries(db, "flags.revoke_key")

    assert asked.status_code == 200
    assert "Revoke the key “android-beta”?" in asked.text
    assert still_working.status_code == 200
    assert revoked.status_code == 303
    assert (refused.status_code, refused_ofrep.status_code) == (401, 401)
    assert "Key “android-beta” revoked" in listed.text
    row = re.search(r'data-key="android-beta">(.*?)</li>', listed.text, re.S)
    assert row
    assert ">revoked<" in row[1]
    assert "Revoke…" not in row[1]
    assert (entry.actor_email, entry.before) == (boss.email, {"name": "android-beta"})


async def test_a_role_without_the_permission_sees_no_page_and_changes_nothing(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await staff.signed_in(client, await staff.make_staff(db, "operations"))
    token = await staff.csrf_token(client)
    home = await client.get("/admin/", follow_redirects=True)

    page = await client.get(PAGE)
    create = await client.post(f"{PAGE}/new", data={"csrf_token": token, "name": "sneaky"})
    ask = await client.get(f"{PAGE}/revoke", params={"name": "sneaky"})
    revoke = await client.post(f"{PAGE}/revoke", data={"csrf_token": token, "name": "sneaky"})

    assert "Feature flags" in home.text  # the menu group is there, without the page
    assert "App keys" not in home.text
    assert [r.status_code for r in (page, create, ask, revoke)] == [403, 403, 403, 403]
    assert await stored(db, CLIENT_KEYS) is None


async def test_viewing_only_lists_the_keys_and_may_not_make_one(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await db.execute(
        sa.update(Role).where(Role.name == "viewer").values(permissions=["app_keys:view"])
    )
    await db.commit()
    await staff.signed_in(client, await staff.make_staff(db, "viewer"))
    token = await staff.csrf_token(client)

    page = await open_from_menu(client)
    create = await client.post(f"{PAGE}/new", data={"csrf_token": token, "name": "sneaky"})

    assert 'id="app-keys"' in page.text
    assert 'id="app-key-create"' not in page.text
    assert create.status_code == 403
    assert await stored(db, CLIENT_KEYS) is None


async def test_the_default_admin_role_may_make_keys(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    await grant_declared(db, [*discover_pages(), *discover_views()])
    await db.commit()
    await staff.signed_in(client, await staff.make_staff(db, "admin"))

    made = await make_key(client, "admin-made")

    assert SHOWN_ONCE in made.text


NAME_RULE = (
    "A key's name is 1 to 64 letters, digits, dots, dashes or underscores, starting with a "
    "letter or digit, e.g. ios-production."
)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Name the key, e.g. ios-production."),
        ("has space", NAME_RULE),
        ("-leading-dash", NAME_RULE),
        ("x" * 65, NAME_RULE),
        ("nul\x00", NAME_RULE),
        ("taken", "A key named 'taken' exists; revoke it first."),
    ],
)
async def test_a_bad_name_is_refused_on_its_field_and_nothing_is_written(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, name: str, message: str
) -> None:
    await make_key(client, "taken")
    before = await stored(db, CLIENT_KEYS)
    audited = len(await staff.audit_entries(db, "flags.create_key"))

    refused = await make_key(client, name)

    assert refused.status_code == 400
    assert SHOWN_ONCE not in refused.text
    assert field_error(refused.text, message)
    assert await stored(db, CLIENT_KEYS) == before
    assert len(await staff.audit_entries(db, "flags.create_key")) == audited


async def test_last_used_shows_after_the_minute_flush_with_no_write_per_request(
    app: Starlette,
    client: httpx.AsyncClient,
    app_client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
) -> None:
    key = NEW_KEY.search((await make_key(client, "ios-metrics")).text)[1]  # type: ignore[index]
    headers = {"X-API-Key": key}
    store = app.state.flags

    with writes(app) as during_requests:
        for _ in range(20):
            assert (await app_client.get(FEED, headers=headers)).status_code == 200
            assert (await app_client.post(OFREP, json={}, headers=headers)).status_code == 200
    before_flush = await stored(db, LAST_USED)
    page_before = await client.get(PAGE)

    # The refresh loop writes once the minute is up: made to come at once here.
    store.key_uses.flush_every_s = 0.0
    loop = asyncio.create_task(store.run())
    try:
        for _ in range(100):  # up to 10 s
            after_flush = await stored(db, LAST_USED)
            if after_flush is not None:
                break
            await asyncio.sleep(0.1)
        # Within the minute that follows, uses wait in memory again.
        store.key_uses.flush_every_s = 60.0
        with writes(app) as within_the_minute:
            for _ in range(10):
                await app_client.get(FEED, headers=headers)
            await asyncio.sleep(1.5)  # three turns of the refresh loop
    finally:
        loop.cancel()
        await asyncio.gather(loop, return_exceptions=True)
    page_after = await client.get(PAGE)

    assert during_requests == []
    assert before_flush is None
    assert re.search(r'data-key="ios-metrics">(?:(?!</li>).)*never', page_before.text, re.S)
    assert after_flush is not None
    assert len(after_flush) == 1
    assert within_the_minute == []
    row = re.search(r'data-key="ios-metrics">(.*?)</li>', page_after.text, re.S)
    assert row
    assert "never" not in row[1]
    assert row[1].count("<time") == 2  # created and last used
    assert "Last used is to the minute" in page_after.text


async def test_a_key_made_for_staging_reads_stagings_flags_and_is_listed_with_it(
    app: Starlette,
    client: httpx.AsyncClient,
    app_client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
) -> None:
    flag = FeatureFlag(key="checkout", name="Checkout", enabled=True, rollout_percentage=100)
    db.add(flag)
    await db.commit()
    await app.state.flags.refresh(force=True)

    made = await make_key(client, "ios-staging", "staging")
    key = NEW_KEY.search(made.text)[1]  # type: ignore[index]
    production = NEW_KEY.search((await make_key(client, "ios-production")).text)[1]  # type: ignore[index]
    staging_answer = await app_client.get(FEED, headers={"X-API-Key": key})
    production_answer = await app_client.get(FEED, headers={"X-API-Key": production})
    listed = await client.get(PAGE)
    [entry, _] = await staff.audit_entries(db, "flags.create_key")

    assert 'id="new-app-key-environment">Staging<' in made.text
    assert staging_answer.json()["flags"] == {}  # a new flag is off in staging
    assert set(production_answer.json()["flags"]) == {"checkout"}
    row = re.search(r'data-key="ios-staging">(.*?)</li>', listed.text, re.S)
    assert row
    assert '<div class="col-6 col-md-2" data-environment="staging">' in row[1]
    assert "Environment</div>Staging</div>" in row[1]
    assert entry.after == {"name": "ios-staging", "environment": "staging"}


async def test_a_key_for_an_environment_not_offered_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    page = await open_from_menu(client)
    action, fields = rendered_form(page.text, "app-key-create")

    refused = await client.post(action, data=fields | {"name": "ios-qa", "environment": "qa"})

    assert refused.status_code == 400
    assert SHOWN_ONCE not in refused.text
    assert field_error(refused.text, "Not a valid choice.")
    assert await stored(db, CLIENT_KEYS) is None
    assert await staff.audit_entries(db, "flags.create_key") == []
