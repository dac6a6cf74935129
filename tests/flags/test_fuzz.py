"""Whatever an app sends, the flag doors answer it or say clearly why not: never a 500."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from tests import rows

FEED = "/api/feature-flags/mobile/active"
BULK = "/ofrep/v1/evaluate/flags"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    # The app and its flags are read, never changed, by every example.
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

names = st.sampled_from(
    ["platform", "app_version", "user_id", "attr.country", "attr.tier", "attr.", "unknown"]
) | st.text(max_size=12)
values = st.sampled_from(["ios", "web", "4.2.0", "1.0.0-beta.1", "US", ""]) | st.text(max_size=300)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=12,
)
contexts = st.dictionaries(
    st.sampled_from(["targetingKey", "platform", "appVersion", "country"]) | st.text(max_size=12),
    json_values,
)


@pytest.fixture
async def doors(app: Starlette, client: httpx.AsyncClient, db: AsyncSession) -> httpx.AsyncClient:
    for row in (
        rows.flag_row(key="everyone", platforms=[], rollout_percentage=Decimal(100)),
        rows.flag_row(key="half", platforms=[], rollout_percentage=Decimal(50)),
        rows.flag_row(
            key="rules",
            platforms=["ios"],
            min_app_version="4.0.0",
            rules=[
                {"attribute": "country", "operator": "in", "values": ["US"]},
                {"attribute": "tier", "operator": "gte", "values": [2]},
                {"attribute": "appVersion", "operator": "semver_lt", "values": ["9.0.0"]},
                {"attribute": "tags", "operator": "contains", "values": ["beta"]},
            ],
        ),
        rows.flag_row(
            key="colours",
            variants=[
                {"name": "red", "weight": 1, "payload": "#f00"},
                {"name": "blue", "weight": 3, "payload": "#00f"},
            ],
        ),
    ):
        await rows.insert(db, "feature_flags", row)
    await db.commit()
    await app.state.flags.refresh(force=True)
    return client


@FUZZ
@given(params=st.lists(st.tuples(names, values), max_size=8))
async def test_any_feed_query_is_answered_or_refused_clearly(
    doors: httpx.AsyncClient, params: list[tuple[str, str]]
) -> None:
    response = await doors.get(FEED, params=params)

    assert response.status_code in (200, 400), response.text
    body = response.json()
    if response.status_code == 400:
        assert body["error"] == "invalid_request"
        assert body["message"]
    else:
        assert set(body) == {"revision", "flags", "eventStreams"}


@FUZZ
@given(context=contexts)
async def test_any_ofrep_context_is_answered_or_refused_clearly(
    doors: httpx.AsyncClient, context: dict[str, Any]
) -> None:
    body = json.dumps({"context": context}).encode()

    bulk = await doors.post(BULK, content=body, headers={"Content-Type": "application/json"})
    single = await doors.post(
        f"{BULK}/rules", content=body, headers={"Content-Type": "application/json"}
    )

    assert bulk.status_code in (200, 400), bulk.text
    assert single.status_code in (200, 400), single.text
    if bulk.status_code == 400:
        assert bulk.json()["errorCode"] == "INVALID_CONTEXT"
    else:
        assert {item["key"] for item in bulk.json()["flags"]} == {
            "everyone",
            "half",
            "rules",
            "colours",
        }


@FUZZ
@given(raw=st.binary(max_size=200))
async def test_any_ofrep_body_is_answered_or_refused_clearly(
    doors: httpx.AsyncClient, raw: bytes
) -> None:
    response = await doors.post(BULK, content=raw, headers={"Content-Type": "application/json"})

    assert response.status_code in (200, 400), response.text
    if response.status_code == 400:
        assert response.json()["errorCode"] in ("PARSE_ERROR", "INVALID_CONTEXT")
