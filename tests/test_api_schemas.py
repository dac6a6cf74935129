"""The models that document the flag doors hold for their real answers, fresh and stale, and
the feed's documented query takes what the door takes: the doors render and read by hand
(hot paths), so nothing else ties them to their models."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette

from api import openapi
from api.schemas.feed import FeedQuery, FlagFeed
from api.schemas.ofrep import BulkEvaluationSuccess, ConfigurationResponse, EvaluationSuccess
from tests.test_openapi import add_flags

FEED = "/api/feature-flags/mobile/active"
OFREP = "/ofrep/v1/evaluate/flags"
CONTEXT = {"context": {"targetingKey": "user-7", "platform": "ios", "appVersion": "4.2"}}


@pytest.fixture
async def flags(app: Starlette, db: AsyncSession) -> None:
    """Every kind of answer (tests/test_openapi.py's flags), loaded into the app's store."""
    await add_flags(db)
    await app.state.flags.refresh(force=True)


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "stale"])
@pytest.mark.usefixtures("flags")
async def test_the_flag_doors_answer_what_their_models_say(
    app: Starlette, client: httpx.AsyncClient, stale: bool
) -> None:
    if stale:
        # Any time since the last good load is then too long: the store serves it as stale.
        app.state.flags.stale_after_s = -1
    asked: list[tuple[httpx.Response, type[BaseModel]]] = [
        (await client.get(FEED, params={"platform": "ios", "user_id": "user-7"}), FlagFeed),
        (await client.post(OFREP, json={}), BulkEvaluationSuccess),
        (await client.post(OFREP, json=CONTEXT), BulkEvaluationSuccess),
        (await client.post(f"{OFREP}/colours", json=CONTEXT), EvaluationSuccess),
        (await client.get("/ofrep/v1/configuration"), ConfigurationResponse),
    ]

    for answer, model in asked:
        assert answer.status_code == 200, answer.text
        model.model_validate(answer.json())  # every model refuses properties it does not name
    feed, bulk = asked[0][0].json(), asked[1][0].json()
    assert feed.get("stale", False) is stale
    assert {"everyone", "colours"} <= set(feed["flags"])
    assert any("errorCode" in item for item in bulk["flags"])
    assert all(
        item["metadata"].get("stale", False) is stale for item in asked[2][0].json()["flags"]
    )


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"platform": ""},
        {"platform": "web"},
        {"platform": "tvos"},
        {"app_version": "4.2.1-beta.1"},
        {"app_version": " 4.2 "},
        {"app_version": "4.02"},
        {"app_version": "4." + "1" * 62},
        {"app_version": "4." + "1" * 63},
        {"user_id": "u" * 256},
        {"user_id": "u" * 257},
    ],
)
@pytest.mark.usefixtures("flags")
async def test_the_documented_feed_query_is_what_the_feed_takes(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    try:
        FeedQuery.model_validate(params)
        documented = True
    except ValidationError:
        documented = False

    answer = await client.get(FEED, params=params)

    assert answer.status_code in (200, 400)
    assert (answer.status_code == 200) == documented


async def test_ofrep_schemas_keep_the_protocols_names(client: httpx.AsyncClient) -> None:
    document = (await client.get(openapi.PATH)).json()
    schemas = document["components"]["schemas"]
    bulk = document["paths"][OFREP]["post"]

    assert {
        "context",
        "evaluationRequest",
        "evaluationSuccess",
        "evaluationFailure",
        "bulkEvaluationSuccess",
        "metadata",
        "configurationResponse",
    } <= set(schemas)
    assert bulk["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/evaluationRequest"
    }
    assert schemas["evaluationRequest"]["properties"]["context"] == {
        "$ref": "#/components/schemas/context"
    }
    assert set(schemas["evaluationSuccess"]["required"]) == {
        "key",
        "value",
        "reason",
        "variant",
        "metadata",
    }
