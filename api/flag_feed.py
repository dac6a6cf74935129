"""The mobile app's flag feed: the flags that are on for one platform, version and user.

Answered from the worker's in-memory snapshot; only a re-fetch naming a version the worker
has not loaded yet makes it look at the database (`caught_up`). The query is
read by hand, not through `FeedQuery`, which documents it: this is the hot path, and
`attr.*` parameters are more than a model can name.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.client_keys import NoEnvironmentError, NoKeyError, no_environment, serving
from api.etag import answer_etag, json_answer, matches, not_modified
from api.event_stream import caught_up, event_streams
from api.operations import APP, CACHED, NOT_MODIFIED, Answer, Operation
from api.outcomes import RenderedOutcomes
from api.schemas import Conditional
from api.schemas.errors import ApiErrorBody
from api.schemas.feed import (
    ATTRIBUTE_PREFIX,
    MAX_APP_VERSION,
    MAX_ATTRIBUTE_LENGTH,
    MAX_ATTRIBUTES,
    MAX_USER_ID,
    FeedQuery,
    FlagFeed,
)
from flags.engine import PLATFORMS, Context, Evaluation, evaluate_flags, parse_version
from flags.snapshot import Served
from flags.store import FlagStore
from models.base import utcnow


def _entry(result: Evaluation, _served: Served, _stale: bool) -> dict[str, Any]:
    return {"enabled": True, "variant": result.variant, "value": result.value}


FEED_ENTRIES = RenderedOutcomes(_entry)
"""The feed's entry for each answer that is on, encoded once per snapshot."""


class BadFeedRequestError(ValueError):
    """A parameter the feed cannot use; the message says which and why."""


def error(status: int, code: str, message: str, **headers: str) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


def feed_context(request: Request) -> Context:
    # What `request.query_params` would read, without building its multidict: the feed is
    # asked millions of times, and a repeated name's last value wins just the same.
    pairs = parse_qsl(request.scope["query_string"].decode("latin-1"), keep_blank_values=True)
    params = dict(pairs)
    platform = params.get("platform") or None
    if platform is not None and platform not in PLATFORMS:
        raise BadFeedRequestError(
            f"platform must be one of ios, android, web; got {platform[:40]!r}."
        )
    version = params.get("app_version") or None
    # Refused rather than cut short: a cut could turn a version that is not one into one.
    if version is not None and len(version) > MAX_APP_VERSION:
        raise BadFeedRequestError(f"app_version is longer than {MAX_APP_VERSION} characters.")
    try:
        app_version = parse_version(version) if version else None
    except ValueError:
        raise BadFeedRequestError(
            f"app_version {version[:40]!r} is not a version like 4.2.0."
        ) from None
    user_id = params.get("user_id") or None
    if user_id is not None and len(user_id) > MAX_USER_ID:
        raise BadFeedRequestError(f"user_id is longer than {MAX_USER_ID} characters.")
    attributes: dict[str, Any] = {}
    for name, value in pairs:
        if not name.startswith(ATTRIBUTE_PREFIX):
            continue
        if len(attributes) >= MAX_ATTRIBUTES:
            raise BadFeedRequestError(f"at most {MAX_ATTRIBUTES} attr.* parameters.")
        if len(name) > MAX_ATTRIBUTE_LENGTH or len(value) > MAX_ATTRIBUTE_LENGTH:
            raise BadFeedRequestError(
                f"attr.* names and values are at most {MAX_ATTRIBUTE_LENGTH} characters."
            )
        attributes[name.removeprefix(ATTRIBUTE_PREFIX)] = value
    return Context(user_id, platform, app_version, attributes)


def _ready(request: Request, store: FlagStore) -> Served | Response:
    """The flags to answer from, or the refusal."""
    # Until the flags are loaded nobody knows which keys work: a 503, not a 401, for now.
    if not store.loaded:
        return error(
            503, "unavailable", "Flags are loading; try again shortly.", **{"Retry-After": "5"}
        )
    try:
        return serving(request, store.snapshot, request.app.state.settings)
    except NoKeyError:
        return error(401, "unauthorized", "Send this app's key in X-API-Key.")
    except NoEnvironmentError:
        return error(503, "unavailable", no_environment(store.snapshot), **{"Retry-After": "30"})


async def active_flags(request: Request) -> Response:
    store: FlagStore = request.app.state.flags
    served = _ready(request, store)
    if not isinstance(served, Response) and await caught_up(request, served):
        served = _ready(request, store)
    if isinstance(served, Response):
        return served
    try:
        context = feed_context(request)
    except BadFeedRequestError as bad:
        return error(400, "invalid_request", str(bad))
    now, stale = utcnow(), store.stale
    scope = "private" if context.targeting_key else "public"
    cache_control = f"{scope}, max-age=30, stale-if-error=86400"
    etag = answer_etag(served, stale, now, context, "feed")
    if matches(request, etag):
        return not_modified(etag, cache_control)
    answers = evaluate_flags(served.flags, context, now)
    store.usage.add(served.environment, answers)
    entry = FEED_ENTRIES.of(served, stale)
    flags = {result.key: entry(result) for result in answers if result.on}
    payload: dict[str, Any] = {
        "revision": served.revision,
        "flags": flags,
        "eventStreams": event_streams(request, served),
    }
    if stale:
        payload["stale"] = True
    return json_answer(payload, etag, cache_control)


DESCRIPTION = (
    "The flags that are on for one platform, version and user, from the server's in-memory "
    "snapshot. Attributes for flag rules travel as attr.<name>=<value> query parameters "
    f"(at most {MAX_ATTRIBUTES}, names and values at most {MAX_ATTRIBUTE_LENGTH} characters), "
    "which OpenAPI cannot list. App keys: from the first issued on, one is required, and the "
    "feed answers for the key's environment; until then it answers anyone in development, "
    "and in production only with FLAGS_PUBLIC, for the environment FLAGS_ENVIRONMENT names."
)
operations = [
    Operation(
        method="GET",
        path="/api/feature-flags/mobile/active",
        name="flags-mobile",
        summary="The mobile app's flag feed",
        tag="Flags",
        responses={
            200: Answer("The flags that are on.", FlagFeed, headers=CACHED),
            304: NOT_MODIFIED,
            400: Answer(
                "A parameter the feed cannot use; the message says which.",
                ApiErrorBody,
                codes=("invalid_request",),
            ),
            401: Answer(
                "No valid app key was sent, and one is needed.",
                ApiErrorBody,
                codes=("unauthorized",),
            ),
            503: Answer(
                "Flags are still loading, or FLAGS_ENVIRONMENT names no environment.",
                ApiErrorBody,
                codes=("unavailable",),
                headers=("Retry-After",),
            ),
        },
        security=APP,
        endpoint=active_flags,
        description=DESCRIPTION,
        query=FeedQuery,
        headers=Conditional,
    )
]
