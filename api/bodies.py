"""Reading a JSON request body into its pydantic model: clear 400s, never a 500."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from api.errors import ApiError

NO_NUL = "^[^\\u0000]*$"
"""PostgreSQL cannot store or even compare text holding U+0000."""


def text(max_length: int) -> Any:
    """A string field a database can take, at most `max_length` characters: no NUL, and no
    lone surrogate (JSON's `\\ud800` escape, which no driver can encode: pydantic refuses
    it as `string_unicode`)."""
    return Annotated[str, Field(max_length=max_length, pattern=NO_NUL)]


Body = TypeVar("Body", bound=BaseModel)


async def read_body(request: Request, model: type[Body]) -> Body:
    """The body as `model`; unknown fields are ignored, the first fault is the message."""
    try:
        body: Any = json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "parse_error", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", "The request body must be a JSON object.")
    try:
        return model.model_validate(body)
    except ValidationError as invalid:
        raise ApiError(400, "invalid_request", explain(invalid.errors()[0])) from None


def explain(error: ErrorDetails) -> str:
    """One pydantic error as a sentence naming the field, as a client developer reads it."""
    name = ".".join(str(part) for part in error["loc"])
    kind, context = error["type"], error.get("ctx", {})
    if kind == "missing" or (kind == "string_type" and error["input"] is None):
        return f"'{name}' is required."
    if kind == "string_type":
        return f"'{name}' must be a string."
    if kind == "string_too_long":
        return f"'{name}' is longer than {context['max_length']} characters."
    if kind == "string_pattern_mismatch" and context.get("pattern") == NO_NUL:
        return f"'{name}' must not contain a NUL character."
    if kind == "string_unicode":
        return f"'{name}' is not valid Unicode text."
    return f"'{name}': {error['msg']}."
