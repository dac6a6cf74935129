"""Strong ETags for flag answers, decided before any flag is evaluated.

An answer is a pure function of the definitions served (the fingerprint of the flags of the
caller's environment), how far the schedule has moved, whether the snapshot is stale, and
the caller's context. The ETag is a digest of exactly those, so a client that already holds
the answer gets its 304 without the flags being evaluated or serialised, and every worker
holding the same flags gives the same ETag for the same question.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from flags.engine import Context
from flags.snapshot import Served


def _digest(*parts: bytes) -> str:
    return '"' + hashlib.blake2b(b"\0".join(parts), digest_size=16).hexdigest() + '"'


def answer_etag(served: Served, stale: bool, now: datetime, context: Context, door: str) -> str:
    """The ETag of `door`'s answer for `context`, from what the answer depends on."""
    asked = orjson.dumps(
        [
            context.targeting_key,
            context.platform,
            str(context.app_version) if context.app_version else None,
            context.attributes,
        ],
        option=orjson.OPT_SORT_KEYS,
    )
    phase = served.schedule_phase(now)
    return _digest(door.encode(), served.fingerprint.encode(), b"%d%d" % (phase, stale), asked)


def matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return header.strip() == "*" or etag in (tag.strip() for tag in header.split(","))


def not_modified(etag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag, "Cache-Control": cache_control})


def json_answer(payload: Any, etag: str, cache_control: str) -> Response:
    return Response(
        orjson.dumps(payload),
        media_type="application/json",
        headers={"ETag": etag, "Cache-Control": cache_control},
    )


def conditional_json(request: Request, payload: Any, cache_control: str) -> Response:
    """A fixed document with an ETag of its bytes; 304 when the client holds it."""
    body = orjson.dumps(payload)
    etag = _digest(body)
    if matches(request, etag):
        return not_modified(etag, cache_control)
    return Response(
        body, media_type="application/json", headers={"ETag": etag, "Cache-Control": cache_control}
    )
