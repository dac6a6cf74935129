"""The JSON API's OpenAPI document: served, valid, complete, and true to the app.

schemathesis fuzzes every operation in the document against the app in-process, on both
databases, without credentials and with valid ones, with valid and invalid input: no server
error, no undocumented status code, content type or body, and no invalid input accepted.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st
from schemathesis.core.result import Err
from schemathesis.python import asgi
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.applications import Starlette
from starlette.routing import Route

from analytics.asked import DAY_IN_RANGE
from api import dashboard, event_stream, openapi
from api.schemas.versions import VERSION_OR_EMPTY
from app import create_app
from audit import trail
from core.database import Database
from core.settings import Settings
from flags.client_keys import create_key
from flags.engine import parse_version
from models.flag_segments import FlagSegment
from models.flags import FeatureFlag
from tests import rows, staff
from tests.analytics import world
from tests.clients import client_for

pytestmark = pytest.mark.long
MAX_EXAMPLES = 25
"""Fuzzed examples per operation, valid and invalid together, on top of the coverage phase's
boundary cases."""
SPARE_SESSIONS = 8
"""Signing out ends the session it is sent with: each logout the fuzzer makes spends one of
these, so the token every other request carries stays valid."""
LOGIN = "/api/v1/admin/auth/login"
LOGOUT = "/api/v1/admin/auth/logout"
SEGMENTS = "/api/v1/admin/segments"
WEEK = {"from": "2026-11-02", "to": "2026-11-08"}
ROUTED = re.compile(r"^/(api/|ofrep/|healthz$|readyz$)")
CONVERTER = re.compile(r"{(\w+):\w+}")


@dataclass
class Credentials:
    """What a fuzzed request carries: nothing, or a staff access token and an app key."""

    headers: dict[str, str] = field(default_factory=dict)
    spare_tokens: list[str] = field(default_factory=list)

    def for_case(self, case: schemathesis.Case) -> dict[str, str]:
        if not self.headers or case.operation.path != LOGOUT:
            return self.headers
        spare = self.spare_tokens.pop() if self.spare_tokens else "spent"
        return self.headers | {"Authorization": f"Bearer {spare}"}


async def add_flags(db: AsyncSession) -> None:
    """Flags that give every kind of answer: on for all, a split needing a targeting key,
    rules on platform, version and attributes, weighted variants, and off."""
    for row in (
        rows.flag_row(key="everyone", platforms=[], rollout_percentage=Decimal(100)),
        rows.flag_row(key="half", platforms=[], rollout_percentage=Decimal(50)),
        rows.flag_row(
            key="rules",
            platforms=["ios"],
            min_app_version="4.0.0",
            rollout_percentage=Decimal(100),
            rules=[
                {"attribute": "country", "operator": "in", "values": ["US"]},
                {"attribute": "tier", "operator": "gte", "values": [2]},
            ],
        ),
        rows.flag_row(
            key="colours",
            platforms=[],
            rollout_percentage=Decimal(100),
            variants=[
                {"name": "red", "weight": 25, "payload": "#f00"},
                {"name": "blue", "weight": 75, "payload": {"hex": "#00f"}},
            ],
        ),
        rows.flag_row(key="off", enabled=False, default_value={"banner": False}),
    ):
        await rows.insert(db, "feature_flags", row)
    await db.commit()


async def sign_in_many(settings: Settings, email: str, count: int) -> list[str]:
    """Access tokens from `count` API sign-ins, through an app of their own: the fuzzed
    app runs on schemathesis's event loop and must not open connections on this one."""
    async with client_for(settings) as client:
        tokens = []
        for _ in range(count):
            answer = await client.post(LOGIN, json={"email": email, "password": staff.PASSWORD})
            assert answer.status_code == 200, answer.text
            tokens.append(answer.json()["access_token"])
    return tokens


@pytest.fixture(params=["anonymous", "signed-in"])
def signed_in(request: pytest.FixtureRequest) -> bool:
    return request.param == "signed-in"


@pytest.fixture
async def fuzzed(
    settings: Settings, clean_database: Database, db: AsyncSession, signed_in: bool
) -> AsyncIterator[tuple[Starlette, Credentials]]:
    """The app under test, with flags, a staff account and an app key issued (so the flag
    doors want one), and the credentials the fuzzer's requests carry."""
    await add_flags(db)
    account = await staff.make_staff(db, "superadmin")
    app_key = await create_key(db, "schemathesis", trail.SYSTEM)
    await db.commit()
    credentials = Credentials()
    if signed_in:
        token, *spares = await sign_in_many(settings, account.email, 1 + SPARE_SESSIONS)
        credentials = Credentials(
            {"Authorization": f"Bearer {token}", "X-API-Key": app_key}, spares
        )
    app = create_app(settings)
    try:
        yield app, credentials
    finally:
        # schemathesis keeps the app's lifespan running until asked: ending it stops the
        # background jobs and closes the pool on the loop that opened it.
        asgi.shutdown_lifespans()


@pytest.fixture
def credentials(fuzzed: tuple[Starlette, Credentials]) -> Credentials:
    return fuzzed[1]


@pytest.fixture
def api_schema(
    request: pytest.FixtureRequest, fuzzed: tuple[Starlette, Credentials], signed_in: bool
) -> schemathesis.BaseSchema:
    # schemathesis (4.32) names each operation's report by rewriting `node._nodeid`, which
    # pytest 9.2 no longer has (it keeps `_id`): give it one to read and rewrite.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    app, _ = fuzzed
    config = schemathesis.Config.from_dict(
        {
            "seed": 20_261_101,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
                # Anonymous requests get made-up credentials of every kind the document
                # names; signed-in ones carry the real ones, from `Credentials`.
                "with-security-parameters": not signed_in,
            },
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
            "checks": {
                "enabled": False,
                "not_a_server_error": {"enabled": True},
                "status_code_conformance": {"enabled": True},
                "content_type_conformance": {"enabled": True},
                "response_schema_conformance": {"enabled": True},
                "negative_data_rejection": {"enabled": True},
            },
        }
    )
    # An event stream never ends, and the in-process client waits for a whole body: the
    # stream is tested on a real server (tests/flags/test_event_streams.py).
    loaded = schemathesis.openapi.from_asgi(openapi.PATH, app, config=config)
    return loaded.exclude(path=event_stream.PATH)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_the_api_keeps_to_its_document(case: schemathesis.Case, credentials: Credentials) -> None:
    case.call_and_validate(headers=credentials.for_case(case))


async def test_the_document_is_served_valid_and_cacheable(client: httpx.AsyncClient) -> None:
    served = await client.get(openapi.PATH)
    again = await client.get(openapi.PATH, headers={"If-None-Match": served.headers["etag"]})

    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    assert served.headers["cache-control"].startswith("public,")
    assert again.status_code == 304
    document = served.json()
    assert document["openapi"].startswith("3.1.")
    loaded = schemathesis.openapi.from_dict(document)
    loaded.validate()
    problems = [
        str(result.err()) for result in loaded.get_all_operations() if isinstance(result, Err)
    ]
    assert problems == []


async def test_every_api_route_is_in_the_document_and_nothing_else(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    routed = {
        (CONVERTER.sub(r"{\1}", route.path), method.lower())
        for route in app.routes
        if isinstance(route, Route) and ROUTED.match(route.path)
        for method in route.methods or ()
        if method != "HEAD"
    }
    described = {
        (path, method)
        for path, operations in (await client.get(openapi.PATH)).json()["paths"].items()
        for method in operations
    }

    assert described == routed


@pytest.mark.parametrize(
    ("day", "allowed"),
    [
        ("1969-12-31", False),
        ("1970-01-01", True),
        ("2026-11-01", True),
        ("2999-12-31", True),
        ("3000-01-01", False),
        ("0001-01-01", False),
        ("20261101", False),
    ],
)
def test_the_documented_days_are_the_days_the_dashboard_takes(day: str, allowed: bool) -> None:
    documented = re.search(DAY_IN_RANGE, day) is not None
    try:
        dashboard.read_query({"from": day, "to": day})
        taken = True
    except dashboard.BadQueryError:
        taken = False

    assert documented == taken == allowed


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    text=st.text(alphabet="0123456789.-+aZ \t", max_size=14)
    | st.sampled_from(["4", "4.2", "4.2.0", "01.2.3", "1.2.3-beta.01", "1.2.3+b.1", " 1.0 "])
)
def test_the_documented_version_pattern_is_the_versions_the_doors_take(text: str) -> None:
    try:
        taken = not text or parse_version(text) is not None
    except ValueError:
        taken = False

    # An ECMA-262 pattern anchored with ^ and $ matches the whole text, as fullmatch does.
    assert (re.fullmatch(VERSION_OR_EMPTY[1:-1], text) is not None) == taken


async def add_desk_and_campaigns(db: AsyncSession, user: uuid.UUID) -> None:
    """What the world leaves empty: an agent's answered and resolved ticket, a merchant
    waiting for approval, and campaigns in two currencies that ran in the week."""
    agent = await staff.make_staff(db, "support")
    came_in = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
    ticket = rows.ticket_row(
        user,
        assignee_id=agent.id,
        status="resolved",
        priority="high",
        created_at=came_in,
        updated_at=came_in,
        first_response_at=came_in + timedelta(minutes=7),
        resolved_at=came_in + timedelta(hours=5),
    )
    await rows.insert(db, "support_tickets", ticket)
    await rows.insert(db, "support_tickets", rows.ticket_row(user, created_at=came_in))
    await rows.insert(
        db, "merchants", rows.merchant_row(status="pending", approved_at=None, created_at=came_in)
    )
    for currency in ("USD", "EUR"):
        campaign = await rows.insert(
            db, "ai_campaigns", rows.campaign_row(currency=currency, spend=Decimal("45.50"))
        )
        await rows.insert(
            db, "campaign_performance", rows.performance_row(campaign["id"], day=date(2026, 11, 4))
        )
    await db.commit()


async def test_real_answers_keep_to_the_document(
    app: Starlette, client: httpx.AsyncClient, db: AsyncSession
) -> None:
    """The fuzzer meets an empty dashboard and unknown flag keys; here every door answers
    with real figures and flags, and each answer is checked against the document."""
    built = await world.build(db)
    await add_desk_and_campaigns(db, built.users["u1"])
    await add_flags(db)
    db.add(FlagSegment(key="beta-testers", name="Beta testers", allow_list=["user-7"]))
    await db.execute(
        sa.update(FeatureFlag)
        .where(FeatureFlag.key == "colours")
        .values(included_segments=["beta-testers"])
    )
    await db.commit()
    await app.state.flags.refresh(force=True)
    account = await staff.make_staff(db, "superadmin")
    credentials = {"email": account.email, "password": staff.PASSWORD}
    tokens = (await client.post(LOGIN, json=credentials)).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    context = {"context": {"targetingKey": "user-7", "platform": "ios", "appVersion": "4.2"}}
    feed = {"platform": "ios", "app_version": "4.2", "user_id": "user-7", "attr.country": "US"}
    asked = [
        ("POST", LOGIN, {"json": credentials}, 200),
        (
            "POST",
            "/api/v1/admin/auth/refresh",
            {"json": {"refresh_token": tokens["refresh_token"]}},
            200,
        ),
        ("GET", "/api/v1/admin/auth/me", {"headers": bearer}, 200),
        ("GET", "/api/v1/admin/auth/demo-credentials", {}, 200),
        ("GET", "/healthz", {}, 200),
        ("GET", "/readyz", {}, 200),
        *(("GET", path, {"params": WEEK, "headers": bearer}, 200) for path in dashboard.PATHS),
        ("GET", "/api/feature-flags/mobile/active", {"params": feed}, 200),
        ("POST", "/ofrep/v1/evaluate/flags", {"json": {}}, 200),
        ("POST", "/ofrep/v1/evaluate/flags/{key}", {"json": context}, 200),
        ("GET", "/ofrep/v1/configuration", {}, 200),
        ("GET", "/api/v1/admin/flags", {"params": {"limit": 1}, "headers": bearer}, 200),
        ("GET", "/api/v1/admin/flags/{key}", {"headers": bearer}, 200),
        (
            "PATCH",
            "/api/v1/admin/flags/{key}",
            {"json": {"rollout_percentage": 40, "reason": "Fewer users"}, "headers": bearer},
            202,
        ),
        (
            "PATCH",
            "/api/v1/admin/flags/{key}",
            {"json": {"platforms": ["tv"]}, "headers": bearer},
            422,
        ),
        ("GET", SEGMENTS, {"params": {"limit": 1}, "headers": bearer}, 200),
        ("GET", f"{SEGMENTS}/{{key}}", {"headers": bearer}, 200),
        (
            "POST",
            SEGMENTS,
            {
                "json": {"key": "staff", "name": "Staff", "allow_list": ["user-1"]},
                "headers": bearer,
            },
            201,
        ),
        (
            "PATCH",
            f"{SEGMENTS}/{{key}}",
            {"json": {"deny_list": ["user-9"]}, "headers": bearer | {"If-Match": "*"}},
            200,
        ),
        (
            "PATCH",
            f"{SEGMENTS}/{{key}}",
            {
                "json": {"rules": [{"attribute": "x", "operator": "like", "values": []}]},
                "headers": bearer,
            },
            422,
        ),
        ("DELETE", f"{SEGMENTS}/{{key}}", {"headers": bearer}, 409),
        ("POST", LOGOUT, {"headers": bearer}, 204),
    ]
    document = schemathesis.openapi.from_dict((await client.get(openapi.PATH)).json())

    for method, path, request, status in asked:
        key = "beta-testers" if path.startswith(SEGMENTS) else "colours"
        answer = await client.request(method, path.format(key=key), **request)
        assert answer.status_code == status, (path, answer.text)
        document[path][method].validate_response(answer)
