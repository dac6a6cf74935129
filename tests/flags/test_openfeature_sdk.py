"""A real OpenFeature client (the Python SDK with its OFREP provider) against a real server."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason

from core.database import Database
from core.settings import Settings
from models import FeatureFlag
from tests.databases import TEST_SECRET_KEY
from tests.test_processes import free_port, running, wait_until_up


@pytest.fixture
async def flags(clean_database: Database) -> None:
    async with clean_database.session() as db, db.begin():
        db.add_all(
            [
                FeatureFlag(
                    key="new-checkout",
                    name="Checkout",
                    enabled=True,
                    rollout_percentage=Decimal(100),
                    platforms=["ios"],
                ),
                FeatureFlag(
                    key="button-colour",
                    name="Colour",
                    enabled=True,
                    rollout_percentage=Decimal(100),
                    variants=[
                        {"name": "red", "weight": 1, "payload": "red"},
                        {"name": "blue", "weight": 1, "payload": "blue"},
                    ],
                ),
                FeatureFlag(key="half", name="Half", enabled=True, rollout_percentage=Decimal(50)),
            ]
        )


@pytest.fixture
def server(settings: Settings, tmp_path: Path, flags: None) -> Iterator[str]:
    port = free_port()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        yield base


def test_the_openfeature_sdk_evaluates_our_flags(server: str) -> None:
    api.set_provider(OFREPProvider(base_url=server))
    client = api.get_client()
    ios_user = EvaluationContext(targeting_key="user-42", attributes={"platform": "ios"})

    checkout = client.get_boolean_details("new-checkout", False, ios_user)
    web = client.get_boolean_value(
        "new-checkout", False, EvaluationContext("user-42", {"platform": "web"})
    )
    colour = client.get_string_details("button-colour", "grey", ios_user)
    missing = client.get_boolean_details("no-such-flag", False, ios_user)
    no_key = client.get_boolean_details("half", False, EvaluationContext())

    assert (checkout.value, checkout.reason) == (True, Reason.TARGETING_MATCH)
    assert web is False
    assert colour.value in ("red", "blue")
    assert colour.variant == colour.value
    assert colour.reason == Reason.SPLIT
    assert (missing.value, missing.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
    assert (no_key.value, no_key.error_code) == (False, ErrorCode.TARGETING_KEY_MISSING)
    api.clear_providers()
