"""A flag's lifecycle on both databases: archived from its page (confirmed, audited), then
served to no app (absent from the feed, FLAG_NOT_FOUND in OFREP, the ETag moved) and left
out of the list unless asked for, and unarchived; never deleted; stale when past its
lifetime, settled fully on or off in production for 30 days, or not evaluated by any door
for 30 days, found by the list's Stale filter and the API with the reason said."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from html import unescape

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from flags.usage import hour_of
from models.base import utcnow
from models.flag_usage import FlagEvaluationCount
from models.flags import FeatureFlag
from tests import staff
from tests.admin_views.anchors import anchors
from tests.admin_views.screens import token
from tests.admin_views.test_record_actions import offered

FEED = "/api/feature-flags/mobile/active"
OFREP = "/ofrep/v1/evaluate/flags"
LIST = "/admin/feature-flags/list"


@pytest.fixture
async def boss(client: httpx.AsyncClient, db: AsyncSession) -> staff.Account:
    account = await staff.make_staff(db, "superadmin")
    await staff.signed_in(client, account)
    return account


async def made(db: AsyncSession, key: str, **state: object) -> FeatureFlag:
    flag = FeatureFlag(key=key, name=key, **({"enabled": True, "platforms": []} | state))
    db.add(flag)
    await db.commit()
    return flag


async def press(client: httpx.AsyncClient, flag: FeatureFlag, label: str) -> str:
    """The action `label` of the flag's page, confirmed in its dialog as staff.js posts it;
    the page it lands on."""
    here = f"/admin/feature-flags/details/{flag.id}"
    page = (await client.get(here)).text
    link = offered(page)[label]
    dialog = link.attrs["data-bs-target"].removeprefix("#")
    found = re.search(rf'id="{dialog}".*?<a href="([^"]+)" class="btn btn-blue', page, re.S)
    assert found, f"no dialog for {label}"
    answer = await client.post(
        unescape(found[1]),
        data={"csrf_token": await token(client)},
        headers={"referer": f"http://testserver{here}"},
    )
    assert answer.status_code == 303, answer.text[:300]
    return (await client.get(answer.headers["location"])).text


async def test_an_archived_flag_is_served_to_no_app_and_listed_only_when_asked(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    flag = await made(db, "checkout", rollout_percentage=Decimal(100))
    await made(db, "banner", rollout_percentage=Decimal(100))
    await app.state.flags.refresh(force=True)
    before = await client.get(FEED, params={"user_id": "u-1"})
    page = (await client.get(f"/admin/feature-flags/details/{flag.id}")).text

    archived_page = await press(client, flag, "Archive")
    await app.state.flags.refresh(force=True)
    after = await client.get(FEED, params={"user_id": "u-1"})
    asked = await client.post(f"{OFREP}/checkout", json={"context": {"targetingKey": "u-1"}})
    everything = await client.post(OFREP, json={"context": {"targetingKey": "u-1"}})
    default_list = (await client.get(LIST)).text
    archived_list = (await client.get(LIST, params={"archived": "yes"})).text
    [entry] = await staff.audit_entries(db, "action:archive")
    deleted = await client.post(
        f"/admin/feature-flags/delete?pks={flag.id}", headers={"X-CSRF-Token": await token(client)}
    )

    assert "Delete" not in offered(page)
    assert "Unarchive" in offered(archived_page)
    assert ">archived</span>" in archived_page
    assert set(before.json()["flags"]) == {"checkout", "banner"}
    assert set(after.json()["flags"]) == {"banner"}
    assert after.headers["etag"] != before.headers["etag"]
    assert (asked.status_code, asked.json()["errorCode"]) == (404, "FLAG_NOT_FOUND")
    assert [f["key"] for f in everything.json()["flags"]] == ["banner"]
    assert "/admin/feature-flags/details/" + str(flag.id) not in default_list
    assert "/admin/feature-flags/details/" + str(flag.id) in archived_list
    assert entry.entity_id == str(flag.id)
    assert entry.after["archived_at"]
    assert deleted.status_code in (403, 405)
    await db.commit()
    assert await db.scalar(sa.select(sa.func.count()).select_from(FeatureFlag)) == 2

    await press(client, flag, "Unarchive")
    await app.state.flags.refresh(force=True)
    back = await client.get(FEED, params={"user_id": "u-1"})

    assert set(back.json()["flags"]) == {"checkout", "banner"}


async def test_production_settled_fully_on_or_off_is_kept_since_it_began(
    db: AsyncSession,
) -> None:
    flag = await made(db, "checkout", rollout_percentage=Decimal(40))
    await db.refresh(flag)
    seen = [flag.settled_since]
    for change in (
        {"rollout_percentage": Decimal(100)},
        {"min_app_version": "4.2.0"},
        {"enabled": False},
    ):
        for name, value in change.items():
            setattr(flag, name, value)
        await db.commit()
        await db.refresh(flag)
        seen.append(flag.settled_since)
    partly_on, fully_on, targeted, fully_off = seen

    assert partly_on is None
    assert fully_on is not None
    assert targeted == fully_on
    assert fully_off is not None
    assert fully_off > fully_on


async def test_stale_flags_are_found_by_the_database_and_say_why(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    long_ago = utcnow() - timedelta(days=31)
    flags = {
        key: await made(db, key, flag_type=kind, rollout_percentage=Decimal(rollout))
        for key, kind, rollout in [
            ("checkout", "release", 100),
            ("switch", "kill_switch", 0),
            ("old", "release", 40),
            ("young", "release", 40),
        ]
    }
    await db.execute(
        sa.update(FeatureFlag)
        .where(FeatureFlag.key.in_(["checkout", "switch"]))
        .values(settled_since=long_ago)
    )
    await db.execute(
        sa.update(FeatureFlag)
        .where(FeatureFlag.key == "old")
        .values(created_at=utcnow() - timedelta(days=41))
    )
    await db.commit()
    headers = {"X-CSRF-Token": await token(client)}

    stale = (await client.get(LIST, params={"stale": "yes"})).text
    fresh = (await client.get(LIST, params={"stale": "no"})).text
    api = await client.get("/api/v1/admin/flags", params={"stale": "true"}, headers=headers)
    page = (await client.get(f"/admin/feature-flags/details/{flags['checkout'].id}")).text

    def shown(listing: str) -> set[str]:
        return {key for key, flag in flags.items() if f"/details/{flag.id}" in listing}

    assert shown(stale) == {"checkout", "old"}
    assert shown(fresh) == {"switch", "young"}
    assert {f["key"]: f["stale_because"] for f in api.json()["flags"]} == {
        "checkout": "On at 100% in production for 31 days",
        "old": "Past its 40-day lifetime",
    }
    assert "On at 100% in production for 31 days" in stale
    assert "Past its 40-day lifetime" in stale
    assert "data-stale-because" not in fresh
    assert "On at 100% in production for 31 days</small>" in page


async def aged(db: AsyncSession, key: str, days: float, *, archived: bool = False) -> FeatureFlag:
    """A kill switch made `days` ago: no lifetime and never settled-stale, so only the
    evaluation rule can make it stale."""
    flag = await made(db, key, flag_type="kill_switch", rollout_percentage=Decimal(100))
    made_at = utcnow() - timedelta(days=days)
    await db.execute(
        sa.update(FeatureFlag)
        .where(FeatureFlag.id == flag.id)
        .values(created_at=made_at, archived_at=made_at if archived else None)
    )
    await db.commit()
    return flag


async def counted(db: AsyncSession, key: str, days_ago: float, environment: str) -> datetime:
    """Answers of the flag counted in the hour `days_ago`, as the doors' flush writes them."""
    hour = hour_of(utcnow() - timedelta(days=days_ago))
    db.add(
        FlagEvaluationCount(flag_key=key, environment=environment, variant="on", hour=hour, count=7)
    )
    await db.commit()
    return hour


def stale_link(listing: str) -> str:
    """The Stale filter's "Stale" choice, as the list renders it."""
    [link] = [
        a.href
        for a in anchors(listing)
        if "list-filters" in a.within and a.text.strip() == "Stale" and a.href
    ]
    return unescape(link)


def reasons(listing: str, flags: dict[str, FeatureFlag]) -> dict[str, str | None]:
    """Each flag's stale reason in the list's rows, None for a row without one."""
    said = {}
    for key, flag in flags.items():
        row = re.search(rf'<tr[^>]*>(?:(?!</tr>).)*/details/{flag.id}".*?</tr>', listing, re.S)
        if row is None:
            continue
        reason = re.search(r"data-stale-because>([^<]*)</small>", row[0])
        said[key] = unescape(reason[1]) if reason else None
    return said


async def independently_stale(db: AsyncSession) -> set[str]:
    """Live flags older than 30 days whose last count is older than the hour 30 days ago, or
    missing: the rule asked as a grouped max(hour), not as the filter's NOT EXISTS."""
    now = utcnow()
    last = (
        sa.select(
            FlagEvaluationCount.flag_key,
            sa.func.max(FlagEvaluationCount.hour).label("hour"),
        )
        .group_by(FlagEvaluationCount.flag_key)
        .subquery()
    )
    rows = await db.scalars(
        sa.select(FeatureFlag.key)
        .outerjoin(last, last.c.flag_key == FeatureFlag.key)
        .where(
            FeatureFlag.archived_at.is_(None),
            FeatureFlag.created_at < now - timedelta(days=30),
            sa.or_(last.c.hour.is_(None), last.c.hour < hour_of(now - timedelta(days=30))),
        )
    )
    return set(rows)


async def test_flags_no_door_answered_for_30_days_are_stale_and_say_since_when(
    client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    flags = {
        "gone-quiet": await aged(db, "gone-quiet", 60),
        "in-use": await aged(db, "in-use", 60),
        "never-asked": await aged(db, "never-asked", 40),
        "brand-new": await aged(db, "brand-new", 1),
        "put-away": await aged(db, "put-away", 40, archived=True),
    }
    last_heard = await counted(db, "gone-quiet", 31, "staging")
    await counted(db, "gone-quiet", 45, "production")
    await counted(db, "in-use", 50, "production")
    await counted(db, "in-use", 1, "development")
    headers = {"X-CSRF-Token": await token(client)}

    listing = (await client.get(LIST)).text
    stale = (await client.get(stale_link(listing))).text
    everything = (await client.get(LIST, params={"archived": "all"})).text
    api = await client.get("/api/v1/admin/flags", params={"stale": "true"}, headers=headers)
    quiet_page = (await client.get(f"/admin/feature-flags/details/{flags['gone-quiet'].id}")).text
    used_page = (await client.get(f"/admin/feature-flags/details/{flags['in-use'].id}")).text
    since = f"Not evaluated since {last_heard.date().isoformat()}"

    assert reasons(listing, flags) == {
        "gone-quiet": since,
        "in-use": None,
        "never-asked": "Never evaluated",
        "brand-new": None,
    }
    assert set(reasons(stale, flags)) == {"gone-quiet", "never-asked"}
    assert set(reasons(stale, flags)) == await independently_stale(db)
    assert reasons(everything, flags)["put-away"] is None
    assert {f["key"]: f["stale_because"] for f in api.json()["flags"]} == {
        "gone-quiet": since,
        "never-asked": "Never evaluated",
    }
    assert f"{since}</small>" in quiet_page
    assert "data-stale-because" not in used_page


async def test_the_list_reads_the_last_evaluations_of_its_page_in_one_query(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    for n in range(12):
        await aged(db, f"flag-{n}", 40)
        if n % 2:
            await counted(db, f"flag-{n}", 3 * n, "production")  # flag-11: 33 days ago
    statements: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "flag_evaluation_counts" in statement:
            statements.append(statement)

    engine = app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        few = (await client.get(LIST, params={"pageSize": "10", "search": "flag-1"})).text
        asked_few = len(statements)
        many = (await client.get(LIST, params={"pageSize": "25"})).text
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)

    assert few.count("data-stale-because") == 2  # flag-10 and flag-11 of flag-1, -10, -11
    assert many.count("Never evaluated</small>") == 6
    assert many.count("data-stale-because") == 7
    assert asked_few == 1
    assert len(statements) == 2


async def test_evaluations_through_the_feed_make_a_stale_flag_fresh(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, boss: staff.Account
) -> None:
    flags = {
        "gone-quiet": await aged(db, "gone-quiet", 60),
        "never-asked": await aged(db, "never-asked", 40),
    }
    await counted(db, "gone-quiet", 35, "production")
    await app.state.flags.refresh(force=True)
    listing = (await client.get(LIST)).text
    before = (await client.get(stale_link(listing))).text

    answered = await client.get(FEED, params={"user_id": "u-1", "platform": "ios"})
    await app.state.flags.usage.flush_if_due(app.state.database, force=True)
    after = (await client.get(stale_link(listing))).text
    fresh = (await client.get(LIST)).text

    assert answered.status_code == 200
    assert set(answered.json()["flags"]) == set(flags)
    assert set(reasons(before, flags)) == set(flags)
    assert reasons(after, flags) == {}
    assert reasons(fresh, flags) == {"gone-quiet": None, "never-asked": None}
