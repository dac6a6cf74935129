"""OFREP event streams (ADR-0008): the answers advertise a stream, and an open stream hears of
every change to its environment's answers, on real servers with two workers.

Streams are read from `serve` itself: httpx's ASGI transport gathers a whole body before it
answers, and an event stream has no end.
"""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette

from api.event_stream import EventStream
from app import create_app
from audit import trail
from core.database import Database
from core.settings import Settings
from flags.client_keys import create_key, revoke_key
from flags.store import POLL_INTERVAL_S
from flags.streams import StreamHub
from models.flags import FeatureFlag, FlagEnvironment, FlagEnvironmentState
from tests.databases import TEST_SECRET_KEY
from tests.flags.test_refresh import add_flag, set_enabled
from tests.tcp_proxy import TcpProxy, through_proxy
from tests.test_processes import free_port, running, wait_until_up

BULK = "/ofrep/v1/evaluate/flags"
FEED = "/api/feature-flags/mobile/active"
HEARTBEAT_S = 0.3
WITHIN_S = 1.0
"""How soon a change must reach an open stream (the issue's promise)."""


@dataclass
class Event:
    id: str | None = None
    event: str | None = None
    retry: str | None = None
    data: str = ""
    comments: list[str] = field(default_factory=list)

    @property
    def message(self) -> dict[str, Any]:
        return json.loads(self.data)


class Stream:
    """An open event stream, read line by line as a browser's EventSource would."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.lines = response.aiter_lines()

    async def next(self, within_s: float) -> Event:
        """The next event or comment block, as delimited by a blank line."""
        block = Event()
        async with asyncio.timeout(within_s):
            async for line in self.lines:
                if not line:
                    if block.id or block.data or block.comments or block.event or block.retry:
                        return block
                    continue
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    block.comments.append(value)
                elif name == "data":
                    block.data += value
                elif name in ("id", "event", "retry"):
                    setattr(block, name, value)
        raise EOFError("the stream ended")

    async def until_end(self, within_s: float) -> None:
        """Read on until the stream ends (EOFError) or `within_s` passes (TimeoutError)."""
        deadline = time.monotonic() + within_s
        while True:
            await self.next(max(deadline - time.monotonic(), 0.01))

    async def next_message(self, within_s: float) -> Event:
        deadline = time.monotonic() + within_s
        while True:
            block = await self.next(max(deadline - time.monotonic(), 0.01))
            if block.data:
                return block


@asynccontextmanager
async def opened(url: str, **headers: str) -> AsyncIterator[Stream]:
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream("GET", url, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = Stream(response)
        first = await stream.next(5)
        assert first.retry == "2000"
        yield stream


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": str(TEST_SECRET_KEY),
        "FLAG_STREAM_HEARTBEAT_S": str(HEARTBEAT_S),
    }
    folder = tmp_path_factory.mktemp("streams")
    with running(["serve", "--port", str(port), "--workers", "2"], env, folder) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        yield base


async def advertised(base: str, **headers: str) -> str:
    async with httpx.AsyncClient(base_url=base) as client:
        answer = await client.post(BULK, json={"context": {"targetingKey": "u1"}}, headers=headers)
    assert answer.status_code == 200, answer.text
    (entry,) = answer.json()["eventStreams"]
    return entry["url"]


async def until_every_worker(
    base: str, wanted: Callable[[dict[str, Any]], bool], within_s: float, **headers: str
) -> None:
    """Six fresh connections in a row (so both workers) get a bulk answer that is `wanted`."""
    deadline = time.monotonic() + within_s
    while True:
        answers = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=base) as client:
                got = await client.post(BULK, json={"context": {}}, headers=headers)
                answers.append(wanted(got.json()))
        if all(answers):
            return
        assert time.monotonic() < deadline, "a worker still answers as before"
        await asyncio.sleep(0.05)


async def until_served(base: str, key: str, present: bool = True, **headers: str) -> None:
    """Both workers have loaded the flags as the test left them."""

    def served(answer: dict[str, Any]) -> bool:
        return (key in {f["key"] for f in answer.get("flags", [])}) == present

    await until_every_worker(base, served, within_s=10, **headers)


async def test_the_bulk_answer_and_the_feed_advertise_the_same_stream(
    app: Starlette, client: httpx.AsyncClient
) -> None:
    await app.state.flags.refresh(force=True)

    bulk = (await client.post(BULK, json={"context": {}})).json()
    feed = (await client.get(FEED)).json()

    (entry,) = bulk["eventStreams"]
    assert entry["type"] == "sse"
    assert entry["inactivityDelaySec"] == 120
    url = httpx.URL(entry["url"])
    assert url.path == "/ofrep/v1/event-stream"
    assert url.params["token"]
    assert feed["eventStreams"] == bulk["eventStreams"]


async def test_a_change_reaches_streams_on_both_workers_within_a_second(
    clean_database: Database, server: str
) -> None:
    await add_flag(clean_database, "pushed", platforms=[])
    await until_served(server, "pushed")
    url = await advertised(server)
    # Four connections: the kernel spreads them over the two workers.
    async with (
        opened(url) as first,
        opened(url) as second,
        opened(url) as third,
        opened(url) as fourth,
    ):
        await set_enabled(clean_database, "pushed", False)
        changed = time.monotonic()
        events = [await s.next_message(5) for s in (first, second, third, fourth)]
        took = time.monotonic() - changed

    assert took < WITHIN_S, f"the last stream heard of the change after {took:.2f} s"
    assert {e.event for e in events} == {"message"}
    assert len({e.id for e in events}) == 1, "every worker names the new version alike"
    message = events[0].message
    assert message["type"] == "refetchEvaluation"
    assert message["etag"] == events[0].id
    assert abs(message["lastModified"] - time.time()) < 60
    # The refetch may reach the other worker, which on SQLite learns of the change
    # at its next revision poll: every worker must answer the new value within one.
    await until_every_worker(
        server,
        lambda answer: {f["key"]: f["value"] for f in answer["flags"]}["pushed"] is False,
        within_s=POLL_INTERVAL_S * 2,
    )


async def test_reconnecting_from_an_older_version_hears_of_the_newer_at_once(
    clean_database: Database, server: str
) -> None:
    await add_flag(clean_database, "resumed", platforms=[])
    await until_served(server, "resumed")
    url = await advertised(server)
    async with opened(url) as stream:
        await set_enabled(clean_database, "resumed", False)
        older = (await stream.next_message(5)).id
        await set_enabled(clean_database, "resumed", True)
        current = (await stream.next_message(5)).id
    assert older != current

    async with opened(url, **{"Last-Event-ID": older}) as behind:
        caught_up = await behind.next(HEARTBEAT_S / 2)
    async with opened(url, **{"Last-Event-ID": current}) as level:
        nothing_new = await level.next(HEARTBEAT_S * 3)

    assert caught_up.id == current
    assert caught_up.message["type"] == "refetchEvaluation"
    assert nothing_new.data == ""
    assert nothing_new.comments == ["keep-alive"]


async def test_a_change_in_another_environment_is_not_heard(
    clean_database: Database, server: str
) -> None:
    await add_flag(clean_database, "elsewhere", platforms=[])
    await until_served(server, "elsewhere")
    url = await advertised(server)
    async with opened(url) as production:
        async with clean_database.session() as db, db.begin():
            state = await db.scalar(
                sa.select(FlagEnvironmentState)
                .join(FlagEnvironment)
                .join(FeatureFlag)
                .where(FeatureFlag.key == "elsewhere", FlagEnvironment.key == "staging")
            )
            state.enabled = True
            state.revision += 1
        # Heartbeats only, for longer than a change takes to arrive.
        deadline = time.monotonic() + WITHIN_S * 1.5
        heard = []
        while time.monotonic() < deadline:
            heard.append(await production.next(HEARTBEAT_S * 3))
    assert heard
    assert all(block.data == "" for block in heard)


async def until_keys_required(base: str) -> None:
    """Both workers have loaded the key: a request without one is refused everywhere."""
    deadline = time.monotonic() + 10
    while True:
        statuses = []
        for _ in range(6):
            async with httpx.AsyncClient(base_url=base) as client:
                statuses.append((await client.post(BULK, json={"context": {}})).status_code)
        if set(statuses) == {401}:
            return
        assert time.monotonic() < deadline, "the workers did not load the key in time"
        await asyncio.sleep(0.1)


async def reopened_once_every_worker_knows(url: str) -> httpx.Response:
    """The stream's URL asked again until six fresh connections in a row are refused: the
    worker that ended the stream knew of the revocation first, the other within a poll."""
    deadline = time.monotonic() + 10
    while True:
        answers = []
        for _ in range(6):
            async with (
                httpx.AsyncClient(timeout=5) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:  # an open stream is left unread
                    await response.aread()
                answers.append(response)
        if all(answer.status_code == 401 for answer in answers):
            return answers[-1]
        assert time.monotonic() < deadline, "a worker still opened the revoked key's stream"
        await asyncio.sleep(0.1)


async def issue(database: Database, name: str, environment: str = "production") -> str:
    async with database.session() as db, db.begin():
        return await create_key(db, name, trail.SYSTEM, environment)


async def test_with_keys_a_stream_needs_its_token_and_ends_when_the_key_is_revoked(
    clean_database: Database, server: str
) -> None:
    key = await issue(clean_database, "ios-stream")
    await until_keys_required(server)
    url = await advertised(server, **{"X-API-Key": key})
    bare = httpx.URL(url).copy_remove_param("token")
    forged = httpx.URL(url).copy_set_param("token", "production.forged")
    async with httpx.AsyncClient(timeout=5) as client:
        refused = [(await client.get(u)).status_code for u in (bare, forged)]
        by_header = await client.get(bare, headers={"X-API-Key": "wrong"})

    async with opened(url) as stream:
        async with clean_database.session() as db, db.begin():
            await revoke_key(db, "ios-stream", trail.SYSTEM)
        with pytest.raises(EOFError):
            await stream.until_end(10)
    after = await reopened_once_every_worker_knows(url)

    assert refused == [401, 401]
    assert by_header.status_code == 401
    assert after.status_code == 401
    assert after.json()["errorCode"] == "UNAUTHORIZED"


async def test_a_client_that_stops_reading_is_dropped_and_forgotten() -> None:
    hub = StreamHub(limit=10)
    listener = hub.listen("production", None)
    assert listener is not None
    stream = EventStream(hub, listener, None, heartbeat_s=0.01, send_timeout_s=0.2)
    started = asyncio.Event()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            return
        started.set()
        await asyncio.Event().wait()  # the client's buffers are full: never drains

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    began = time.monotonic()
    await asyncio.wait_for(stream({"type": "http"}, receive, send), 5)

    assert started.is_set()
    assert time.monotonic() - began < 2
    assert hub.open == 0


async def test_a_worker_holds_no_more_streams_than_its_limit() -> None:
    hub = StreamHub(limit=2)
    held = [hub.listen("production", None), hub.listen("staging", None)]
    refused = hub.listen("production", None)
    hub.leave(held[0])
    again = hub.listen("production", None)

    assert None not in held
    assert refused is None
    assert again is not None
    assert hub.open == 2


async def test_stopping_the_server_ends_open_streams_at_once(
    backend: str, settings: Settings, tmp_path: Path
) -> None:
    if backend != "sqlite":
        pytest.skip("the server's shutdown is the same on both databases")
    port = free_port()
    env = {"DATABASE_URL": settings.database_url, "SECRET_KEY": str(TEST_SECRET_KEY)}
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(base, process)
        async with opened(await advertised(base)) as stream:
            process.send_signal(signal.SIGTERM)
            stopped = time.monotonic()
            with pytest.raises((EOFError, httpx.RemoteProtocolError)):
                await stream.until_end(10)
            ended = time.monotonic() - stopped
        await asyncio.to_thread(process.wait, 10)
        exited = time.monotonic() - stopped

    assert ended < 3, f"the stream held the shutdown for {ended:.1f} s"
    # uvicorn raises the signal again once it has stopped, as its exit status.
    assert process.returncode == -signal.SIGTERM
    assert exited < 5, f"the server took {exited:.1f} s to stop"


async def test_cors_answers_on_the_flag_doors_only(
    settings: Settings, clean_database: Database
) -> None:
    allowed = "https://app.example.com"
    app = create_app(replace(settings, flags_cors_origins=(allowed,)))
    await app.state.flags.refresh(force=True)
    transport = httpx.ASGITransport(app=app)
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type, x-api-key, if-none-match",
    }
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        ok = await client.options(BULK, headers={"Origin": allowed, **preflight})
        other = await client.options(BULK, headers={"Origin": "https://evil.example", **preflight})
        answer = await client.post(BULK, json={"context": {}}, headers={"Origin": allowed})
        feed = await client.get(FEED, headers={"Origin": allowed})
        admin = await client.get("/admin/login", headers={"Origin": allowed})
        staff_api = await client.options(
            "/api/v1/auth/login", headers={"Origin": allowed, **preflight}
        )
    await app.state.database.dispose()

    assert ok.status_code == 200
    assert ok.headers["access-control-allow-origin"] == allowed
    assert "x-api-key" in ok.headers["access-control-allow-headers"].lower()
    assert "if-none-match" in ok.headers["access-control-allow-headers"].lower()
    assert int(ok.headers["access-control-max-age"]) >= 600
    assert "access-control-allow-origin" not in other.headers
    assert answer.headers["access-control-allow-origin"] == allowed
    assert "etag" in answer.headers["access-control-expose-headers"].lower()
    assert feed.headers["access-control-allow-origin"] == allowed
    assert not any(h.startswith("access-control-") for h in admin.headers)
    assert not any(h.startswith("access-control-") for h in staff_api.headers)


async def test_without_origins_set_no_door_answers_cors(client: httpx.AsyncClient) -> None:
    answer = await client.options(
        BULK,
        headers={"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"},
    )
    assert not any(h.startswith("access-control-") for h in answer.headers)


async def test_streams_stay_open_through_a_database_outage_and_hear_what_changed(
    backend: str, settings: Settings, clean_database: Database, proxy: TcpProxy, tmp_path: Path
) -> None:
    if backend != "postgresql":
        pytest.skip("the outage is PostgreSQL's, through a proxy the test cuts")
    await add_flag(clean_database, "weathered", platforms=[])
    port = free_port()
    env = {
        "DATABASE_URL": through_proxy(settings, proxy.port).database_url,
        "SECRET_KEY": str(TEST_SECRET_KEY),
        "FLAG_STREAM_HEARTBEAT_S": str(HEARTBEAT_S),
    }
    with running(["serve", "--port", str(port)], env, tmp_path) as process:
        base = f"http://127.0.0.1:{port}"
        # In a thread: the proxy runs on this test's loop, and the server starts through it.
        await asyncio.to_thread(wait_until_up, base, process)
        async with opened(await advertised(base)) as stream:
            await proxy.cut()
            # Longer than the flags take to be marked stale: the stream only beats.
            during = [await stream.next(HEARTBEAT_S * 3) for _ in range(8)]
            await set_enabled(clean_database, "weathered", False)
            await proxy.restore()
            event = await stream.next_message(10)
        async with httpx.AsyncClient(base_url=base) as client:
            after = (await client.post(BULK, json={"context": {}})).json()

    assert all(block.comments == ["keep-alive"] for block in during)
    assert event.message["type"] == "refetchEvaluation"
    assert {f["key"]: f["value"] for f in after["flags"]}["weathered"] is False
