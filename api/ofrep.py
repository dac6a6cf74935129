"""OpenFeature Remote Evaluation Protocol (OFREP) v1, so OpenFeature SDKs work unchanged.

Bulk and single evaluation from the in-memory snapshot, with the protocol's error shapes:
one flag that cannot be evaluated (say, a split with no targeting key) is reported in its
own entry and never fails the bulk answer. Bodies are read and answers rendered by hand
(the hot path); the models in api.schemas.ofrep document them.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from api.client_keys import NoEnvironmentError, NoKeyError, no_environment, serving
from api.etag import answer_etag, conditional_json, json_answer, matches, not_modified
from api.event_stream import caught_up, event_streams
from api.operations import APP, CACHED, NOT_MODIFIED, PUBLIC, Answer, Operation
from api.outcomes import RenderedOutcomes
from api.schemas import Conditional
from api.schemas.ofrep import (
    MAX_TARGETING_KEY,
    SUPPORTED_TYPES,
    VERSION_ATTRIBUTES,
    BulkEvaluationSuccess,
    CacheInvalidation,
    Capabilities,
    ConfigurationResponse,
    EvaluationRequest,
    EvaluationSuccess,
    FlagEvaluation,
    FlagKey,
    OfrepErrorBody,
    Polling,
    Refetch,
)
from flags.engine import (
    PLATFORMS,
    Context,
    ErrorCode,
    Evaluation,
    Version,
    evaluate,
    evaluate_flags,
    parse_version,
)
from flags.snapshot import Served
from flags.store import FlagStore
from models.base import utcnow

MAX_BODY = 64 * 1024
POLLING_INTERVAL_MS = 30_000


class FlagKeyConvertor(Convertor[str]):
    """Any text, line breaks included. The stock `path` convertor's `.*` stops at a line
    break, so a key holding one fell through to the router's plain 404 instead of OFREP's
    FLAG_NOT_FOUND, and one ending in a line break was read without it: a different flag."""

    regex = "(?s:.*)"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("flag_key", FlagKeyConvertor())


class OfrepError(Exception):
    def __init__(self, status: int, code: str, details: str) -> None:
        super().__init__(details)
        self.status, self.code, self.details = status, code, details


def _failure(status: int, code: str, details: str, key: str | None = None) -> Response:
    body: dict[str, Any] = {"errorCode": code, "errorDetails": details}
    if key is not None:
        body = {"key": key} | body
    return JSONResponse(body, status_code=status)


async def _context(request: Request) -> Context:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise OfrepError(400, "PARSE_ERROR", f"The body is larger than {MAX_BODY} bytes.")
    try:
        # No body at all is an empty context; a blank one is a body that is not JSON.
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise OfrepError(400, "PARSE_ERROR", "The body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise OfrepError(400, "PARSE_ERROR", "The body must be a JSON object.")
    context = body.get("context", {})
    if not isinstance(context, dict):
        raise OfrepError(400, "INVALID_CONTEXT", "context must be an object.")
    attributes = dict(context)
    key = attributes.pop("targetingKey", None)
    if key is not None and (not isinstance(key, str) or len(key) > MAX_TARGETING_KEY):
        raise OfrepError(
            400,
            "INVALID_CONTEXT",
            f"targetingKey must be a string of at most {MAX_TARGETING_KEY} characters.",
        )
    platform = attributes.get("platform")
    if platform is not None and (not isinstance(platform, str) or platform not in PLATFORMS):
        raise OfrepError(400, "INVALID_CONTEXT", "platform must be one of ios, android, web.")
    # appVersion wins when both are sent, but each is checked: one left unread would be
    # invalid input accepted.
    versions = {name: _version(attributes, name) for name in VERSION_ATTRIBUTES}
    app_version = next((versions[name] for name in VERSION_ATTRIBUTES if name in attributes), None)
    return Context(key or None, platform, app_version, attributes)


def _version(attributes: dict[str, Any], name: str) -> Version | None:
    version = attributes.get(name)
    if version is not None and not isinstance(version, str):
        raise OfrepError(400, "INVALID_CONTEXT", f"{name} must be a string.")
    try:
        return parse_version(version) if version else None
    except ValueError:
        raise OfrepError(
            400, "INVALID_CONTEXT", f"{name} {version[:40]!r} is not a version."
        ) from None


def _metadata(served: Served, stale: bool, flag_type: str) -> dict[str, Any]:
    metadata: dict[str, Any] = {"revision": served.revision, "flagType": flag_type}
    if stale:
        metadata["stale"] = True
    return metadata


def _item(result: Evaluation, served: Served, stale: bool) -> dict[str, Any]:
    """The bulk answer's entry for one flag: its evaluation, or why it could not be made."""
    if result.error:
        return {
            "key": result.key,
            "errorCode": result.error.value,
            "errorDetails": "This flag splits users: send a targetingKey.",
        }
    # A flag without variants still names one ("on"/"off"): some OpenFeature providers read
    # `variant` unconditionally.
    return {
        "key": result.key,
        "value": result.value,
        "reason": result.reason.value,
        "variant": result.variant or ("on" if result.on else "off"),
        "metadata": _metadata(served, stale, served.by_key[result.key].flag_type),
    }


BULK_ITEMS = RenderedOutcomes(_item)


def _ready(request: Request) -> tuple[FlagStore, Served | Response]:
    """The flags to answer from, or the refusal."""
    store: FlagStore = request.app.state.flags
    # Until the flags are loaded nobody knows which keys work: a 503, not a 401, for now.
    if not store.loaded:
        return store, _failure(503, "GENERAL", "Flags are loading; try again shortly.")
    try:
        return store, serving(request, store.snapshot, request.app.state.settings)
    except NoKeyError:
        return store, _failure(401, "UNAUTHORIZED", "Send this app's key in X-API-Key.")
    except NoEnvironmentError:
        return store, _failure(503, "GENERAL", no_environment(store.snapshot))


async def evaluate_all(request: Request) -> Response:
    store, served = _ready(request)
    if not isinstance(served, Response) and await caught_up(request, served):
        store, served = _ready(request)
    if isinstance(served, Response):
        return served
    try:
        context = await _context(request)
    except OfrepError as bad:
        return _failure(bad.status, bad.code, bad.details)
    stale, now = store.stale, utcnow()
    cache_control = "private, max-age=30, stale-if-error=86400"
    etag = answer_etag(served, stale, now, context, "ofrep")
    if matches(request, etag):
        return not_modified(etag, cache_control)
    item = BULK_ITEMS.of(served, stale)
    answers = evaluate_flags(served.flags, context, now)
    store.usage.add(served.environment, answers)
    items = [item(answer) for answer in answers]
    for key, why in served.broken.items():
        items.append({"key": key, "errorCode": "GENERAL", "errorDetails": why})
    return json_answer(
        {"flags": items, "eventStreams": event_streams(request, served)}, etag, cache_control
    )


async def evaluate_one(request: Request) -> Response:
    store, served = _ready(request)
    if not isinstance(served, Response) and await caught_up(request, served):
        store, served = _ready(request)
    if isinstance(served, Response):
        return served
    key = request.path_params["key"]
    try:
        context = await _context(request)
    except OfrepError as bad:
        return _failure(bad.status, bad.code, bad.details, key)
    flag = served.by_key.get(key)
    if flag is None:
        if key in served.broken:
            return _failure(500, "GENERAL", served.broken[key], key)
        return _failure(404, "FLAG_NOT_FOUND", f"No flag {key[:100]!r}.", key)
    result = evaluate(flag, context, utcnow())
    store.usage.add(served.environment, (result,))
    if result.error:
        return _failure(
            400, result.error.value, "This flag splits users: send a targetingKey.", key
        )
    return JSONResponse(_item(result, served, store.stale))


CONFIGURATION = ConfigurationResponse(
    name="swipesavvy-admin",
    capabilities=Capabilities(
        cacheInvalidation=CacheInvalidation(
            polling=Polling(enabled=True, minPollingIntervalMs=POLLING_INTERVAL_MS)
        ),
        flagEvaluation=FlagEvaluation(supportedTypes=list(SUPPORTED_TYPES)),
    ),
).model_dump(mode="json")


async def configuration(request: Request) -> Response:
    return conditional_json(request, CONFIGURATION, "public, max-age=300")


UNAUTHORIZED = Answer(
    "No valid app key was sent, and one is needed.", OfrepErrorBody, codes=("UNAUTHORIZED",)
)
TOO_LARGE = Answer(
    "The request body is over the server's limit.", OfrepErrorBody, codes=("GENERAL",)
)
LOADING = Answer(
    "Flags are still loading, or FLAGS_ENVIRONMENT names no environment.",
    OfrepErrorBody,
    codes=("GENERAL",),
)
TAG = "OFREP"
operations = [
    Operation(
        method="POST",
        path="/ofrep/v1/evaluate/flags",
        name="ofrep-bulk",
        summary="OFREP bulk evaluation: every flag for one context",
        tag=TAG,
        responses={
            200: Answer(
                "Every flag; one that cannot be evaluated says why in its own entry.",
                BulkEvaluationSuccess,
                headers=CACHED,
            ),
            304: NOT_MODIFIED,
            400: Answer(
                "The body is not a JSON object, or the context is invalid.",
                OfrepErrorBody,
                codes=("PARSE_ERROR", "INVALID_CONTEXT"),
            ),
            401: UNAUTHORIZED,
            413: TOO_LARGE,
            503: LOADING,
        },
        security=APP,
        endpoint=evaluate_all,
        headers=Conditional,
        query=Refetch,
        body=EvaluationRequest,
        body_required=False,
    ),
    Operation(
        method="POST",
        path="/ofrep/v1/evaluate/flags/{key:flag_key}",
        name="ofrep-one",
        summary="OFREP single flag evaluation",
        tag=TAG,
        responses={
            200: Answer("The flag's value for the context.", EvaluationSuccess),
            400: Answer(
                "The body or context is invalid, or the flag splits users and the context "
                "has no targetingKey.",
                OfrepErrorBody,
                codes=("PARSE_ERROR", "INVALID_CONTEXT", *(code.value for code in ErrorCode)),
                required=("key",),
            ),
            401: UNAUTHORIZED,
            404: Answer(
                "No such flag.", OfrepErrorBody, codes=("FLAG_NOT_FOUND",), required=("key",)
            ),
            413: TOO_LARGE,
            500: Answer(
                "The flag's stored definition cannot be read.",
                OfrepErrorBody,
                codes=("GENERAL",),
                required=("key",),
            ),
            503: LOADING,
        },
        security=APP,
        endpoint=evaluate_one,
        path_params=FlagKey,
        query=Refetch,
        body=EvaluationRequest,
        body_required=False,
    ),
    Operation(
        method="GET",
        path="/ofrep/v1/configuration",
        name="ofrep-configuration",
        summary="OFREP provider configuration",
        tag=TAG,
        responses={
            200: Answer("What this server supports.", ConfigurationResponse, headers=CACHED),
            304: NOT_MODIFIED,
        },
        security=PUBLIC,
        endpoint=configuration,
        headers=Conditional,
    ),
]
