"""JSON bodies with a strong ETag, answered 304 when the client already has them."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response


def etag_of(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    return header.strip() == "*" or etag in (tag.strip() for tag in header.split(","))


def conditional_json(request: Request, payload: Any, cache_control: str) -> Response:
    body = orjson.dumps(payload)
    etag = etag_of(body)
    headers = {"ETag": etag, "Cache-Control": cache_control}
    if matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)
