"""OFREP event streams (ADR-0008): a server-sent event when an environment's answers change.

The bulk OFREP answer and the mobile feed advertise the stream in `eventStreams`. A browser's
EventSource cannot send headers, so the advertised URL carries a token: the app key's hash,
signed, never the key. The stream sends only notifications; the client re-fetches its
answers from the door it polls today, with its key, and the event's etag as the query's
`flagConfigEtag`: a worker that has not loaded that version yet looks before answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from api.client_keys import NoEnvironmentError, NoKeyError, presented_key, serving
from api.operations import APP, Answer, Operation
from api.schemas.ofrep import EventStreamQuery, OfrepErrorBody, RefetchEvaluation
from auth.tokens import Keys, sign, unsign
from flags.client_keys import key_hash
from flags.snapshot import Served, Snapshot
from flags.store import FlagStore
from flags.streams import Listener, StreamHub

log = logging.getLogger(__name__)

PATH = "/ofrep/v1/event-stream"
TOKEN_PURPOSE = "flag-event-stream"  # noqa: S105 - a signing salt, not a secret
INACTIVITY_DELAY_S = 120
"""Advertised: a client hidden this long (a backgrounded tab or app) closes its stream and
re-fetches when it is back, so idle devices hold no connection."""
RETRY_MS = 2_000
"""How soon EventSource reconnects after the stream ends (the server restarting, say)."""
NO_KEY = "-"
"""What the token signs while no app key is needed."""


def stream_token(request: Request) -> str:
    """The token a stream is opened with, for the key this request brought."""
    key = presented_key(request)
    return sign(
        Keys.of(request.app.state.settings), TOKEN_PURPOSE, key_hash(key) if key else NO_KEY
    )


REFETCH_PARAM = "flagConfigEtag"
_REFETCH_MARK = REFETCH_PARAM.encode() + b"="


async def caught_up(request: Request, served: Served) -> bool:
    """True when this worker loaded newer flags for a re-fetch an event triggered, so the
    door must look up what it serves again. The stream that told the client may be on
    another worker or server, one that heard of the change first (`FlagStore.catch_up`).
    A poll, which has no `flagConfigEtag`, pays one substring test."""
    query = request.scope["query_string"]
    if _REFETCH_MARK not in query:
        return False
    told = dict(parse_qsl(query.decode("latin-1"))).get(REFETCH_PARAM)
    if not told:
        return False
    store: FlagStore = request.app.state.flags
    return await store.catch_up(served.environment, told)


MEMO_LIMIT = 1_000
"""Hosts and keys whose `eventStreams` an environment's snapshot keeps rendered."""


def event_streams(request: Request, served: Served) -> list[dict[str, Any]]:
    """The `eventStreams` of an answer to `request`: a URL opening a stream of the same
    environment's changes with the same key. Rendered once per host and key while the
    snapshot lasts: the doors answer it on every poll."""
    memo: dict[tuple[Any, ...], list[dict[str, Any]]] = served.memo.setdefault(PATH, {})
    asked = (request.scope["scheme"], request.headers.get("host"), presented_key(request))
    found = memo.get(asked)
    if found is None:
        url = request.url_for("ofrep-event-stream").include_query_params(
            token=stream_token(request)
        )
        found = [{"type": "sse", "url": str(url), "inactivityDelaySec": INACTIVITY_DELAY_S}]
        if len(memo) < MEMO_LIMIT:
            memo[asked] = found
    return found


class EventStream(Response):
    """The open stream: a `refetchEvaluation` message each time the environment's version
    moves (coalesced to the latest), a comment line as heartbeat, and an end when the
    client goes, its key is revoked, it cannot keep up, or the server stops."""

    media_type = "text/event-stream"

    def __init__(
        self,
        hub: StreamHub,
        listener: Listener,
        last_event_id: str | None,
        *,
        heartbeat_s: float,
        send_timeout_s: float,
    ) -> None:
        # As StreamingResponse does: no body set, so no Content-Length is declared.
        self.status_code = 200
        self.background = None
        self.init_headers({"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
        self.hub, self.listener, self.last_event_id = hub, listener, last_event_id
        self.heartbeat_s, self.send_timeout_s = heartbeat_s, send_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        listener = self.listener
        watcher = asyncio.create_task(self._until_gone(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._write(send, b"retry: %d\n\n" % RETRY_MS)
            sent = self.last_event_id
            while not listener.closed:
                version = self.hub.version(listener.environment)
                # A client reconnecting from an older version hears of the newer one at once;
                # a new client has just fetched its answers and waits for the next change.
                if version is not None and sent is not None and version.id != sent:
                    await self._write(send, version.event)
                sent = version.id if version is not None else sent
                try:
                    # asyncio.timeout, not wait_for: no task made per wait, on every stream.
                    async with asyncio.timeout(self.heartbeat_s):
                        await listener.wake.wait()
                except TimeoutError:
                    await self._write(send, b": keep-alive\n\n")
                listener.wake.clear()
            await self._write(send, b"", more_body=False)
        except _SlowClientError:
            log.warning("flag event stream dropped: the client stopped reading")
        finally:
            self.hub.leave(listener)
            watcher.cancel()

    async def _write(self, send: Send, body: bytes, *, more_body: bool = True) -> None:
        # A client that stopped reading fills its socket's buffers and the send waits: the
        # stream is dropped (EventSource reconnects) rather than held with its buffer.
        try:
            async with asyncio.timeout(self.send_timeout_s):
                await send({"type": "http.response.body", "body": body, "more_body": more_body})
        except TimeoutError:
            raise _SlowClientError from None

    async def _until_gone(self, receive: Receive) -> None:
        with contextlib.suppress(Exception):
            while (await receive())["type"] != "http.disconnect":
                pass
        self.listener.close()


class _SlowClientError(Exception):
    pass


def _failure(status: int, code: str, details: str) -> Response:
    return JSONResponse({"errorCode": code, "errorDetails": details}, status_code=status)


def _reads(request: Request, snapshot: Snapshot) -> tuple[Served, str | None]:
    """The environment a stream follows and the key hash it was opened with: from the
    token in its URL, or a key in its headers as on the other flag doors."""
    token = request.query_params.get("token")
    if token is None:
        served = serving(request, snapshot, request.app.state.settings)
        key = presented_key(request)
        return served, key_hash(key) if key and snapshot.keys_required else None
    signed = unsign(Keys.of(request.app.state.settings), TOKEN_PURPOSE, token)
    if signed is None:
        raise NoKeyError
    if not snapshot.keys_required:
        # Until the first key is issued the stream, like the doors, reads the default.
        serving(request, snapshot, request.app.state.settings)
        assert snapshot.default is not None  # serving() raised otherwise
        return snapshot.default, None
    served = snapshot.client_keys.get(signed)
    if served is None:
        raise NoKeyError
    return served, signed


async def event_stream(request: Request) -> Response:
    store: FlagStore = request.app.state.flags
    if not store.loaded:
        return _failure(503, "GENERAL", "Flags are loading; try again shortly.")
    try:
        served, key = _reads(request, store.snapshot)
    except NoKeyError:
        return _failure(401, "UNAUTHORIZED", "Open the stream at the URL eventStreams gave.")
    except NoEnvironmentError:
        return _failure(503, "GENERAL", "FLAGS_ENVIRONMENT names no flag environment.")
    hub = store.streams
    listener = hub.listen(served.environment, key)
    if listener is None:
        return _failure(503, "GENERAL", "This server holds as many streams as it may.")
    settings = request.app.state.settings
    return EventStream(
        hub,
        listener,
        request.headers.get("last-event-id"),
        heartbeat_s=settings.flag_stream_heartbeat_s,
        send_timeout_s=settings.flag_stream_send_timeout_s,
    )


operations = [
    Operation(
        method="GET",
        path=PATH,
        name="ofrep-event-stream",
        summary="OFREP event stream: a refetchEvaluation event when the flags change",
        tag="OFREP",
        description=(
            "Server-sent events (OFREP ADR-0008). Open it at the URL the bulk evaluation's "
            "`eventStreams` gives (it carries a token for the app key); each `message` event's "
            "data is a refetchEvaluation, its id the flags' version: reconnecting with "
            "Last-Event-ID of an older version gets one event at once. Comment lines keep "
            "the connection alive."
        ),
        responses={
            200: Answer(
                "The stream: text/event-stream, one message per change.",
                RefetchEvaluation,
                media_type="text/event-stream",
            ),
            401: Answer("No token or key that works.", OfrepErrorBody, codes=("UNAUTHORIZED",)),
            503: Answer(
                "Flags are loading, or the server holds as many streams as it may.",
                OfrepErrorBody,
                codes=("GENERAL",),
            ),
        },
        security=APP,
        endpoint=event_stream,
        query=EventStreamQuery,
    )
]
