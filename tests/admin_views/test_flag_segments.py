"""Segments on screen and at the doors: made on their own screen, included or excluded by a
flag's state from its form, resolved into the snapshot; a change to one refreshes every flag
using it (new ETags, new answers); one in use is never deleted. Every step follows the
links and forms as the pages render them."""

from __future__ import annotations

import re
from decimal import Decimal

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from audit import trail
from flags.client_keys import create_key
from flags.engine import bucket
from models import AuditLog
from models.flag_segments import FlagSegment
from models.flags import FeatureFlag
from tests import staff
from tests.admin_views.screens import field_error, token
from tests.admin_views.test_flag_environments import (
    audit,
    card,
    edit_form,
    flag_page,
    fresh,
    shown,
    state,
)
from tests.admin_views.test_four_eyes_edits import refusals
from tests.admin_views.test_record_actions import offered, parse

FEED = "/api/feature-flags/mobile/active"
U1, U2, U3, U4 = [u for u in (f"u-{n}" for n in range(100)) if bucket("new-card", u) < 5000][:4]
"""Users in production's half."""


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


@pytest.fixture
async def flag(db: AsyncSession) -> FeatureFlag:
    """`new-card`: on for half the users in production (more would need a second person
    for each change), for everyone in staging."""
    return await on_for_everyone_in_staging(
        db, FeatureFlag(key="new-card", name="New card", enabled=True, rollout_percentage=50)
    )


async def new_segment(client: httpx.AsyncClient, **fields: str) -> httpx.Response:
    """The segments list's New button, its form filled in as rendered, submitted; `rule`
    ("country in DE, FR") fills the rule builder's row."""
    listing = await client.get("/admin/flag-segments/list")
    url = next(link.href for link in parse(listing.text).links if link.href.endswith("/create"))
    body = await edit_form(client, url)
    if rule := fields.pop("rule", None):
        attribute, operator, values = rule.split(" ", 2)
        body |= {"rules-0-attribute": [attribute], "rules-0-operator": [operator]}
        body["rules-0-new"] = [values]
    for name, value in fields.items():
        body[name] = [value]
    return await client.post(url, data=body)


async def segment(db: AsyncSession, key: str) -> FlagSegment:
    await db.commit()
    return (await db.scalars(sa.select(FlagSegment).where(FlagSegment.key == key))).one()


async def target(
    client: httpx.AsyncClient, flag: FeatureFlag, environment: str, **chosen: list[str]
) -> httpx.Response:
    """The environment card's Edit, its segment selects set to `chosen`, saved."""
    page = await flag_page(client, flag)
    links = parse(card(page, environment)).links
    url = next(link.href for link in links if "data-edit" in link.attrs)
    body = await edit_form(client, url)
    offered_here = re.findall(r'<option[^>]*value="([^"]+)"', (await client.get(url)).text)
    for name, keys in chosen.items():
        assert all(key in offered_here for key in keys), f"{keys} not offered"
        body[name] = keys
    return await client.post(url, data=body)


async def feed(
    app: Starlette, client: httpx.AsyncClient, headers: dict[str, str] | None = None, **asked: str
) -> httpx.Response:
    """The feed's answer for an iOS user (`asked`), in the environment of the app key in
    `headers` (production without one)."""
    await app.state.flags.refresh()
    answer = await client.get(FEED, params={"platform": "ios"} | asked, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer


async def test_a_segment_included_or_excluded_decides_who_gets_the_flag(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
) -> None:
    made = await new_segment(
        client,
        key="EU-Customers",
        name="EU customers",
        rule="country in DE, FR",
        deny_list=U3,
    )
    testers = await new_segment(client, key="beta-testers", name="Beta testers", allow_list=U4)
    included = await target(
        client,
        flag,
        "production",
        included_segments=["eu-customers"],
        excluded_segments=["beta-testers"],
    )
    excluded = await target(client, flag, "staging", excluded_segments=["beta-testers"])

    answers = {
        who: "new-card" in (await feed(app, client, user_id=who, **attrs)).json()["flags"]
        for who, attrs in {
            U1: {"attr.country": "DE"},
            U2: {"attr.country": "US"},
            U3: {"attr.country": "FR"},
            U4: {"attr.country": "DE"},
        }.items()
    }
    page = await flag_page(client, flag)

    assert [made.status_code, testers.status_code] == [302, 302], refusals(made.text)
    assert [included.status_code, excluded.status_code] == [302, 302], refusals(included.text)
    assert answers == {U1: True, U2: False, U3: False, U4: False}
    assert (await fresh(db, flag)).included_segments == ["eu-customers"]
    assert (await state(db, flag, "staging")).excluded_segments == ["beta-testers"]
    production = card(page, "production")
    assert shown(production, "included_segments") == "EU customers"
    assert shown(production, "excluded_segments") == "Beta testers"
    assert shown(card(page, "staging"), "excluded_segments") == "Beta testers"
    [link, _] = [link for link in parse(production).links if "data-segment" in link.attrs]
    assert "EU customers" in (await client.get(link.href)).text
    [entry] = await audit(db, "update", "feature_flags")
    assert entry.after["included_segments"] == ["eu-customers"]
    assert entry.after["excluded_segments"] == ["beta-testers"]


@pytest.fixture
async def wallet(db: AsyncSession) -> FeatureFlag:
    """`new-wallet`: off in production, on for everyone in staging."""
    return await on_for_everyone_in_staging(
        db, FeatureFlag(key="new-wallet", name="New wallet", enabled=False)
    )


async def on_for_everyone_in_staging(db: AsyncSession, made: FeatureFlag) -> FeatureFlag:
    db.add(made)
    await db.commit()
    staged = await state(db, made, "staging")
    staged.enabled = True
    staged.rollout_percentage = Decimal(100)
    await db.commit()
    return made


async def test_changing_a_segment_refreshes_every_flag_using_it(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    boss: staff.Account,
    flag: FeatureFlag,
    wallet: FeatureFlag,
) -> None:
    # Once the app has keys, each one answers for its environment and none is left out.
    production = {"X-API-Key": await create_key(db, "ios", trail.SYSTEM, "production")}
    staging = {"X-API-Key": await create_key(db, "ios-staging", trail.SYSTEM, "staging")}
    await db.commit()
    await new_segment(client, key="testers", name="Testers", allow_list=U1)
    await target(client, flag, "production", included_segments=["testers"])
    await target(client, wallet, "staging", included_segments=["testers"])
    revisions = await every_revision(db, flag, wallet)
    tags = {key: await api_etag(client, key) for key in ("new-card", "new-wallet")}
    before = await feed(app, client, production, user_id=U2)
    before_staging = await feed(app, client, staging, user_id=U2)

    pk = (await segment(db, "testers")).id
    edit = offered((await client.get(f"/admin/flag-segments/details/{pk}")).text)["Edit"].href
    body = await edit_form(client, edit)
    body["allow_list"] = [U1, U2]
    saved = await client.post(edit, data=body)
    after = await feed(app, client, production, user_id=U2)
    after_staging = await feed(app, client, staging, user_id=U2)
    again = await client.get(
        FEED,
        params={"platform": "ios", "user_id": U2},
        headers=production | {"If-None-Match": before.headers["etag"]},
    )
    [entry] = await audit(db, "update", "flag_segments")

    assert saved.status_code == 302, refusals(saved.text)
    assert {"new-card", "new-wallet"}.isdisjoint(before.json()["flags"])
    assert "new-card" in after.json()["flags"]
    assert "new-wallet" not in after.json()["flags"]  # off in production: no segment there
    assert "new-wallet" not in before_staging.json()["flags"]
    assert "new-wallet" in after_staging.json()["flags"]
    assert after.headers["etag"] != before.headers["etag"]
    assert after_staging.headers["etag"] != before_staging.headers["etag"]
    assert again.status_code == 200
    assert await every_revision(db, flag, wallet) == {
        ("new-card", "production"): revisions["new-card", "production"] + 1,
        ("new-card", "staging"): revisions["new-card", "staging"],
        ("new-wallet", "production"): revisions["new-wallet", "production"],
        ("new-wallet", "staging"): revisions["new-wallet", "staging"] + 1,
    }
    assert [await api_etag(client, key) != tag for key, tag in tags.items()] == [True, True]
    assert (await segment(db, "testers")).revision == 2
    assert entry.after["refreshed"] == "new-card (Production), new-wallet (Staging)"


async def every_revision(db: AsyncSession, *flags: FeatureFlag) -> dict[tuple[str, str], int]:
    """Each flag's revision in production and in staging."""
    found = {}
    for made in flags:
        found[made.key, "production"] = (await fresh(db, made)).revision
        found[made.key, "staging"] = (await state(db, made, "staging")).revision
    return found


async def api_etag(client: httpx.AsyncClient, key: str) -> str:
    """The flag's ETag as the management API gives it (a digest of its states' revisions)."""
    answer = await client.get(f"/api/v1/admin/flags/{key}")
    assert answer.status_code == 200, answer.text
    return answer.headers["etag"]


async def test_a_segment_in_use_is_not_deleted_and_says_which_flags_use_it(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    await new_segment(client, key="testers", name="Testers", allow_list=U1)
    await target(client, flag, "production", included_segments=["testers"])
    await target(client, flag, "staging", excluded_segments=["testers"])
    pk = (await segment(db, "testers")).id
    page = await client.get(f"/admin/flag-segments/details/{pk}")

    answer = await client.request(
        "DELETE",
        f"/admin/flag-segments/delete?pks={pk}",
        headers={"X-CSRF-Token": await token(client)},
    )
    listing = await client.get(answer.text)

    assert (
        "Testers cannot be deleted: new-card (Staging, Production) use it. Take it out of "
        "their segments first." in listing.text
    )
    assert await segment(db, "testers")
    assert await audit(db, "delete", "flag_segments") == []
    assert re.findall(r'<tr data-use="([^"]+)">', page.text) == ["new-card", "new-card"]


async def test_a_segment_with_bad_rules_or_used_both_ways_is_refused_and_nothing_written(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account, flag: FeatureFlag
) -> None:
    bad = await new_segment(
        client,
        key="eu",
        name="EU",
        rule="country like DE",
    )
    await new_segment(client, key="testers", name="Testers", allow_list=U1)
    both = await target(
        client, flag, "production", included_segments=["testers"], excluded_segments=["testers"]
    )

    assert bad.status_code == 400
    assert field_error(
        bad.text,
        "Rule 1: operator must be one of contains, eq, gte, in, lt, neq, not_in, semver_gte, "
        "semver_lt.",
    )
    assert both.status_code == 400
    assert field_error(both.text, "testers cannot be both included and excluded.")
    assert (await fresh(db, flag)).included_segments == []
    await db.commit()
    assert await db.scalar(sa.select(sa.func.count()).select_from(FlagSegment)) == 1
    assert (
        await db.scalar(
            sa.select(sa.func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity_type == "feature_flags")
        )
        == 0
    )
