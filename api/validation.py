"""Reading a JSON body against a small schema: clear 400s, never a 500."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from api.errors import ApiError


@dataclass(frozen=True)
class Text:
    """A required (or optional) string field with a length limit, holding text a database
    can take: no NUL (PostgreSQL cannot store or even compare text holding U+0000) and no
    lone surrogate (JSON's `\\ud800` escape, which no driver can encode)."""

    max_length: int
    required: bool = True


async def json_object(request: Request, schema: dict[str, Text]) -> dict[str, str | None]:
    """The body's fields named in `schema`, checked; unknown fields are ignored."""
    try:
        body: Any = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "parse_error", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    values: dict[str, str | None] = {}
    for name, rule in schema.items():
        value = body.get(name)
        if value is None:
            if rule.required:
                raise ApiError(400, "invalid_request", f"'{name}' is required.")
            values[name] = None
            continue
        if not isinstance(value, str):
            raise ApiError(400, "invalid_request", f"'{name}' must be a string.")
        if len(value) > rule.max_length:
            raise ApiError(
                400, "invalid_request", f"'{name}' is longer than {rule.max_length} characters."
            )
        if "\x00" in value:
            raise ApiError(400, "invalid_request", f"'{name}' must not contain a NUL character.")
        try:
            value.encode()
        except UnicodeEncodeError:
            raise ApiError(400, "invalid_request", f"'{name}' is not valid Unicode text.") from None
        values[name] = value
    return values
