"""The flag screen's preview and stale badge, and the command line that manages app keys."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from decimal import Decimal

import httpx
import sqlalchemy as sa
from click.testing import CliRunner, Result
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from cli.main import cli
from core.settings import Settings
from flags.engine import bucket
from flags.snapshot import CLIENT_KEYS
from flags.usage import hour_of
from models import RuntimeSetting
from models.base import utcnow
from models.flag_usage import FlagEvaluationCount
from tests import rows, staff
from tests.databases import TEST_BCRYPT_ROUNDS, TEST_SECRET_KEY

FEED = "/api/feature-flags/mobile/active"
RESULT = re.compile(r'<div class="mt-3" id="preview-result">(.*?)</div>\s*</div>', re.S)


async def signed_in_boss(client: httpx.AsyncClient, db: AsyncSession) -> None:
    await staff.signed_in(client, await staff.make_staff(db, "superadmin"))


async def preview(client: httpx.AsyncClient, flag_id: object, **asked: str) -> str:
    page = await client.get(
        f"/admin/feature-flags/details/{flag_id}", params={"preview": "1"} | asked
    )
    assert page.status_code == 200, page.text[-1000:]
    found = RESULT.search(page.text)
    assert found, "no preview result on the page"
    return " ".join(found[1].split())


async def test_the_preview_evaluates_the_flag_for_the_context_given(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    flag = rows.flag_row(
        key="new-card",
        platforms=["ios"],
        min_app_version="4.2.0",
        rollout_percentage=Decimal(100),
        rules=[{"attribute": "country", "operator": "in", "values": ["US"]}],
    )
    await rows.insert(db, "feature_flags", flag)
    await signed_in_boss(client, db)

    matching = await preview(
        client,
        flag["id"],
        user_id="u1",
        platform="ios",
        app_version="4.10.0",
        attributes="country=US",
    )
    old_app = await preview(
        client,
        flag["id"],
        user_id="u1",
        platform="ios",
        app_version="4.1.9",
        attributes="country=US",
    )
    elsewhere = await preview(
        client,
        flag["id"],
        user_id="u1",
        platform="ios",
        app_version="4.2.0",
        attributes="country=FR",
    )
    garbled = await client.get(
        f"/admin/feature-flags/details/{flag['id']}",
        params={"preview": "1", "app_version": "four"},
    )

    assert ">on<" in matching
    assert "This user matches its targeting, and it is on for all of them." in matching
    assert "The app gets value <strong>true</strong> (OFREP reason TARGETING_MATCH)." in matching
    assert ">off<" in old_app
    assert "Only for app version ≥ 4.2.0; this is 4.1.9." in old_app
    assert "(OFREP reason DEFAULT)" in old_app
    assert ">off<" in elsewhere
    assert "Only where Country is one of US; Country is FR." in elsewhere
    assert "&#39;four&#39; is not a version like 4.2.0." in garbled.text


async def test_the_preview_shows_a_split_and_needs_a_user_for_it(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    flag = rows.flag_row(key="half-rollout", platforms=[], rollout_percentage=Decimal(50))
    await rows.insert(db, "feature_flags", flag)
    await signed_in_boss(client, db)
    users = [f"user-{n}" for n in range(50)]
    inside = next(u for u in users if bucket("half-rollout", u) < 5000)
    outside = next(u for u in users if bucket("half-rollout", u) >= 5000)

    shown_in = await preview(client, flag["id"], user_id=inside)
    shown_out = await preview(client, flag["id"], user_id=outside)
    anonymous = await preview(client, flag["id"])

    assert ">on<" in shown_in
    assert f"In the 50% rollout: this user falls at {percent(inside)}." in shown_in
    assert "(OFREP reason SPLIT)" in shown_in
    assert ">off<" in shown_out
    assert f"Outside the 50% rollout: this user falls at {percent(outside)}." in shown_out
    assert ">off<" in anonymous
    assert "No user id: the 50% rollout needs one to choose." in anonymous
    assert "(OFREP reason ERROR)" in anonymous


def percent(user: str) -> str:
    """Where `user` falls in half-rollout's buckets, as the preview says it."""
    return f"{bucket('half-rollout', user) / 100:.2f}".rstrip("0").rstrip(".") + "%"


async def test_the_screen_estimates_how_many_customers_the_rollout_reaches(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    customers = [rows.user_row() for _ in range(40)]
    for customer in customers:
        await rows.insert(db, "users", customer)
    flag = rows.flag_row(key="quarter", rollout_percentage=Decimal(25))
    await rows.insert(db, "feature_flags", flag)
    await signed_in_boss(client, db)
    expected = sum(bucket("quarter", str(c["id"])) < 2500 for c in customers)

    page = await client.get(f"/admin/feature-flags/details/{flag['id']}")
    text = " ".join(page.text.split())

    assert f"Rollout reaches about <strong>{expected}</strong> of 40 active customers" in text


async def test_a_flag_past_its_lifetime_is_marked_stale(
    client: httpx.AsyncClient, db: AsyncSession
) -> None:
    long_ago = utcnow() - timedelta(days=41)
    old = rows.flag_row(key="old-release", created_at=long_ago, updated_at=long_ago)
    young = rows.flag_row(key="young-release", created_at=utcnow())
    switch = rows.flag_row(key="old-switch", flag_type="kill_switch", created_at=long_ago)
    for flag in (old, young, switch):
        await rows.insert(db, "feature_flags", flag)
    # Evaluated lately, all of them: only the lifetime tells them apart.
    yesterday = hour_of(utcnow() - timedelta(days=1))
    for flag in (old, young, switch):
        db.add(
            FlagEvaluationCount(
                flag_key=flag["key"],
                environment="production",
                variant="on",
                hour=yesterday,
                count=1,
            )
        )
    await db.commit()
    await signed_in_boss(client, db)

    listing = (await client.get("/admin/feature-flags/list")).text
    stale_rows = {
        key
        for key in ("old-release", "young-release", "old-switch")
        if re.search(rf"{key}.*?</tr>", listing, re.S)
        and ">stale</span>" in re.search(rf"{key}.*?</tr>", listing, re.S)[0]
    }
    details = (await client.get(f"/admin/feature-flags/details/{old['id']}")).text

    assert stale_rows == {"old-release"}
    assert ">stale</span>" in details


def run_cli(settings: Settings, *args: str) -> Result:
    environment = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": str(TEST_SECRET_KEY),
        "BCRYPT_ROUNDS": str(TEST_BCRYPT_ROUNDS),
        "ENV": "development",
    }
    return CliRunner().invoke(cli, list(args), env=environment)


async def test_app_keys_are_made_listed_and_revoked_from_the_command_line(
    settings: Settings, app: Starlette, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    made = await asyncio.to_thread(run_cli, settings, "flags", "create-key", "--name", "ios-prod")
    key = made.stdout.strip()
    await app.state.flags.refresh(force=True)
    with_key = await client.get(FEED, headers={"Authorization": f"Bearer {key}"})
    without = await client.get(FEED)
    listed = await asyncio.to_thread(run_cli, settings, "flags", "list-keys")
    stored = await db.scalar(
        sa.select(RuntimeSetting.value).where(RuntimeSetting.key == CLIENT_KEYS)
    )

    revoked = await asyncio.to_thread(
        run_cli, settings, "flags", "revoke-key", "--name", "ios-prod"
    )
    await app.state.flags.refresh(force=True)
    after = await client.get(FEED, headers={"Authorization": f"Bearer {key}"})
    still_locked = await client.get(FEED)
    listed_after = await asyncio.to_thread(run_cli, settings, "flags", "list-keys")
    unknown = await asyncio.to_thread(run_cli, settings, "flags", "revoke-key", "--name", "nobody")

    assert made.exit_code == 0, made.output
    assert (with_key.status_code, without.status_code) == (200, 401)
    assert "ios-prod" in listed.stdout
    assert key not in listed.stdout
    assert key not in str(stored)
    assert revoked.exit_code == 0
    assert (after.status_code, still_locked.status_code) == (401, 401)
    assert "revoked" in listed_after.stdout
    assert unknown.exit_code != 0
    assert "no active key named 'nobody'" in unknown.output


async def test_the_command_line_makes_a_key_for_an_environment_and_lists_it(
    settings: Settings, app: Starlette, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    flag = rows.flag_row(key="everywhere", platforms=[], rollout_percentage=Decimal(100))
    await rows.insert(db, "feature_flags", flag)
    await db.commit()

    made = await asyncio.to_thread(
        run_cli,
        settings,
        "flags",
        "create-key",
        "--name",
        "ios-staging",
        "--environment",
        "staging",
    )
    unknown = await asyncio.to_thread(
        run_cli, settings, "flags", "create-key", "--name", "ios-qa", "--environment", "qa"
    )
    listed = await asyncio.to_thread(run_cli, settings, "flags", "list-keys")
    await app.state.flags.refresh(force=True)
    answer = await client.get(FEED, headers={"X-API-Key": made.stdout.strip()})

    assert made.exit_code == 0, made.output
    assert "key 'ios-staging' for staging created" in made.stderr
    assert unknown.exit_code != 0
    assert "there is no environment 'qa'; pick one of development, staging, production" in (
        unknown.output
    )
    assert "ios-staging\tstaging\tcreated" in listed.stdout
    assert "ios-qa" not in listed.stdout
    # Written around the app's doors, the flag has no staging state: it reads as off there.
    assert answer.json()["flags"] == {}
