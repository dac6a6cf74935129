"""A re-fetch an event stream triggered never brings back the answers it was told are gone.

The stream that tells a client of a change may be held by one worker while its re-fetch
reaches another that has not heard of the change yet. The client sends the event's etag as
`flagConfigEtag` (OFREP ADR-0008); a worker that does not serve that version looks at the
database before answering. Here "the other worker" is a second store on the same database,
refreshed after the change, and the app under test is a worker whose refresh loop has not
run since.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from audit import trail
from core.database import Database
from flags.client_keys import create_key
from flags.store import FlagStore
from models.flags import PRODUCTION
from tests.flags.test_refresh import FEED, add_flag, set_enabled

BULK = "/ofrep/v1/evaluate/flags"
ONE = "/ofrep/v1/evaluate/flags/checkout"
ASKED = {"context": {"targetingKey": "user-1"}}


async def version_heard_elsewhere(database: Database) -> str:
    """The etag a stream on a worker that has loaded the latest flags sends."""
    other = FlagStore(database)
    await other.refresh(force=True)
    version = other.streams.version(PRODUCTION)
    assert version is not None
    return version.id


@pytest.fixture
async def behind(app: Starlette, clean_database: Database) -> str:
    """The app serves `checkout` on; it has been turned off since, and another worker's
    stream has told clients so: the etag it sent."""
    await add_flag(clean_database, "checkout", platforms=[])
    await app.state.flags.refresh(force=True)
    await set_enabled(clean_database, "checkout", False)
    return await version_heard_elsewhere(clean_database)


@pytest.fixture
def statements(app: Starlette) -> Iterator[list[str]]:
    """The statements the app's own database engine runs."""
    ran: list[str] = []

    def note(*args: object) -> None:
        ran.append(str(args[2]))

    engine = app.state.database.engine.sync_engine
    sa.event.listen(engine, "before_cursor_execute", note)
    yield ran
    sa.event.remove(engine, "before_cursor_execute", note)


async def test_a_poll_is_answered_from_what_the_worker_has(
    behind: str, client: httpx.AsyncClient
) -> None:
    # What the race looked like: without the event's etag, the worker answers as it was.
    assert "checkout" in (await client.get(FEED)).json()["flags"]
    assert (await client.post(BULK, json=ASKED)).json()["flags"][0]["value"] is True


async def test_the_feed_refetched_with_the_events_etag_has_the_change(
    behind: str, client: httpx.AsyncClient
) -> None:
    before = await client.get(FEED)

    after = await client.get(FEED, params={"flagConfigEtag": behind})

    assert after.status_code == 200
    assert "checkout" not in after.json()["flags"]
    assert after.json()["revision"] > before.json()["revision"]
    assert after.headers["etag"] != before.headers["etag"]


async def test_ofrep_refetched_with_the_events_etag_has_the_change_not_a_304(
    behind: str, client: httpx.AsyncClient
) -> None:
    held = await client.post(BULK, json=ASKED)

    # The provider sends the ETag it holds and the event's etag together.
    after = await client.post(
        BULK,
        params={"flagConfigEtag": behind},
        json=ASKED,
        headers={"If-None-Match": held.headers["etag"]},
    )

    assert after.status_code == 200
    assert after.json()["flags"][0]["value"] is False
    assert after.json()["flags"][0]["reason"] == "DISABLED"


async def test_a_single_flag_refetched_with_the_events_etag_has_the_change(
    behind: str, client: httpx.AsyncClient
) -> None:
    assert (await client.post(ONE, json=ASKED)).json()["value"] is True

    after = await client.post(ONE, params={"flagConfigEtag": behind}, json=ASKED)

    assert (after.status_code, after.json()["value"]) == (200, False)


async def test_the_version_the_worker_serves_costs_no_look_at_the_database(
    behind: str, client: httpx.AsyncClient, statements: list[str]
) -> None:
    await client.get(FEED, params={"flagConfigEtag": behind})
    looked = len(statements)

    polled = await client.get(FEED)
    refetched = await client.get(FEED, params={"flagConfigEtag": behind})

    assert looked > 0
    assert len(statements) == looked
    assert polled.json() == refetched.json()


async def test_an_etag_no_worker_sent_is_answered_with_what_the_database_holds(
    behind: str, client: httpx.AsyncClient, statements: list[str]
) -> None:
    answer = await client.get(FEED, params={"flagConfigEtag": "not-a-version.0"})
    looks_first = len(statements)
    again = await client.get(FEED, params={"flagConfigEtag": "not-a-version.0"})

    assert answer.status_code == again.status_code == 200
    assert "checkout" not in answer.json()["flags"]
    # Once caught up, an unknown etag costs one look at the revision: one statement.
    assert len(statements) - looks_first == 1


async def test_a_request_without_a_working_key_is_refused_before_any_look(
    app: Starlette, client: httpx.AsyncClient, clean_database: Database, statements: list[str]
) -> None:
    await add_flag(clean_database, "checkout", platforms=[])
    async with clean_database.session() as db, db.begin():
        key = await create_key(db, "ios", trail.SYSTEM)
    await app.state.flags.refresh(force=True)
    await set_enabled(clean_database, "checkout", False)
    told = await version_heard_elsewhere(clean_database)
    ran = len(statements)

    refused = await client.get(FEED, params={"flagConfigEtag": told})
    wrong = await client.get(FEED, params={"flagConfigEtag": told}, headers={"X-API-Key": "x"})
    ran_refused = len(statements)
    answered = await client.get(FEED, params={"flagConfigEtag": told}, headers={"X-API-Key": key})

    assert (refused.status_code, wrong.status_code) == (401, 401)
    assert ran_refused == ran
    assert answered.status_code == 200
    assert "checkout" not in answered.json()["flags"]
