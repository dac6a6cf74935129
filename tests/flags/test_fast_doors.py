"""The flag doors take a short way through the app (`core.fast_doors`): it keeps every layer
a door needs — request id and security headers, allowed hosts, the body limit, the API's
error answers — and nothing of the staff side."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from core.middleware import CONTENT_SECURITY_POLICY
from core.settings import Settings
from tests.flags.test_flag_doors_production import (
    BULK,
    CONFIGURATION,
    FEED,
    ONE,
    PRODUCTION,
    everyone,  # noqa: F401 - the fixture, used by name below
    mobile_app,
    started,
)
from tests.flags.test_usage import stored

pytestmark = pytest.mark.usefixtures("everyone")
PUBLIC_FLAGS = PRODUCTION | {"flags_public": True}


async def test_the_doors_answer_with_the_security_headers_and_the_callers_request_id(
    settings: Settings,
) -> None:
    async with started(settings, **PUBLIC_FLAGS) as app, mobile_app(app) as device:
        sent = {"x-request-id": "device-1234-abcd"}
        answers = [
            await device.get(FEED, params={"user_id": "u1"}, headers=sent),
            await device.post(BULK, json={"context": {"targetingKey": "u1"}}, headers=sent),
            await device.post(ONE, json={"context": {"targetingKey": "u1"}}, headers=sent),
            await device.get(CONFIGURATION, headers=sent),
        ]
        unnamed = await device.get(FEED)

    for answer in answers:
        assert answer.status_code == 200, answer.text
        assert answer.headers["x-request-id"] == "device-1234-abcd"
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["strict-transport-security"].startswith("max-age=")
        # Each header once: the short way adds them as prepared pairs.
        assert answer.headers.get_list("x-content-type-options") == ["nosniff"]
    assert len(unnamed.headers["x-request-id"]) == 32
    assert unnamed.headers["x-request-id"] != "device-1234-abcd"


async def test_a_door_asked_for_another_host_is_refused(settings: Settings) -> None:
    async with started(settings, **PUBLIC_FLAGS) as app, mobile_app(app) as device:
        evil = {"host": "evil.example"}
        refused = [
            await device.get(FEED, headers=evil),
            await device.post(BULK, json={"context": {}}, headers=evil),
            await device.get(CONFIGURATION, headers=evil),
        ]

    for answer in refused:
        assert answer.status_code == 400
        assert answer.text == "Invalid host header"


async def test_a_body_over_the_limit_is_refused_before_anything_is_evaluated(
    settings: Settings, db: AsyncSession
) -> None:
    async with started(settings, **PUBLIC_FLAGS, max_body_bytes=2048) as app:
        async with mobile_app(app) as device:
            big = await device.post(
                BULK, json={"context": {"targetingKey": "u1", "note": "x" * 4096}}
            )
            small = await device.post(BULK, json={"context": {"targetingKey": "u1"}})
        await app.state.flags.usage.flush_if_due(app.state.database, force=True)

    assert big.status_code == 413
    assert "2048" in big.text
    assert small.status_code == 200
    counted = await stored(db)
    assert sum(counted.values()) == 1, "only the accepted request was evaluated"


async def test_a_path_under_the_doors_that_names_none_is_the_apis_404(
    settings: Settings,
) -> None:
    async with started(settings, **PUBLIC_FLAGS) as app, mobile_app(app) as device:
        under_ofrep = await device.get("/ofrep/v1/no-such-door")
        under_feed = await device.get("/api/feature-flags/desktop/active")
        wrong_method = await device.get(BULK)

    assert under_ofrep.status_code == under_feed.status_code == 404
    assert under_ofrep.json()["error"] == under_feed.json()["error"] == "not_found"
    assert wrong_method.status_code == 405
    assert wrong_method.json()["error"] == "method_not_allowed"
