"""Flag environments at the doors: each key reads its environment's states, the default
environment answers without keys, and states stay whole as flags and environments come."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from app import create_app
from audit import trail
from core.settings import ConfigError, Settings, load_settings
from flags.client_keys import UnknownEnvironmentError, create_key, doors_line, list_keys
from flags.environments import names_problem
from flags.snapshot import CLIENT_KEYS
from models import RuntimeSetting
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState

FEED = "/api/feature-flags/mobile/active"
BULK = "/ofrep/v1/evaluate/flags"
USER = {"user_id": "user-7", "platform": "ios", "app_version": "4.3.0"}
CONTEXT = {"context": {"targetingKey": "user-7", "platform": "ios", "appVersion": "4.3.0"}}


async def environment(db: AsyncSession, key: str) -> FlagEnvironment:
    return (await db.scalars(sa.select(FlagEnvironment).where(FlagEnvironment.key == key))).one()


async def state(db: AsyncSession, flag: FeatureFlag, key: str) -> FlagEnvironmentState:
    found = await db.scalars(
        sa.select(FlagEnvironmentState)
        .join(FlagEnvironment)
        .where(FlagEnvironmentState.flag_id == flag.id, FlagEnvironment.key == key)
    )
    return found.one()


@pytest.fixture
async def flags(app: Starlette, db: AsyncSession) -> dict[str, FeatureFlag]:
    """Two flags made as the screens make them (through the ORM): on in production; in
    staging `checkout` is off and `banner` on with other variant weights and a payload."""
    checkout = FeatureFlag(
        key="checkout", name="Checkout", enabled=True, rollout_percentage=Decimal(100)
    )
    banner = FeatureFlag(
        key="banner",
        name="Banner",
        enabled=False,
        rollout_percentage=Decimal(100),
        variants=[
            {"name": "red", "weight": 1, "payload": "#f00"},
            {"name": "blue", "weight": 0, "payload": "#00f"},
        ],
    )
    db.add_all([checkout, banner])
    await db.commit()
    staged = await state(db, banner, "staging")
    staged.enabled = True
    staged.variants = [
        {"name": "red", "weight": 0, "payload": "#f00"},
        {"name": "blue", "weight": 1, "payload": "#0000ff"},
    ]
    await db.commit()
    await app.state.flags.refresh(force=True)
    return {"checkout": checkout, "banner": banner}


async def keys(app: Starlette, db: AsyncSession) -> dict[str, str]:
    made = {
        name: await create_key(db, f"ios-{name}", trail.SYSTEM, name)
        for name in ("production", "staging", "development")
    }
    await db.commit()
    await app.state.flags.refresh(force=True)
    return made


async def test_a_new_flag_gets_a_state_in_every_environment_off_with_its_definition(
    db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    checkout = flags["checkout"]
    made = {key: await state(db, checkout, key) for key in ("development", "staging")}

    assert {key: s.enabled for key, s in made.items()} == {
        "development": False,
        "staging": False,
    }
    assert {s.rollout_percentage for s in made.values()} == {Decimal("100.00")}
    assert {s.revision for s in made.values()} == {1}
    production_states = await db.scalar(
        sa.select(sa.func.count())
        .select_from(FlagEnvironmentState)
        .join(FlagEnvironment)
        .where(FlagEnvironment.key == "production")
    )
    assert production_states == 0  # production's state is the flag's own row


async def test_each_key_reads_its_environments_states_on_the_feed_and_ofrep(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    made = await keys(app, db)

    feeds = {
        name: await client.get(FEED, params=USER, headers={"X-API-Key": key})
        for name, key in made.items()
    }
    bulks = {
        name: await client.post(BULK, json=CONTEXT, headers={"X-API-Key": key})
        for name, key in made.items()
    }
    single = await client.post(
        f"{BULK}/banner", json=CONTEXT, headers={"X-API-Key": made["staging"]}
    )

    answers = {name: response.json()["flags"] for name, response in feeds.items()}
    assert answers["production"] == {"checkout": {"enabled": True, "variant": None, "value": True}}
    assert answers["staging"] == {
        "banner": {"enabled": True, "variant": "blue", "value": "#0000ff"}
    }
    assert answers["development"] == {}
    ofrep = {
        name: {item["key"]: (item["value"], item["reason"]) for item in r.json()["flags"]}
        for name, r in bulks.items()
    }
    assert ofrep["production"] == {"checkout": (True, "STATIC"), "banner": (False, "DISABLED")}
    assert ofrep["staging"] == {"checkout": (False, "DISABLED"), "banner": ("#0000ff", "SPLIT")}
    assert single.json()["variant"] == "blue"
    etags = {name: response.headers["etag"] for name, response in feeds.items()}
    assert len(set(etags.values())) == 3
    assert len({r.headers["etag"] for r in bulks.values()}) == 3


async def test_an_etag_of_one_environment_is_not_fresh_in_another(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    made = await keys(app, db)
    production = await client.get(FEED, params=USER, headers={"X-API-Key": made["production"]})

    same = await client.get(
        FEED,
        params=USER,
        headers={"X-API-Key": made["production"], "If-None-Match": production.headers["etag"]},
    )
    staging = await client.get(
        FEED,
        params=USER,
        headers={"X-API-Key": made["staging"], "If-None-Match": production.headers["etag"]},
    )

    assert same.status_code == 304
    assert staging.status_code == 200
    assert "banner" in staging.json()["flags"]


async def test_a_change_in_staging_leaves_productions_answers_as_they_were(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    made = await keys(app, db)
    before = await client.get(FEED, params=USER, headers={"X-API-Key": made["production"]})
    staged = await state(db, flags["checkout"], "staging")
    staged.enabled = True
    await db.commit()
    await app.state.flags.refresh()

    after = await client.get(FEED, params=USER, headers={"X-API-Key": made["production"]})
    staging = await client.get(FEED, params=USER, headers={"X-API-Key": made["staging"]})

    assert after.json()["flags"] == before.json()["flags"]
    assert after.json()["revision"] == before.json()["revision"] + 1
    assert set(staging.json()["flags"]) == {"checkout", "banner"}


async def test_a_key_issued_before_environments_reads_production(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    key = await create_key(db, "ios-old", trail.SYSTEM)
    row = await db.scalar(sa.select(RuntimeSetting).where(RuntimeSetting.key == CLIENT_KEYS))
    row.value = [{k: v for k, v in entry.items() if k != "environment"} for entry in row.value]
    await db.commit()
    await app.state.flags.refresh(force=True)

    answer = await client.get(FEED, params=USER, headers={"X-API-Key": key})

    assert set(answer.json()["flags"]) == {"checkout"}
    assert [entry["environment"] for entry in await list_keys(db)] == ["production"]


async def test_a_key_for_an_environment_that_does_not_exist_is_refused_and_not_made(
    db: AsyncSession,
) -> None:
    with pytest.raises(UnknownEnvironmentError, match="there is no environment 'qa'"):
        await create_key(db, "ios-qa", trail.SYSTEM, "qa")
    await db.rollback()

    assert await list_keys(db) == []


@pytest.fixture
async def staging_by_default(
    settings: Settings, flags: dict[str, FeatureFlag]
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(replace(settings, flags_environment="staging"))
    await app.state.flags.refresh(force=True)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client
    await app.state.database.dispose()


async def test_without_keys_the_doors_answer_for_the_environment_the_setting_names(
    staging_by_default: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    staging = await staging_by_default.get(FEED, params=USER)
    staging_ofrep = await staging_by_default.post(BULK, json=CONTEXT)
    production = await client.get(FEED, params=USER)

    assert set(staging.json()["flags"]) == {"banner"}
    banner = next(i for i in staging_ofrep.json()["flags"] if i["key"] == "banner")
    assert banner["value"] == "#0000ff"
    assert set(production.json()["flags"]) == {"checkout"}


async def test_a_default_environment_that_does_not_exist_is_a_503_that_says_so(
    settings: Settings, flags: dict[str, FeatureFlag], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = replace(settings, flags_environment="qa")
    app = create_app(wrong)
    await app.state.flags.refresh(force=True)
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            feed = await c.get(FEED, params=USER)
            ofrep = await c.post(BULK, json=CONTEXT)
    finally:
        await app.state.database.dispose()
    level, line = doors_line(wrong, app.state.flags.snapshot)

    assert feed.status_code == 503
    assert "FLAGS_ENVIRONMENT names no flag environment ('qa')" in feed.json()["message"]
    assert (ofrep.status_code, ofrep.json()["errorCode"]) == (503, "GENERAL")
    assert level == logging.WARNING
    assert "FLAGS_ENVIRONMENT names no flag environment ('qa')" in line


async def test_a_new_environment_gets_a_state_for_every_flag_off(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    db.add(FlagEnvironment(key="qa", name="QA", position=25))
    await db.commit()
    key = await create_key(db, "ios-qa", trail.SYSTEM, "qa")
    await db.commit()
    await app.state.flags.refresh(force=True)

    made = {flag.key: await state(db, flag, "qa") for flag in flags.values()}
    answer = await client.post(BULK, json=CONTEXT, headers={"X-API-Key": key})

    assert {key: s.enabled for key, s in made.items()} == {"checkout": False, "banner": False}
    assert made["banner"].variants == flags["banner"].variants
    assert {item["reason"] for item in answer.json()["flags"]} == {"DISABLED"}


async def test_renaming_a_flags_variants_renames_them_in_every_environment(
    db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    banner = flags["banner"]
    banner.variants = [
        {"name": "blue", "weight": 5, "payload": "#00f"},
        {"name": "green", "weight": 5, "payload": "#0f0"},
    ]
    await db.commit()

    staged = await state(db, banner, "staging")

    assert staged.variants == [
        {"name": "blue", "weight": 1, "payload": "#0000ff"},  # staging's own weight kept
        {"name": "green", "weight": 0, "payload": "#0f0"},  # new: the flag's payload, no users
    ]
    assert staged.revision == 2
    assert names_problem(staged.variants, banner) is None
    assert "Keep the flag's variant names (blue, green)" in str(
        names_problem([{"name": "red", "weight": 1}], banner)
    )


async def test_a_state_that_does_not_compile_is_broken_in_its_environment_only(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    made = await keys(app, db)
    staged = await state(db, flags["checkout"], "staging")
    staged.min_app_version = "not a version"
    await db.commit()
    await app.state.flags.refresh(force=True)

    staging = await client.post(
        f"{BULK}/checkout", json=CONTEXT, headers={"X-API-Key": made["staging"]}
    )
    production = await client.post(
        f"{BULK}/checkout", json=CONTEXT, headers={"X-API-Key": made["production"]}
    )

    assert (staging.status_code, staging.json()["errorCode"]) == (500, "GENERAL")
    assert (production.status_code, production.json()["value"]) == (200, True)


async def test_deleting_a_flag_deletes_its_states(
    db: AsyncSession, flags: dict[str, FeatureFlag]
) -> None:
    await db.delete(flags["checkout"])
    await db.commit()

    left = await db.scalars(sa.select(FlagEnvironmentState.flag_id).distinct())

    assert set(left) == {flags["banner"].id}


def test_the_engine_sees_a_state_with_the_flags_key_and_type() -> None:
    from flags.definition import compile_flag

    flag = FeatureFlag(key="k", flag_type="experiment", enabled=False, rollout_percentage=0)
    staged = FlagEnvironmentState(
        enabled=True,
        rollout_percentage=Decimal(30),
        platforms=["web"],
        allow_list=[],
        deny_list=[],
        rules=[],
        variants=[],
        revision=4,
    )

    compiled: Any = compile_flag(flag, staged)

    assert (compiled.key, compiled.flag_type) == ("k", "experiment")
    assert (compiled.enabled, compiled.threshold, compiled.revision) == (True, 3000, 4)
    assert compiled.platforms == frozenset({"web"})


def test_the_default_environment_setting_is_read_as_a_key(tmp_path: Path) -> None:
    read = load_settings(
        {"FLAGS_ENVIRONMENT": "Staging"},
        env_file=tmp_path / ".env",
        secret_key_file=tmp_path / "key",
    )
    default = load_settings({}, env_file=tmp_path / ".env", secret_key_file=tmp_path / "key")

    with pytest.raises(ConfigError) as refused:
        load_settings(
            {"FLAGS_ENVIRONMENT": "not a key"},
            env_file=tmp_path / ".env",
            secret_key_file=tmp_path / "key",
        )

    assert (read.flags_environment, default.flags_environment) == ("staging", "production")
    assert str(refused.value) == (
        "FLAGS_ENVIRONMENT must be an environment's key (production, staging, ...), "
        "got 'not a key'."
    )
