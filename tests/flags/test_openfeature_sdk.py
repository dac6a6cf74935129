"""A real OpenFeature client (the Python SDK with its OFREP provider) against a real server,
through an app key of each environment."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import ErrorCode
from openfeature.flag_evaluation import Reason
from sqlalchemy.orm import selectinload

from audit import trail
from core.database import Database
from core.settings import Settings
from flags.client_keys import create_key
from flags.environments import copy_into
from models import FeatureFlag
from models.flags import FlagEnvironmentState
from tests.databases import TEST_SECRET_KEY
from tests.test_processes import free_port, running, wait_until_up

ENVIRONMENTS = ("development", "staging", "production")


@pytest.fixture(params=ENVIRONMENTS)
async def flags(clean_database: Database, request: pytest.FixtureRequest) -> tuple[str, str]:
    """The flags, in every environment as in production but for `where`, whose one variant
    carries the environment's name; and a key of the environment asked for."""
    environment = request.param
    async with clean_database.session() as db, db.begin():
        made = [
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
            FeatureFlag(
                key="where",
                name="Where",
                enabled=True,
                rollout_percentage=Decimal(100),
                variants=[{"name": "here", "weight": 1, "payload": "production"}],
            ),
        ]
        db.add_all(made)
        await db.flush()
        for state in await db.scalars(
            sa.select(FlagEnvironmentState).options(
                selectinload(FlagEnvironmentState.flag),
                selectinload(FlagEnvironmentState.environment),
            )
        ):
            copy_into(state.flag, state)
            if state.flag.key == "where":
                state.variants = [{"name": "here", "weight": 1, "payload": state.environment.key}]
    async with clean_database.session() as db, db.begin():
        return environment, await create_key(db, f"sdk-{environment}", trail.SYSTEM, environment)


@pytest.fixture
def server(settings: Settings, tmp_path: Path, flags: tuple[str, str]) -> Iterator[str]:
    port = free_port()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        yield base


def test_the_openfeature_sdk_evaluates_our_flags(server: str, flags: tuple[str, str]) -> None:
    environment, key = flags
    api.set_provider(OFREPProvider(base_url=server, headers_factory=lambda: {"X-API-Key": key}))
    client = api.get_client()
    ios_user = EvaluationContext(targeting_key="user-42", attributes={"platform": "ios"})

    checkout = client.get_boolean_details("new-checkout", False, ios_user)
    web = client.get_boolean_value(
        "new-checkout", False, EvaluationContext("user-42", {"platform": "web"})
    )
    colour = client.get_string_details("button-colour", "grey", ios_user)
    missing = client.get_boolean_details("no-such-flag", False, ios_user)
    no_key = client.get_boolean_details("half", False, EvaluationContext())
    where = client.get_string_details("where", "nowhere", ios_user)

    assert (checkout.value, checkout.reason) == (True, Reason.TARGETING_MATCH)
    assert web is False
    assert colour.value in ("red", "blue")
    assert colour.variant == colour.value
    assert colour.reason == Reason.SPLIT
    assert (missing.value, missing.error_code) == (False, ErrorCode.FLAG_NOT_FOUND)
    assert (no_key.value, no_key.error_code) == (False, ErrorCode.TARGETING_KEY_MISSING)
    assert (where.value, where.variant) == (environment, "here")
    api.clear_providers()
