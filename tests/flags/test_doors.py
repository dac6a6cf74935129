"""The mobile feed and OFREP: answers from the snapshot, ETag/304, app keys, every error."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

import api.flag_feed
from app import create_app
from core.settings import Settings
from flags.client_keys import create_key
from flags.engine import bucket
from models.base import utcnow
from tests import rows

FEED = "/api/feature-flags/mobile/active"
BULK = "/ofrep/v1/evaluate/flags"


@pytest.fixture
async def flags(app: Starlette, db: AsyncSession) -> dict[str, Any]:
    """A small, known set of flags, loaded into the app's snapshot."""

    def row(**values: Any) -> dict[str, Any]:
        return rows.flag_row(**{"platforms": [], "rollout_percentage": Decimal(100)} | values)

    made = {
        "everyone": row(key="everyone"),
        "ios-only": row(key="ios-only", platforms=["ios"], min_app_version="4.2.0"),
        "half": row(key="half", rollout_percentage=Decimal(50)),
        "off": row(key="off", enabled=False, default_value={"banner": False}),
        "us-only": row(
            key="us-only",
            platforms=[],
            rules=[{"attribute": "country", "operator": "in", "values": ["US"]}],
        ),
        "colours": row(
            key="colours",
            variants=[
                {"name": "red", "weight": 1, "payload": "#f00"},
                {"name": "blue", "weight": 1, "payload": "#00f"},
            ],
        ),
    }
    for row in made.values():
        await rows.insert(db, "feature_flags", row)
    await db.commit()
    await app.state.flags.refresh(force=True)
    return made


def in_half(user: str) -> bool:
    return bucket("half", user) < 5000


async def test_the_feed_lists_the_flags_that_are_on_for_this_user(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    user = next(u for u in (f"user-{n}" for n in range(100)) if in_half(u))

    response = await client.get(
        FEED,
        params={"platform": "ios", "app_version": "4.3.1", "user_id": user, "attr.country": "US"},
    )

    assert response.status_code == 200
    body = response.json()
    assert set(body["flags"]) == {"everyone", "ios-only", "half", "us-only", "colours"}
    assert body["flags"]["everyone"] == {"enabled": True, "variant": None, "value": True}
    assert body["flags"]["colours"]["variant"] in ("red", "blue")
    assert isinstance(body["revision"], int)
    assert response.headers["cache-control"] == "private, max-age=30, stale-if-error=86400"


async def test_the_feed_leaves_out_what_does_not_apply(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    user = next(u for u in (f"user-{n}" for n in range(100)) if not in_half(u))

    response = await client.get(
        FEED, params={"platform": "android", "app_version": "4.3.1", "user_id": user}
    )

    assert set(response.json()["flags"]) == {"everyone", "colours"}


async def test_without_a_user_the_feed_is_public_and_splits_are_left_out(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    response = await client.get(FEED, params={"platform": "ios", "app_version": "5.0"})

    assert set(response.json()["flags"]) == {"everyone", "ios-only"}
    assert response.headers["cache-control"].startswith("public,")


async def test_the_feed_has_a_strong_etag_and_answers_304(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    params = {"platform": "ios", "user_id": "user-7"}
    first = await client.get(FEED, params=params)
    etag = first.headers["etag"]

    again = await client.get(FEED, params=params, headers={"If-None-Match": etag})
    other = await client.get(FEED, params=params, headers={"If-None-Match": '"something-else"'})
    listed = await client.get(FEED, params=params, headers={"If-None-Match": f'"x", {etag}'})

    assert etag.startswith('"')
    assert not etag.startswith("W/")
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert other.status_code == 200
    assert listed.status_code == 304


async def test_a_change_makes_a_new_etag(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, Any]
) -> None:
    before = await client.get(FEED, params={"platform": "web"})
    await rows.insert(
        db,
        "feature_flags",
        rows.flag_row(key="brand-new", platforms=[], rollout_percentage=Decimal(100)),
    )
    await db.commit()
    await app.state.flags.refresh(force=True)

    after = await client.get(
        FEED, params={"platform": "web"}, headers={"If-None-Match": before.headers["etag"]}
    )

    assert after.status_code == 200
    assert "brand-new" in after.json()["flags"]


async def test_every_worker_gives_the_same_etag_for_the_same_question(
    settings: Settings, client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    other_worker = create_app(settings)
    await other_worker.state.flags.refresh(force=True)
    params = {"platform": "ios", "app_version": "4.3.0", "user_id": "user-9", "attr.tier": "gold"}
    transport = httpx.ASGITransport(app=other_worker)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            here = await client.get(FEED, params=params)
            there = await other.get(FEED, params=params)
            revalidated = await other.get(
                FEED, params=params, headers={"If-None-Match": here.headers["etag"]}
            )
    finally:
        await other_worker.state.database.dispose()

    assert here.headers["etag"] == there.headers["etag"]
    assert here.content == there.content
    assert revalidated.status_code == 304


async def test_a_different_question_gets_a_different_etag(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    base = {"platform": "ios", "user_id": "user-9"}
    asked = [base, base | {"user_id": "user-10"}, base | {"attr.country": "US"}, {}]

    etags = [(await client.get(FEED, params=params)).headers["etag"] for params in asked]

    assert len(set(etags)) == len(asked)


async def test_a_scheduled_start_changes_the_answer_and_its_etag(
    app: Starlette,
    client: httpx.AsyncClient,
    db: AsyncSession,
    flags: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    starts = utcnow() + timedelta(hours=1)
    await rows.insert(
        db,
        "feature_flags",
        rows.flag_row(
            key="launch", platforms=[], rollout_percentage=Decimal(100), starts_at=starts
        ),
    )
    await db.commit()
    await app.state.flags.refresh(force=True)
    before = await client.get(FEED, params={"platform": "web"})
    etag = before.headers["etag"]

    monkeypatch.setattr(api.flag_feed, "utcnow", lambda: starts + timedelta(seconds=1))
    after = await client.get(FEED, params={"platform": "web"}, headers={"If-None-Match": etag})

    assert "launch" not in before.json()["flags"]
    assert after.status_code == 200
    assert "launch" in after.json()["flags"]
    assert after.headers["etag"] != etag


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"platform": "windows-phone"}, "platform must be one of ios, android, web"),
        ({"app_version": "four point two"}, "is not a version"),
        ({"user_id": "u" * 10_000}, "user_id is longer than 256"),
        ({f"attr.k{n}": "v" for n in range(51)}, "at most 50 attr.* parameters"),
        ({"attr.country": "x" * 300}, "at most 256 characters"),
        # Once read as its first 64 characters, which made it the valid version "4.2".
        ({"app_version": "4.2" + " " * 61 + "not a version"}, "app_version is longer than 64"),
    ],
)
async def test_bad_feed_parameters_are_a_clear_400(
    client: httpx.AsyncClient, flags: dict[str, Any], params: dict[str, str], message: str
) -> None:
    response = await client.get(FEED, params=params)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert message in response.json()["message"]


async def test_unknown_parameters_are_ignored(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    response = await client.get(
        FEED, params={"platform": "ios", "sdk": "9.9", "experimental": "yes"}
    )

    assert response.status_code == 200


async def test_before_the_first_load_the_feed_says_so(client: httpx.AsyncClient) -> None:
    response = await client.get(FEED)

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_app_keys_once_configured_are_required(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession, flags: dict[str, Any]
) -> None:
    from audit import trail

    key = await create_key(db, "ios-production", trail.SYSTEM)
    await db.commit()
    await app.state.flags.refresh()

    missing = await client.get(FEED)
    wrong = await client.get(FEED, headers={"X-API-Key": "ssk_wrong"})
    header = await client.get(FEED, headers={"X-API-Key": key})
    bearer = await client.post(BULK, json={}, headers={"Authorization": f"Bearer {key}"})
    ofrep_missing = await client.post(BULK, json={})

    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json()["error"] == "unauthorized"
    assert (header.status_code, bearer.status_code) == (200, 200)
    assert ofrep_missing.status_code == 401
    assert key not in str(app.state.flags.snapshot.client_keys)


async def test_ofrep_bulk_evaluates_every_flag_and_reports_errors_per_flag(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    with_user = await client.post(
        BULK,
        json={
            "context": {
                "targetingKey": "user-3",
                "platform": "ios",
                "appVersion": "4.2.0",
                "country": "CA",
            }
        },
    )
    without_user = await client.post(BULK, json={"context": {"platform": "ios"}})

    assert with_user.status_code == 200
    items = {item["key"]: item for item in with_user.json()["flags"]}
    assert set(items) == set(flags)
    assert items["everyone"] | {"metadata": None} == {
        "key": "everyone",
        "value": True,
        "reason": "STATIC",
        "variant": "on",
        "metadata": None,
    }
    assert items["off"]["reason"] == "DISABLED"
    assert items["off"]["value"] == {"banner": False}
    assert items["us-only"]["reason"] == "DEFAULT"
    assert items["colours"]["reason"] == "SPLIT"
    assert items["colours"]["variant"] in ("red", "blue")
    assert "revision" in items["everyone"]["metadata"]
    errors = {item["key"]: item for item in without_user.json()["flags"] if "errorCode" in item}
    assert set(errors) == {"half", "colours"}
    assert errors["half"]["errorCode"] == "TARGETING_KEY_MISSING"
    assert without_user.status_code == 200


async def test_ofrep_bulk_has_etag_and_304(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    body = {"context": {"targetingKey": "user-1"}}
    first = await client.post(BULK, json=body)

    again = await client.post(BULK, json=body, headers={"If-None-Match": first.headers["etag"]})

    assert again.status_code == 304
    assert again.content == b""


async def test_ofrep_single_flag(client: httpx.AsyncClient, flags: dict[str, Any]) -> None:
    found = await client.post(
        f"{BULK}/ios-only",
        json={"context": {"targetingKey": "u", "platform": "ios", "appVersion": "4.2.0"}},
    )
    missing = await client.post(f"{BULK}/no-such-flag", json={"context": {}})
    needs_key = await client.post(f"{BULK}/half", json={"context": {}})

    assert found.status_code == 200
    assert found.json()["value"] is True
    assert found.json()["reason"] == "TARGETING_MATCH"
    assert missing.status_code == 404
    assert missing.json() == {
        "key": "no-such-flag",
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": "No flag 'no-such-flag'.",
    }
    assert needs_key.status_code == 400
    assert needs_key.json()["errorCode"] == "TARGETING_KEY_MISSING"


@pytest.mark.parametrize("key", ["everyone\n", "every\none", "\n"])
async def test_a_key_with_a_line_break_is_no_flag_of_ours(
    client: httpx.AsyncClient, flags: dict[str, Any], key: str
) -> None:
    # The router once stopped the key at a line break: "everyone\n" was read as the flag
    # "everyone", and "every\none" got the router's plain 404 instead of OFREP's.
    response = await client.post(f"{BULK}/{quote(key)}", json={"context": {}})

    assert response.status_code == 404
    assert response.json() == {
        "key": key,
        "errorCode": "FLAG_NOT_FOUND",
        "errorDetails": f"No flag {key!r}.",
    }


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"{not json", "PARSE_ERROR"),
        (b"[]", "PARSE_ERROR"),
        # Once read as no body at all: blank is not JSON.
        (b"\n", "PARSE_ERROR"),
        (b"   ", "PARSE_ERROR"),
        (b'{"context": "me"}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": 42}}', "INVALID_CONTEXT"),
        (b'{"context": {"targetingKey": "' + b"x" * 300 + b'"}}', "INVALID_CONTEXT"),
        (b'{"context": {"platform": "palm"}}', "INVALID_CONTEXT"),
        (b'{"context": {"appVersion": "v-next"}}', "INVALID_CONTEXT"),
        (b'{"context": {"appVersion": 4}}', "INVALID_CONTEXT"),
        (b'{"context": {"app_version": "v-next"}}', "INVALID_CONTEXT"),
        # appVersion wins, but app_version beside it was once not read at all.
        (b'{"context": {"appVersion": "4.2", "app_version": "v-next"}}', "INVALID_CONTEXT"),
        (b'{"context": {"appVersion": null, "app_version": 4}}', "INVALID_CONTEXT"),
    ],
)
async def test_ofrep_bad_requests_use_the_protocol_error_shape(
    client: httpx.AsyncClient, flags: dict[str, Any], content: bytes, code: str
) -> None:
    bulk = await client.post(BULK, content=content, headers={"Content-Type": "application/json"})
    single = await client.post(
        f"{BULK}/everyone", content=content, headers={"Content-Type": "application/json"}
    )

    assert bulk.status_code == single.status_code == 400
    assert bulk.json()["errorCode"] == single.json()["errorCode"] == code
    assert single.json()["key"] == "everyone"
    assert bulk.json()["errorDetails"]


async def test_ofrep_without_a_body_evaluates_an_empty_context(
    client: httpx.AsyncClient, flags: dict[str, Any]
) -> None:
    bulk = await client.post(BULK)
    single = await client.post(f"{BULK}/everyone")

    assert bulk.status_code == single.status_code == 200
    assert single.json()["value"] is True


async def test_ofrep_configuration(client: httpx.AsyncClient) -> None:
    response = await client.get("/ofrep/v1/configuration")

    assert response.status_code == 200
    polling = response.json()["capabilities"]["cacheInvalidation"]["polling"]
    assert polling == {"enabled": True, "minPollingIntervalMs": 30_000}
